"""The app always learns that its client left: FIN, RST, streaming frameworks, the access log.

Over real sockets with real Starlette, FastAPI and sse-starlette apps. Each test waits for the
outcome with a generous deadline and asserts that it happened; how fast (the issue asks for
well under 100 ms) is measured by bench/e2e/run_disconnect.py, not asserted here.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse as FastAPIStreamingResponse
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.support.server import read_response, recv_until_closed, serve

DEADLINE = 5.0  # seconds: far longer than the server needs, far shorter than the streams run


def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class StreamProbe:
    """An endless token stream that records whether it was stopped."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.sent = 0

    async def tokens(self) -> AsyncIterator[bytes]:
        try:
            for n in itertools.count():
                self.sent = n
                self.started.set()
                yield b"token %d\n" % n
                await asyncio.sleep(0.01)
        finally:
            self.stopped.set()


def open_stream_and_leave(port: int, path: str, *, reset: bool = False) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_starlette_streaming_response_stops_when_the_client_leaves(reset: bool) -> None:
    probe = StreamProbe()

    async def stream(request: Any) -> StreamingResponse:
        return StreamingResponse(probe.tokens(), media_type="text/plain")

    app = Starlette(routes=[Route("/stream", stream)])
    with serve(app) as srv:
        open_stream_and_leave(srv.port, "/stream", reset=reset)
        assert wait_for(probe.stopped.is_set), "the generator ran on after the client left"


def test_fastapi_streaming_response_stops_when_the_client_leaves() -> None:
    probe = StreamProbe()
    app = FastAPI()

    @app.get("/tokens")
    async def tokens() -> FastAPIStreamingResponse:
        return FastAPIStreamingResponse(probe.tokens(), media_type="text/plain")

    with serve(app) as srv:
        open_stream_and_leave(srv.port, "/tokens")
        assert wait_for(probe.stopped.is_set)


def test_sse_starlette_stream_waiting_between_events_stops_when_the_client_leaves() -> None:
    """Events a minute apart: only http.disconnect from receive() can stop this one in time."""
    stopped = threading.Event()

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            yield {"data": "first"}
            await asyncio.sleep(60)
            yield {"data": "second"}
        finally:
            stopped.set()

    async def endpoint(request: Any) -> EventSourceResponse:
        return EventSourceResponse(events(), ping=600)

    app = Starlette(routes=[Route("/events", endpoint)])
    with serve(app) as srv:
        open_stream_and_leave(srv.port, "/events")
        assert wait_for(stopped.is_set)


def long_poll_app(seen: list[str]) -> Any:
    """Reads the body, then waits in receive() for whatever comes next (a long-poll)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        while message.get("more_body"):
            message = await receive()
        seen.append((await receive())["type"])

    return app


@pytest.mark.parametrize("how", ["close", "half-close", "reset"])
def test_app_waiting_in_receive_gets_http_disconnect_when_the_client_leaves(how: str) -> None:
    seen: list[str] = []
    with serve(long_poll_app(seen)) as srv:
        sock = srv.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        time.sleep(0.2)  # the app is now waiting in its second receive()
        assert seen == []
        if how == "half-close":
            sock.shutdown(socket.SHUT_WR)
        else:
            if how == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        assert wait_for(lambda: bool(seen))
        sock.close()
    assert seen == ["http.disconnect"]


def test_half_closing_client_still_gets_its_response() -> None:
    """``nc -N``: the request, then FIN; the app answers after a moment and the answer arrives."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late answer"})

    with serve(app) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        status, headers, body = read_response(sock)
        assert (status, body) == (200, b"late answer")
        assert headers[b"connection"] == b"close"
        assert recv_until_closed(sock) == b""


def test_half_close_in_the_middle_of_a_body_is_answered_400() -> None:
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break

    with serve(app) as srv, srv.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)
        response = recv_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close\r\n" in response
    assert wait_for(lambda: "http.disconnect" in seen)


def test_streamed_response_cut_by_fin_makes_send_raise() -> None:
    outcome: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
                await asyncio.sleep(0.01)
        except OSError as exc:
            outcome.append(type(exc).__name__)

    with serve(app) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200 ")
        sock.shutdown(socket.SHUT_WR)
        assert wait_for(lambda: bool(outcome))
    assert outcome == ["ClientDisconnected"]


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fastasgi.access"]


def test_access_log_marks_an_abandoned_stream_with_the_status_sent(
        caplog: pytest.LogCaptureFixture) -> None:
    probe = StreamProbe()

    async def stream(request: Any) -> StreamingResponse:
        return StreamingResponse(probe.tokens(), status_code=206)

    app = Starlette(routes=[Route("/stream", stream)])
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(app, access_log=True) as srv,
    ):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 206 ")
        assert wait_for(lambda: bool(access_lines(caplog)))
    [line] = access_lines(caplog)
    assert '"GET /stream HTTP/1.1" 206' in line
    assert "client disconnected" in line


def test_access_log_records_a_request_abandoned_before_any_response(
        caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(long_poll_app(seen), access_log=True) as srv,
    ):
        with srv.connect() as sock:
            sock.sendall(b"POST /poll HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
            time.sleep(0.2)
        assert wait_for(lambda: bool(access_lines(caplog)))
    [line] = access_lines(caplog)
    assert '"POST /poll HTTP/1.1" - (client disconnected)' in line


def test_access_log_of_a_completed_response_is_not_marked(
        caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(app, access_log=True) as srv, srv.connect() as sock,
    ):
        sock.sendall(b"GET /done HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock)[0] == 200
        assert wait_for(lambda: bool(access_lines(caplog)))
    [line] = access_lines(caplog)
    assert line.endswith('"GET /done HTTP/1.1" 200 OK')
