"""Large WebSocket messages that become ready together go out a write budget per turn of the
event loop (fastasgi/protocols/write_budget.pyx), as large HTTP bodies do: each whole, in the
order they came, so that other connections' events run in between. A message still waiting
when the connection closes is not written after the close frame.

Real WebSocket connections (upgraded from real HTTP/1.1 connections) on one ServerState and a
real event loop, writing to recording transports that note the turn of each write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fastasgi.protocols.state import ServerState
from fastasgi.protocols.write_budget import BYTES_PER_TURN
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter
from tests.support.websocket import upgrade_request
from tests.support.websocket_frames import (
    BINARY,
    CLOSE,
    TEXT,
    client_frame,
    close_payload,
    server_frames,
)

LARGE = b"m" * BYTES_PER_TURN  # a whole turn's budget, when the kernel keeps pace
OUTCOMES: list[str] = []


async def large_on_request(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accepts; answers each message with LARGE (as text when the message was "text"), and
    records what send() did."""
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        answer = ({"text": LARGE.decode()} if message.get("text") == "text"
                  else {"bytes": LARGE})
        try:
            await send({"type": "websocket.send", **answer})
        except OSError as exc:
            OUTCOMES.append(type(exc).__name__)
            return
        OUTCOMES.append("sent")


def run_connections(count: int, close_second_while_waiting: bool = False,
                    request: bytes = b"send it") -> list[RecordingTransport]:
    """``count`` connections whose requests for LARGE arrive in the same turn; their transports
    once every app is done. ``close_second_while_waiting``: the second client's close frame
    arrives while its message waits for its turn."""
    OUTCOMES.clear()
    transports: list[RecordingTransport] = []
    pending_close = [close_second_while_waiting]

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)
        state = ServerState(loop, large_on_request, connection_settings(
            access_log=False, ws_ping_interval=0, ws_per_message_deflate=False))
        for _ in range(count):
            transport = RecordingTransport(turns)
            transports.append(transport)
            http_connection(state, transport).data_received(upgrade_request())
        for _ in range(5):
            await asyncio.sleep(0)
        for transport in transports:
            assert b"".join(transport.writes).startswith(b"HTTP/1.1 101 ")
            transport.writes.clear()
            transport.turns.clear()
        for transport in transports:
            transport.protocol.data_received(client_frame(TEXT, request))
        for _ in range(100):
            # The first message went out in its turn: the second waits for a later one.
            if pending_close[0] and any(len(data) >= len(LARGE) for data in transports[0].writes):
                transports[1].protocol.data_received(client_frame(CLOSE, close_payload(1000)))
                pending_close[0] = False
            if len(OUTCOMES) == count:
                break
            await asyncio.sleep(0)
        turns.handle.cancel()
        for transport in transports:
            transport.protocol.connection_lost(None)

    asyncio.run(run())
    return transports


def sent(transport: RecordingTransport) -> list[tuple[int, int]]:
    """(opcode, payload length) of each frame the transport was written."""
    return [(frame.opcode, len(frame.payload))
            for frame in server_frames(b"".join(transport.writes))]


def turn_of_large_write(transport: RecordingTransport) -> int:
    [turn] = [turn for turn, data in zip(transport.turns, transport.writes)
              if len(data) >= len(LARGE)]
    return turn


@pytest.mark.parametrize("request_bytes, opcode", [(b"send it", BINARY), (b"text", TEXT)])
def test_large_messages_ready_together_go_out_one_budget_per_turn_in_order_and_whole(
        request_bytes: bytes, opcode: int) -> None:
    transports = run_connections(3, request=request_bytes)
    assert OUTCOMES == ["sent"] * 3
    assert [sent(transport) for transport in transports] == [[(opcode, len(LARGE))]] * 3
    first, second, third = (turn_of_large_write(transport) for transport in transports)
    assert first < second < third


def test_a_message_waiting_for_its_turn_is_not_written_after_the_close_frame() -> None:
    transports = run_connections(2, close_second_while_waiting=True)
    assert sorted(OUTCOMES) == ["ClientDisconnected", "sent"]
    assert sent(transports[0]) == [(BINARY, len(LARGE))]
    # The second connection answered its client's close, and wrote nothing of the message.
    assert sent(transports[1]) == [(CLOSE, 2)]


async def wide_memoryview_on_request(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accepts; answers a message with 64 KiB as a memoryview of 8-byte items (8,192 of them,
    fewer than a large write's bytes)."""
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    await send({"type": "websocket.send", "bytes": memoryview(b"w" * 65536).cast("Q")})
    OUTCOMES.append("sent")


def test_a_memoryview_of_wide_items_counts_its_bytes_for_the_write_budget() -> None:
    OUTCOMES.clear()

    async def run() -> RecordingTransport:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)
        state = ServerState(loop, wide_memoryview_on_request, connection_settings(
            access_log=False, ws_ping_interval=0, ws_per_message_deflate=False))
        transport = RecordingTransport(turns)
        http_connection(state, transport).data_received(upgrade_request())
        for _ in range(5):
            await asyncio.sleep(0)
        transport.writes.clear()
        transport.protocol.data_received(client_frame(TEXT, b"send it"))
        for _ in range(100):
            if OUTCOMES:
                break
            await asyncio.sleep(0)
        turns.handle.cancel()
        transport.protocol.connection_lost(None)
        return transport

    transport = asyncio.run(run())
    assert OUTCOMES == ["sent"]
    # The message, then the close frame of an app that returned.
    assert sent(transport) == [(BINARY, 65536), (CLOSE, 2)]
    # The message went as a large write, timed for the budget through writelines(); the close
    # frame, small, through write().
    assert [len(b"".join(pieces)) for pieces in transport.pieces] == [10 + 65536]
