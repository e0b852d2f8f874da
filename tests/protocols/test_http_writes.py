"""How many writes a response costs, observed at the transport the protocol writes to."""

from __future__ import annotations

import asyncio
from typing import Any

from fastasgi._serializer import set_date
from fastasgi.protocols.http import HTTPProtocol
from fastasgi.protocols.state import ServerState
from tests.support import apps
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport


def _serve_one(app: Any, request: bytes) -> list[bytes]:
    return _serve_one_to(RecordingTransport(), app, request).writes


def _serve_one_to(transport: RecordingTransport, app: Any, request: bytes) -> RecordingTransport:
    async def run() -> None:
        set_date(b"Sat, 21 Nov 2026 12:00:00 GMT")
        protocol = HTTPProtocol(
            ServerState(asyncio.get_running_loop(), app, connection_settings(access_log=False)))
        protocol.connection_made(transport)
        protocol.data_received(request)
        for _ in range(50):
            await asyncio.sleep(0)
        protocol.connection_lost(None)

    asyncio.run(run())
    return transport


def test_small_response_is_one_write() -> None:
    writes = _serve_one(apps.hello, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"Hello, world!")


def test_pieces_streamed_without_waiting_share_one_write() -> None:
    writes = _serve_one(apps.streaming(3, 5), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    # The app never waits between its send()s, so head, three chunks and the last chunk are
    # written together at the end of its step.
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b"\r\n\r\n5\r\nxxxxx\r\n5\r\nxxxxx\r\n5\r\nxxxxx\r\n0\r\n\r\n")


def test_a_streamed_piece_goes_out_while_the_app_waits() -> None:
    seen_while_waiting: list[bytes] = []

    async def run() -> None:
        transport = RecordingTransport()
        release = asyncio.Event()

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"first", "more_body": True})
            await release.wait()
            await send({"type": "http.response.body", "body": b"second"})

        protocol = HTTPProtocol(
            ServerState(asyncio.get_running_loop(), app, connection_settings(access_log=False)))
        protocol.connection_made(transport)
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        for _ in range(5):
            await asyncio.sleep(0)
        seen_while_waiting.extend(transport.writes)
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert transport.writes[-1].endswith(b"6\r\nsecond\r\n0\r\n\r\n")
        protocol.connection_lost(None)

    asyncio.run(run())
    assert len(seen_while_waiting) == 1 and seen_while_waiting[0].endswith(b"5\r\nfirst\r\n")


def test_responses_to_requests_pipelined_in_one_read_share_one_write() -> None:
    request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    writes = _serve_one(apps.hello, request * 16)
    assert len(writes) == 1
    assert writes[0].count(b"HTTP/1.1 200 OK\r\n") == 16
    assert writes[0].count(b"Hello, world!") == 16


def test_a_lone_response_is_at_the_transport_when_send_returns() -> None:
    transport = RecordingTransport()
    written_when_send_returned: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        written_when_send_returned.append(len(transport.writes))

    _serve_one_to(transport, app, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert written_when_send_returned == [1]


def test_a_large_body_is_written_as_the_app_gave_it() -> None:
    body = b"z" * (1 << 20)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    transport = _serve_one_to(RecordingTransport(), app, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    # One writelines: the head, then the app's own bytes object, never copied behind it.
    assert len(transport.writes) == 1 and len(transport.pieces) == 1
    head, written = transport.pieces[0]
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 1048576\r\n" in head
    assert written is body


def test_the_outbox_holds_at_most_64_kib_before_it_writes() -> None:
    piece = b"x" * 1024  # what apps.streaming sends
    writes = _serve_one(apps.streaming(200, len(piece)), b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    # 200 KiB streamed without waiting: written as the outbox fills, not held to the end.
    assert len(writes) >= 3
    assert all(len(write) < 65536 + 2048 for write in writes)
    assert b"".join(writes).count(b"400\r\n" + piece + b"\r\n") == 200
