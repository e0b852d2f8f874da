"""Bad requests, bad apps, limits and timeouts over real sockets; the server keeps serving."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import httpx
import pytest

from tests.support import apps
from tests.support.server import Running, read_response, recv_until_closed, serve, until


def _exchange(srv: Running, raw: bytes) -> bytes:
    with srv.connect() as sock:
        sock.sendall(raw)
        return recv_until_closed(sock)


def _still_serves(srv: Running) -> None:
    assert httpx.get(srv.url + "/after").status_code == 200


def _serve(app: Any, **settings: Any) -> Any:
    """Serve ``app``, except that /after always answers 200 (to prove the server still works)."""

    async def routed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/after":
            await apps.hello(scope, receive, send)
        else:
            await app(scope, receive, send)

    return serve(routed, **settings)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\n Folded: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\nHost: t\n\n", 400),
        (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-Big: " + b"v" * 70000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
    ],
    ids=["cl-and-te", "obs-fold", "bare-lf", "space-before-colon", "no-host", "http2-version",
         "unknown-coding", "long-line", "big-head", "many-headers"],
)
def test_malformed_request_is_refused_with_connection_close(raw: bytes, status: int) -> None:
    with serve(apps.hello) as srv:
        data = _exchange(srv, raw)
        assert data.startswith(b"HTTP/1.1 %d " % status), data[:80]
        assert b"connection: close" in data.lower()
        _still_serves(srv)


def test_body_over_the_limit_is_413() -> None:
    with serve(apps.echo_body, limit_request_body=1000) as srv:
        data = _exchange(srv, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 413 ")
        _still_serves(srv)


def test_nothing_after_a_bad_request_reaches_the_app() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await apps.hello(scope, receive, send)

    smuggle = (b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
    with serve(app) as srv:
        data = _exchange(srv, smuggle)
    assert data.startswith(b"HTTP/1.1 400 ")
    assert seen == []


def test_earlier_pipelined_request_is_answered_before_the_bad_one() -> None:
    with serve(apps.path_echo) as srv:
        data = _exchange(srv, b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\nGET /bad HTTP/1.1\r\n\r\n")
    first = data.index(b"HTTP/1.1 200")
    second = data.index(b"HTTP/1.1 400")
    assert first < second


def test_app_exception_before_response_is_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="fastasgi.error"), serve(app) as srv:
        response = httpx.get(srv.url)
        assert response.status_code == 500
        assert response.headers["connection"] == "close"
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_app_exception_after_response_started_closes_the_connection() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("boom")

    with _serve(app) as srv:
        data = _exchange(srv, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 200")
        assert not data.endswith(b"0\r\n\r\n"), "an aborted response must not look complete"
        _still_serves(srv)


def test_app_returning_without_a_response_gives_500() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    with serve(app) as srv:
        assert httpx.get(srv.url).status_code == 500


def test_app_returning_mid_response_closes_the_connection() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})

    with serve(app) as srv:
        data = _exchange(srv, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200") and not data.endswith(b"0\r\n\r\n")


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"type": "http.response.bogus"}], "unexpected message type"),
        ([{"type": "http.response.start"}], "status"),
        ([{"type": "http.response.start", "status": 200, "headers": [(b"x", b"a\r\nb")]}], ""),
        ([{"type": "http.response.start", "status": 200, "headers": [(b"bad name", b"v")]}], ""),
        ([{"type": "http.response.body", "body": b"x"}], "before"),
        ([{"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]},
          {"type": "http.response.body", "body": b"xyz"}], ""),
        ([{"type": "http.response.start", "status": 200, "headers": []},
          {"type": "http.response.body", "body": "text"}], "bytes"),
    ],
    ids=["bad-type", "no-status", "crlf-in-value", "bad-name", "body-first", "over-length", "str-body"],
)
def test_invalid_app_message_raises_in_the_app_and_writes_nothing_bad(
    messages: list[dict[str, Any]], error: str
) -> None:
    raised: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            for message in messages:
                await send(message)
        except Exception as exc:
            raised.append(exc)
            raise

    with _serve(app) as srv:
        data = _exchange(srv, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        _still_serves(srv)
    assert raised and error in str(raised[0])
    assert b"a\r\nb" not in data and b"bad name" not in data and b"xyz" not in data
    if not data.startswith(b"HTTP/1.1 200"):
        assert data.startswith(b"HTTP/1.1 500")


def test_keep_alive_timeout_closes_an_idle_connection() -> None:
    with serve(apps.hello, timeout_keep_alive=1) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        read_response(sock)
        sock.settimeout(10)  # the timeout fires within a tick of 1 s; this only bounds the wait
        assert sock.recv(100) == b""


def test_slowloris_head_is_cut_by_the_header_read_timeout() -> None:
    # The cut comes about 4 s in (the 1 s timeout, its 1 s tick, the 2 s drain of a closing
    # connection), and a busy machine adds to that; nothing else would cut a head that keeps
    # growing within its limits, so any cut before cut_bound is the header-read timeout's.
    cut_bound = 20.0
    with serve(apps.hello, timeout_header_read=1, timeout_keep_alive=30) as srv, srv.connect() as sock:
        sock.settimeout(cut_bound)
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        try:
            while time.monotonic() < started + cut_bound:
                sock.sendall(b"X-A: b\r\n")
                time.sleep(0.2)
        except OSError:
            pass
        data = recv_until_closed(sock)
        assert time.monotonic() - started < cut_bound
        assert data.startswith(b"HTTP/1.1 408") or data == b""
        _still_serves(srv)


def test_limit_concurrency_answers_503() -> None:
    slow_started = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            slow_started.set()
            await asyncio.sleep(3.0)
        await apps.hello(scope, receive, send)

    with serve(app, limit_concurrency=1) as srv, srv.connect() as busy:
        busy.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        # Another connection opened before the slow request was admitted would count against
        # the limit and have it refused instead.
        until(slow_started.is_set, "the slow request to start")
        data = _exchange(srv, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 503")
        assert read_response(busy)[0] == 200


def test_access_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(apps.hello, access_log=True) as srv,
    ):
        httpx.get(srv.url + "/x?y=1")
    lines = [r.getMessage() for r in caplog.records if r.name == "fastasgi.access"]
    assert any('"GET /x?y=1 HTTP/1.1" 200' in line and "127.0.0.1:" in line for line in lines)


def test_stopping_does_not_wait_for_a_client_that_never_sends_its_body() -> None:
    """The half-closed connection lingers only briefly, so the server stops well inside the
    30 s graceful timeout (serve() raises if it takes more than 15 s) while the client idles."""
    with serve(apps.hello) as srv:
        sock = srv.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert read_response(sock)[0] == 200
    sock.close()



def test_connection_opened_before_a_graceful_stop_still_gets_its_request_served() -> None:
    with serve(apps.hello) as srv:
        sock = srv.connect()
        # Waited for, not slept for: on a busy machine the accept and the stop each take
        # longer than a moment.
        state = srv.server.state
        until(lambda: state.connections, "the server to accept the connection")
        srv.server.should_exit = True  # the stop begins before the request arrives
        until(lambda: state.shutting_down, "the stop to begin")
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = read_response(sock)
        assert (status, body) == (200, b"Hello, world!")
        assert headers[b"connection"] == b"close"
        sock.close()


def test_idle_keep_alive_connection_is_closed_at_once_by_a_graceful_stop() -> None:
    with serve(apps.hello, timeout_keep_alive=30) as srv:
        sock = srv.connect()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock)[0] == 200
        srv.server.should_exit = True
        sock.settimeout(3)
        assert sock.recv(100) == b""
        sock.close()


def test_client_that_stops_sending_its_body_is_cut_by_the_read_timeout() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()  # no timeout of its own: the server must end the wait
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                seen.append(message["type"])
                return

    with serve(app, timeout_header_read=1, timeout_keep_alive=30) as srv, srv.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + b"a" * 10)
        sock.settimeout(8)
        assert recv_until_closed(sock) == b""
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
    assert seen == ["http.disconnect"]
