"""Pongs owed for the pings of one turn go out in one write, each with its ping's payload, in
order; and before anything the app answers to a message that came after them. Connections
flooding together handle a bounded number of frames per turn between them.

A real WebSocket connection (upgraded from a real HTTP/1.1 connection) on a real event loop,
writing to a recording transport, so that each write the server makes is seen as it was made."""

from __future__ import annotations

import asyncio
from typing import Any

from fastasgi.protocols.http import HTTPProtocol
from fastasgi.protocols.state import WEBSOCKET_FRAMES_PER_TURN, ServerState
from fastasgi.protocols.websocket import FRAMES_PER_TURN
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport
from tests.support.turns import TurnCounter
from tests.support.websocket_frames import CLOSE, PING, PONG, TEXT, client_frame

UPGRADE = (b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": "echo " + message["text"]})


def server_frame(opcode: int, payload: bytes) -> bytes:
    return bytes([0x80 | opcode, len(payload)]) + payload


def writes_after(*reads: bytes) -> list[bytes]:
    """What the server wrote after its 101, write by write, when the client's bytes arrive as
    ``reads``, each in a turn of its own."""
    transport = RecordingTransport()

    async def run() -> None:
        state = ServerState(asyncio.get_running_loop(), echo, connection_settings(
            access_log=False, ws_ping_interval=0))
        protocol = HTTPProtocol(state)
        protocol.connection_made(transport)
        protocol.data_received(UPGRADE)
        for _ in range(5):
            await asyncio.sleep(0)
        assert b"".join(transport.writes).startswith(b"HTTP/1.1 101 ")
        transport.writes.clear()
        connection = transport.protocol
        for data in reads:
            connection.data_received(data)
            for _ in range(5):
                await asyncio.sleep(0)
        connection.connection_lost(None)
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(run())
    return transport.writes


def test_the_pongs_for_pings_read_together_go_out_in_one_write_in_order() -> None:
    payloads = [b"ping %d" % i for i in range(20)]
    writes = writes_after(b"".join(client_frame(PING, p) for p in payloads))
    assert writes == [b"".join(server_frame(PONG, p) for p in payloads)]


def test_a_turn_of_pings_is_answered_in_one_write_and_the_rest_in_the_next() -> None:
    payloads = [b"%d" % i for i in range(FRAMES_PER_TURN + 3)]
    writes = writes_after(b"".join(client_frame(PING, p) for p in payloads))
    assert writes == [b"".join(server_frame(PONG, p) for p in payloads[:FRAMES_PER_TURN]),
                      b"".join(server_frame(PONG, p) for p in payloads[FRAMES_PER_TURN:])]


def test_pongs_go_out_before_the_apps_answer_to_a_later_message() -> None:
    writes = writes_after(client_frame(PING, b"a") + client_frame(PING, b"b")
                          + client_frame(TEXT, b"hi") + client_frame(PING, b"c"))
    assert b"".join(writes) == (server_frame(PONG, b"a") + server_frame(PONG, b"b")
                                + server_frame(TEXT, b"echo hi") + server_frame(PONG, b"c"))


def test_pongs_go_out_before_the_close_frame_that_answers_a_later_close() -> None:
    writes = writes_after(client_frame(PING, b"a") + client_frame(PING, b"b")
                          + client_frame(CLOSE, b"\x03\xe8"))
    assert b"".join(writes) == (server_frame(PONG, b"a") + server_frame(PONG, b"b")
                                + server_frame(CLOSE, b"\x03\xe8"))


def test_pongs_go_out_before_the_close_frame_of_a_protocol_error() -> None:
    writes = writes_after(client_frame(PING, b"a") + client_frame(PING, b"b")
                          + client_frame(TEXT, b"unmasked", mask=None))
    sent = b"".join(writes)
    assert sent.startswith(server_frame(PONG, b"a") + server_frame(PONG, b"b")
                           + bytes([0x80 | CLOSE]))
    assert sent[len(server_frame(PONG, b"a")) * 2 + 2:][:2] == (1002).to_bytes(2, "big")


def test_connections_flooding_together_share_one_budget_of_frames_per_turn() -> None:
    # Twenty connections, each with more pings than it may handle in a turn, all read in the
    # same turn: together they handle at most WEBSOCKET_FRAMES_PER_TURN frames per turn, and
    # every ping is answered in the end, in order.
    connections, pings = 20, FRAMES_PER_TURN + 10
    transports = [RecordingTransport() for _ in range(connections)]
    frames_in_turn: dict[int, int] = {}

    async def run() -> None:
        loop = asyncio.get_running_loop()
        state = ServerState(loop, echo, connection_settings(access_log=False, ws_ping_interval=0))
        for transport in transports:
            protocol = HTTPProtocol(state)
            protocol.connection_made(transport)
            protocol.data_received(UPGRADE)
        for _ in range(5):
            await asyncio.sleep(0)
        turns = TurnCounter(loop)
        for transport in transports:
            transport.turn = turns
            transport.writes.clear()
            transport.protocol.data_received(
                b"".join(client_frame(PING, b"%d" % i) for i in range(pings)))
        for _ in range(4 * connections * pings // WEBSOCKET_FRAMES_PER_TURN + 10):
            await asyncio.sleep(0)
        turns.handle.cancel()
        for transport in transports:
            for turn, data in zip(transport.turns, transport.writes):
                frames_in_turn[turn] = frames_in_turn.get(turn, 0) + data.count(b"\x8a")
            transport.protocol.connection_lost(None)

    asyncio.run(run())
    assert max(frames_in_turn.values()) <= WEBSOCKET_FRAMES_PER_TURN, frames_in_turn
    assert sum(frames_in_turn.values()) == connections * pings
    expected = b"".join(server_frame(PONG, b"%d" % i) for i in range(pings))
    assert all(b"".join(transport.writes) == expected for transport in transports)


async def late_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """echo, but busy for a few turns after accepting: what arrives meanwhile fills its queue."""
    await receive()
    await send({"type": "websocket.accept"})
    for _ in range(5):
        await asyncio.sleep(0)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": "echo " + message["text"]})


def test_one_connection_handles_at_most_its_frames_per_turn_while_the_app_reads_its_queue() -> None:
    # The app takes each message off a full queue without waiting: every such receive() pumps
    # again, within the app's step. That must not bypass the connection's frames per turn.
    count = 5 * FRAMES_PER_TURN
    transport = RecordingTransport()
    frames_in_turn: dict[int, int] = {}
    expected = b"".join(server_frame(TEXT, b"echo %d" % i) for i in range(count))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        state = ServerState(loop, late_echo, connection_settings(
            access_log=False, ws_ping_interval=0))
        protocol = HTTPProtocol(state)
        protocol.connection_made(transport)
        turns = TurnCounter(loop)
        transport.turn = turns
        protocol.data_received(UPGRADE)
        await asyncio.sleep(0)
        connection = transport.protocol
        connection.data_received(b"".join(client_frame(TEXT, b"%d" % i) for i in range(count)))
        for _ in range(4 * count):
            if b"".join(transport.writes).endswith(expected):
                break
            await asyncio.sleep(0)
        turns.handle.cancel()
        for turn, data in zip(transport.turns, transport.writes):
            frames_in_turn[turn] = frames_in_turn.get(turn, 0) + data.count(b"echo ")
        connection.connection_lost(None)
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(run())
    # A turn answers the frames it handled and the messages queued in an earlier turn.
    max_queue = connection_settings().websocket.max_queue
    assert max(frames_in_turn.values()) <= FRAMES_PER_TURN + max_queue, frames_in_turn
    assert b"".join(transport.writes).partition(b"\r\n\r\n")[2] == expected


def test_reading_waits_while_frames_already_read_wait_for_the_app() -> None:
    # The app waits in receive(): each message is handed to it and the rest of the read waits
    # for a later turn. The socket is not read meanwhile, or a flood would grow the buffer by
    # a read for every message handled.
    count = 40
    transport = RecordingTransport()
    seen: list[tuple[int, bool]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        state = ServerState(loop, echo, connection_settings(access_log=False, ws_ping_interval=0))
        protocol = HTTPProtocol(state)
        protocol.connection_made(transport)
        protocol.data_received(UPGRADE)
        for _ in range(5):
            await asyncio.sleep(0)
        connection = transport.protocol
        connection.data_received(b"".join(client_frame(TEXT, b"%d" % i) for i in range(count)))
        for _ in range(4 * count):
            seen.append((connection.codec.buffered, connection.reading_paused))
            await asyncio.sleep(0)
        connection.connection_lost(None)
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(run())
    assert all(paused for buffered, paused in seen if buffered), seen
    assert seen[-1] == (0, False)
    assert b"".join(transport.writes).count(b"echo ") == count
