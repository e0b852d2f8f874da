"""Streaming the request body into wsgi.input: blocking reads, bounded buffer, timeouts."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from fastasgi.adapters.wsgi import ClientDisconnected, RequestBodyTimeout, WSGIAdapter
from tests.adapters.driver import Client, call, http_scope, run

MiB = 1024 * 1024
PIECE = 64 * 1024


def upload(total: int, piece: int = PIECE) -> Iterator[bytes]:
    """``total`` bytes of a repeating pattern in ``piece``-sized messages, made as needed."""
    pattern = bytes(range(251)) * (piece // 251 + 2)
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        start = sent % 251
        yield pattern[start:start + size]
        sent += size


def expected_digest(total: int) -> str:
    digest = hashlib.sha256()
    for piece in upload(total):
        digest.update(piece)
    return digest.hexdigest()


def post(path: str = "/", length: int | None = None) -> dict[str, Any]:
    headers = [(b"content-type", b"application/octet-stream")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return http_scope(path, method="POST", headers=headers)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_5mib_upload_read_in_pieces_never_buffers_more_than_the_bound(loop: str) -> None:
    buffer_size = 128 * 1024
    total = 5 * MiB
    read_by_app = 0
    held_at_receive: list[int] = []
    seen_input: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        nonlocal read_by_app
        stream = environ["wsgi.input"]
        seen_input.append(stream)
        digest = hashlib.sha256()
        while data := stream.read(10_000):
            digest.update(data)
            read_by_app += len(data)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{read_by_app} {digest.hexdigest()}".encode()]

    def before_piece() -> None:
        # What the adapter holds when it asks for more: handed out, minus read by the app.
        held_at_receive.append(client.body_bytes_handed_out - read_by_app)

    client = Client(body=upload(total), before_piece=before_piece)
    adapter = WSGIAdapter(app, body_buffer_size=buffer_size)
    tracemalloc.start()
    try:
        run(call(adapter, post(length=total), client), loop=loop)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert client.response_body == f"{total} {expected_digest(total)}".encode()
    assert len(held_at_receive) == total // PIECE
    # The adapter asks for more only while it holds less than its bound ...
    assert max(held_at_receive) < buffer_size + 10_000   # + one read the app had not counted
    # ... so it never holds more than the bound plus one message.
    assert seen_input[0].peak_buffered <= buffer_size + PIECE
    # Memory of the whole exchange stays far below the 5 MiB that went through.
    assert peak < 2 * MiB, peak


def test_app_that_reads_slowly_makes_the_adapter_stop_receiving() -> None:
    buffer_size = 64 * 1024
    may_read = threading.Event()
    receive_calls_before_reading: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        first = stream.read(1)          # starts the body flowing
        may_read.wait(5)
        receive_calls_before_reading.append(client.receive_calls)
        rest = stream.read()
        start_response("200 OK", [])
        return [str(len(first) + len(rest)).encode()]

    async def scenario() -> None:
        task = asyncio.ensure_future(call(WSGIAdapter(app, body_buffer_size=buffer_size),
                                          post(length=MiB), client))
        for _ in range(500):
            if client.receive_calls >= 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)   # time enough to receive all 16 pieces if nothing held back
        may_read.set()
        await task

    client = Client(body=upload(MiB))
    run(scenario())
    assert client.response_body == str(MiB).encode()
    # Two messages fill the 64 KiB bound (the first one-byte read leaves 64 KiB - 1 held).
    assert receive_calls_before_reading == [2]


def test_read_n_returns_exactly_n_bytes_until_the_end() -> None:
    sizes: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        while data := stream.read(7):
            sizes.append(len(data))
        start_response("200 OK", [])
        return []

    run(call(WSGIAdapter(app), post(length=30), Client(body=[b"ab", b"cdefghij", b"k" * 20])))
    assert sizes == [7, 7, 7, 7, 2]


def test_read_without_size_returns_the_rest_of_the_body() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        head = stream.read(3)
        rest = stream.read()
        after_end = stream.read()
        start_response("200 OK", [])
        return [head, b"|", rest, b"|", after_end]

    client = run(call(WSGIAdapter(app), post(), Client(body=[b"abcd", b"efg", b"h"])))
    assert client.response_body == b"abc|defgh|"


def test_readline_readlines_and_iteration_split_on_newlines_across_pieces() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        first = stream.readline()
        capped = stream.readline(3)
        two = stream.readlines(1)
        rest = list(stream)
        start_response("200 OK", [])
        return [repr((first, capped, two, rest)).encode()]

    body = [b"alpha\nbe", b"ta\ngam", b"ma\n", b"delta\nepsilon"]
    client = run(call(WSGIAdapter(app), post(), Client(body=body)))
    assert client.response_body == repr(
        (b"alpha\n", b"bet", [b"a\n"], [b"gamma\n", b"delta\n", b"epsilon"])).encode()


def test_read_blocks_until_body_data_arrives() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        data = environ["wsgi.input"].read()
        start_response("200 OK", [])
        return [data]

    async def scenario() -> Client:
        arrived = asyncio.Event()
        adapter = WSGIAdapter(app)

        async def late_second_piece(scope: Any, receive: Any, send: Any) -> None:
            async def slow_receive() -> Any:
                message = await receive()
                if message.get("body") == b"late":
                    await arrived.wait()
                return message
            await adapter(scope, slow_receive, send)

        client = Client(body=[b"early-", b"late"])
        task = asyncio.ensure_future(call(late_second_piece, post(), client))
        await asyncio.sleep(0.2)
        assert not client.messages          # the app is still blocked in read()
        arrived.set()
        return await task

    client = run(scenario())
    assert client.response_body == b"early-late"


def test_body_that_never_arrives_times_out_the_read() -> None:
    raised: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            environ["wsgi.input"].read(1)
        except RequestBodyTimeout as exc:
            raised.append(exc)
        start_response("408 Request Timeout", [])
        return []

    async def stalled_receive_app(scope: Any, receive: Any, send: Any) -> None:
        async def never() -> Any:
            await asyncio.Event().wait()
        await WSGIAdapter(app, read_timeout=0.2)(scope, never, send)

    client = run(call(stalled_receive_app, post(length=10)))
    assert client.status == 408
    assert len(raised) == 1 and isinstance(raised[0], TimeoutError)


def test_client_leaving_mid_upload_makes_read_raise_client_disconnected() -> None:
    raised: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        try:
            while stream.read(PIECE):
                pass
        except ClientDisconnected as exc:
            raised.append(exc)
            raise
        start_response("200 OK", [])   # pragma: no cover - never reached
        return []

    def body() -> Iterator[bytes]:
        yield b"x" * PIECE
        yield b"y" * PIECE
        client.leave()
        yield b"never handed out"

    client = Client(body=body())
    run(call(WSGIAdapter(app), post(length=10 * PIECE), client))
    assert len(raised) == 1 and isinstance(raised[0], OSError)
    assert client.messages == []    # nobody to answer


def test_app_that_ignores_the_body_never_asks_for_it() -> None:
    """No receive() call unless wsgi.input is read: Expect: 100-continue stays unanswered."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("413 Content Too Large", [("Content-Type", "text/plain")])
        return [b"too large"]

    client = Client(body=upload(MiB))
    run(call(WSGIAdapter(app), post(length=MiB), client))
    assert client.status == 413
    assert client.receive_calls == 0


def test_empty_body_reads_as_empty() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        start_response("200 OK", [])
        return [repr((stream.read(), stream.readline(), stream.readlines())).encode()]

    client = run(call(WSGIAdapter(app), http_scope("/")))
    assert client.response_body == repr((b"", b"", [])).encode()
