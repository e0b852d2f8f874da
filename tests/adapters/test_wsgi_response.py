"""Streaming WSGI responses to ASGI: start_response, write(), iterables, errors, disconnects."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fastasgi.adapters.wsgi import WSGIAdapter
from tests.adapters.driver import Client, call, http_scope, run


class ClosingBody:
    """A WSGI iterable that records whether close() was called."""

    def __init__(self, pieces: list[bytes], fail_at: int | None = None) -> None:
        self.pieces = pieces
        self.fail_at = fail_at
        self.closed = threading.Event()
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        for index, piece in enumerate(self.pieces):
            if index == self.fail_at:
                raise RuntimeError("broken in the middle")
            self.produced += 1
            yield piece

    def close(self) -> None:
        self.closed.set()


def body_app(body: Any, status: str = "200 OK",
             headers: list[tuple[str, str]] | None = None) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, headers if headers is not None else [("Content-Type", "text/plain")])
        return body
    return app


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_streamed_pieces_arrive_as_separate_body_messages(loop: str) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one "
        yield b""
        yield b"two "
        yield b"three"

    client = run(call(WSGIAdapter(app), http_scope("/")), loop=loop)
    assert client.status == 200
    assert [(m["body"], m["more_body"]) for m in client.body_messages] == [
        (b"one ", True), (b"two ", True), (b"three", True), (b"", False)]


def test_head_is_sent_with_the_first_nonempty_piece() -> None:
    sent_before_first_piece: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b""
        time.sleep(0.1)
        sent_before_first_piece.append(len(client.messages))
        yield b"data"

    client = Client()
    run(call(WSGIAdapter(app), http_scope("/"), client))
    assert sent_before_first_piece == [0]
    assert client.messages[0]["type"] == "http.response.start"


def test_status_line_is_parsed_and_headers_are_latin1_bytes() -> None:
    app = body_app([b"{}"], "201 Created Just Now",
                   [("Content-Type", "application/json"), ("X-Name", "Zoë"),
                    ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    client = run(call(WSGIAdapter(app), http_scope("/")))
    assert client.status == 201
    assert client.start["headers"] == [
        (b"content-type", b"application/json"), (b"x-name", "Zoë".encode("latin-1")),
        (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]


def test_one_piece_list_is_sent_as_a_single_final_message() -> None:
    client = run(call(WSGIAdapter(body_app([b"hello"])), http_scope("/")))
    assert [(m["body"], m["more_body"]) for m in client.body_messages] == [(b"hello", False)]


def test_empty_iterable_sends_the_head_and_an_empty_final_body() -> None:
    client = run(call(WSGIAdapter(body_app([], "204 No Content", [])), http_scope("/")))
    assert client.status == 204
    assert [(m["body"], m["more_body"]) for m in client.body_messages] == [(b"", False)]


def test_write_callable_sends_before_the_returned_iterable() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        write(bytearray(b"again "))
        return [b"returned"]

    client = run(call(WSGIAdapter(app), http_scope("/")))
    assert [m["body"] for m in client.body_messages] == [b"written ", b"again ", b"returned", b""]


def test_write_returns_only_once_the_client_took_the_data() -> None:
    wrote: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"a")
        wrote.append(len(client.body_messages))
        return []

    client = Client()
    run(call(WSGIAdapter(app), http_scope("/"), client))
    assert wrote == [1]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_slow_client_holds_the_app_back_one_piece_at_a_time(loop: str) -> None:
    body = ClosingBody([b"x" * 1000] * 10)
    produced_while_blocked: list[int] = []

    async def scenario() -> Client:
        client = Client(gate=asyncio.Event())
        task = asyncio.ensure_future(call(WSGIAdapter(body_app(body)), http_scope("/"), client))
        for _ in range(500):
            if body.produced:
                break
            await asyncio.sleep(0.01)
        for _ in range(3):
            await asyncio.sleep(0.1)
            produced_while_blocked.append(body.produced)
        client.gate.set()
        return await task

    client = run(scenario(), loop=loop)
    # The thread produced one piece and waits for the client to take it; no queue builds up.
    assert produced_while_blocked == [1, 1, 1]
    assert client.response_body == b"x" * 10_000
    assert body.closed.is_set()


def test_exception_before_start_response_answers_500_and_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise KeyError("missing")

    with caplog.at_level(logging.ERROR, logger="fastasgi.error"):
        client = run(call(WSGIAdapter(app), http_scope("/")))
    assert client.status == 500
    assert client.response_body == b"Internal Server Error"
    assert client.headers[b"content-length"] == b"21"
    records = [r for r in caplog.records if r.name == "fastasgi.error"]
    assert records and records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], KeyError)


def test_exception_after_start_response_before_body_answers_500() -> None:
    body = ClosingBody([b"never"], fail_at=0)
    client = run(call(WSGIAdapter(body_app(body)), http_scope("/")))
    assert client.status == 500
    assert body.closed.is_set()


def test_exception_after_the_head_went_out_propagates_to_the_server() -> None:
    body = ClosingBody([b"first", b"second"], fail_at=1)
    client = Client()
    with pytest.raises(RuntimeError, match="broken in the middle"):
        run(call(WSGIAdapter(body_app(body)), http_scope("/"), client))
    assert client.status == 200
    assert [m["body"] for m in client.body_messages] == [b"first"]
    assert body.closed.is_set()


def test_exc_info_replaces_the_response_before_the_head_is_sent() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        try:
            raise ValueError("template failed")
        except ValueError:
            start_response("503 Service Unavailable", [("Retry-After", "5")], sys.exc_info())
        return [b"try later"]

    client = run(call(WSGIAdapter(app), http_scope("/")))
    assert client.status == 503
    assert client.start["headers"] == [(b"retry-after", b"5")]
    assert client.response_body == b"try later"


def test_exc_info_after_the_head_was_sent_reraises_the_original_error() -> None:
    seen: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"partial")
        try:
            raise ValueError("late failure")
        except ValueError:
            try:
                start_response("500 Internal Server Error", [], sys.exc_info())
            except ValueError as exc:
                seen.append(exc)
                raise
        return []   # pragma: no cover - never reached

    with pytest.raises(ValueError, match="late failure"):
        run(call(WSGIAdapter(app), http_scope("/")))
    assert len(seen) == 1


@pytest.mark.parametrize(("status", "headers"), [
    ("200", [("Connection", "close")]),
    ("200 OK", [("Transfer-Encoding", "chunked")]),
    ("200 OK", [("X-Bad", "line\r\nInjected: yes")]),
    ("200 OK", [("X-Name", "日本")]),
    ("200 OK", [("X-Bytes", b"value")]),
    ("200 OK", (("Content-Type", "text/plain"),)),
    ("OK", []),
    ("20 OK", []),
    ("200OK", []),
    ("101 Switching Protocols", []),
    (200, []),
])
def test_start_response_rejects_what_cannot_go_on_the_wire(status: Any, headers: Any) -> None:
    errors: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            start_response(status, headers)
        except (TypeError, ValueError) as exc:
            errors.append(exc)
            raise
        return [b"not reached"]

    client = run(call(WSGIAdapter(app), http_scope("/")))
    assert len(errors) == 1
    assert client.status == 500


def test_start_response_twice_without_exc_info_is_an_error() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        start_response("404 Not Found", [])
        return [b"not reached"]

    assert run(call(WSGIAdapter(app), http_scope("/"))).status == 500


def test_status_without_reason_phrase_is_accepted() -> None:
    client = run(call(WSGIAdapter(body_app([b"x"], "299", [])), http_scope("/")))
    assert client.status == 299


def test_body_before_start_response_is_an_error() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        yield b"too early"

    assert run(call(WSGIAdapter(app), http_scope("/"))).status == 500


def test_text_instead_of_bytes_is_an_error() -> None:
    body = ClosingBody(["text"])  # type: ignore[list-item]
    client = run(call(WSGIAdapter(body_app(body)), http_scope("/")))
    assert client.status == 500
    assert body.closed.is_set()


@pytest.mark.parametrize("pieces", [[b"a", b"b"], [b"only"], []])
def test_close_is_called_after_a_full_response(pieces: list[bytes]) -> None:
    body = ClosingBody(pieces)
    client = run(call(WSGIAdapter(body_app(body)), http_scope("/")))
    assert client.response_body == b"".join(pieces)
    assert body.closed.is_set()


def test_close_raising_before_the_head_went_out_answers_500() -> None:
    class BadClose(list):  # type: ignore[type-arg]
        def close(self) -> None:
            raise OSError("cannot release")

    # A one-piece list waits for the loop to send head and body together, after close().
    client = run(call(WSGIAdapter(body_app(BadClose([b"done"]))), http_scope("/")))
    assert client.status == 500
    assert client.response_body == b"Internal Server Error"


def test_disconnect_while_streaming_stops_the_iteration_and_closes() -> None:
    produced = 0
    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        nonlocal produced
        try:
            while True:
                produced += 1
                yield b"tick\n"
        finally:
            closed.set()

    client = Client(leave_after_body_messages=3)
    run(call(WSGIAdapter(body_app(endless())), http_scope("/"), client))
    assert closed.is_set()
    assert len(client.body_messages) == 3
    assert produced <= 5   # stopped within a piece or two of the disconnect


def test_generator_app_is_closed_when_the_client_leaves() -> None:
    finalized = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [])
        try:
            for _ in range(1000):
                yield b"." * 100
        finally:
            finalized.set()

    client = Client(leave_after_body_messages=1)
    run(call(WSGIAdapter(app), http_scope("/"), client))
    assert finalized.is_set()


def test_threads_are_bounded_by_max_workers() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        start_response("200 OK", [])
        return [threading.current_thread().name.encode()]

    async def scenario() -> list[Client]:
        adapter = WSGIAdapter(app, max_workers=2)
        return await asyncio.gather(*(call(adapter, http_scope("/")) for _ in range(6)))

    clients = run(scenario())
    assert [c.status for c in clients] == [200] * 6
    assert most == 2
    assert len({c.response_body for c in clients}) == 2


def test_no_free_worker_within_the_timeout_answers_503() -> None:
    release = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(5)
        start_response("200 OK", [])
        return [b"slow"]

    async def scenario() -> tuple[Client, Client]:
        adapter = WSGIAdapter(app, max_workers=1, worker_timeout=0.1)
        busy = asyncio.ensure_future(call(adapter, http_scope("/")))
        await asyncio.sleep(0.05)
        turned_away = await call(adapter, http_scope("/"))
        release.set()
        return await busy, turned_away

    served, turned_away = run(scenario())
    assert served.status == 200
    assert turned_away.status == 503


def test_cancelled_request_stops_the_app_and_frees_its_worker() -> None:
    streaming = threading.Event()
    closed = threading.Event()
    calls = 0

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        nonlocal calls
        calls += 1
        start_response("200 OK", [])
        if calls > 1:
            yield b"second"
            return
        streaming.set()
        try:
            while True:
                yield b"."
        finally:
            closed.set()

    async def scenario() -> Client:
        adapter = WSGIAdapter(app, max_workers=1, worker_timeout=2)
        stuck = Client(gate=asyncio.Event())   # a client that never takes a byte
        task = asyncio.ensure_future(call(adapter, http_scope("/"), stuck))
        while not streaming.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)   # let the thread block on the stuck client
        task.cancel()   # what the server does to a request it gives up on
        with pytest.raises(asyncio.CancelledError):
            await task
        # One worker only: the next request is served once the thread has let go.
        return await call(adapter, http_scope("/"))

    client = run(scenario())
    assert closed.is_set()
    assert client.response_body == b"second"


def test_context_variables_reach_the_app_thread() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [request_id.get("unset").encode()]

    async def scenario() -> Client:
        request_id.set("r-42")
        return await call(WSGIAdapter(app), http_scope("/"))

    assert run(scenario()).response_body == b"r-42"


def test_lifespan_scope_is_answered_and_shutdown_stops_the_pool() -> None:
    from fastasgi.lifespan import Lifespan

    adapter = WSGIAdapter(body_app([b"ok"]))

    async def scenario() -> tuple[bool, Client, bool]:
        lifespan = Lifespan(adapter, "on", timeout_startup=2, timeout_shutdown=2)
        started = await lifespan.startup()
        client = await call(adapter, http_scope("/"))
        return started, client, await lifespan.shutdown()

    started, client, clean = run(scenario())
    assert started and clean
    assert client.response_body == b"ok"
    assert adapter._executor is None


def test_websocket_scope_is_refused() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run(WSGIAdapter(body_app([]))({"type": "websocket", "path": "/"}, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1000}]
