"""Pongs owed for the pings of one turn go out in one write, each with its ping's payload, in
order; and before anything the app answers to a message that came after them. Connections
flooding together handle a bounded number of frames per turn between them.

A real WebSocket connection (upgraded from a real HTTP/1.1 connection) on a real event loop,
writing to a recording transport, so that each write the server makes is seen as it was made."""

from __future__ import annotations

import asyncio
from typing import Any

from fastasgi.protocols.state import WEBSOCKET_FRAMES_PER_TURN, ServerState
from fastasgi.protocols.websocket import FRAMES_PER_TURN
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter
from tests.support.websocket import echo, upgrade_request
from tests.support.websocket_frames import (
    CLOSE,
    PING,
    PONG,
    TEXT,
    client_frame,
    close_payload,
    server_frames,
)


def server_state(app: Any) -> ServerState:
    return ServerState(asyncio.get_running_loop(), app, connection_settings(
        access_log=False, ws_ping_interval=0))


async def upgraded(state: ServerState, transport: RecordingTransport) -> Any:
    """The WebSocket connection on ``transport`` once the app accepted; its writes so far
    (the 101) are cleared."""
    http_connection(state, transport).data_received(upgrade_request())
    for _ in range(5):
        await asyncio.sleep(0)
    assert b"".join(transport.writes).startswith(b"HTTP/1.1 101 ")
    transport.writes.clear()
    transport.turns.clear()
    return transport.protocol


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


def frames(data: bytes) -> list[tuple[int, bytes]]:
    return [(frame.opcode, frame.payload) for frame in server_frames(data)]


def pongs(*payloads: bytes) -> list[tuple[int, bytes]]:
    return [(PONG, payload) for payload in payloads]


def frames_by_turn(transports: list[RecordingTransport], opcode: int) -> dict[int, int]:
    """How many frames of ``opcode`` the transports were written in each turn."""
    counted: dict[int, int] = {}
    for transport in transports:
        for turn, data in zip(transport.turns, transport.writes):
            counted[turn] = counted.get(turn, 0) + sum(
                kind == opcode for kind, _ in frames(data))
    return counted


def writes_after(*reads: bytes) -> list[bytes]:
    """What the server wrote after its 101, write by write, when the client's bytes arrive as
    ``reads``, each in a turn of its own."""
    transport = RecordingTransport()

    async def run() -> None:
        connection = await upgraded(server_state(echo), transport)
        for data in reads:
            connection.data_received(data)
            await turns(5)
        connection.connection_lost(None)
        await turns(5)

    asyncio.run(run())
    return transport.writes


def test_the_pongs_for_pings_read_together_go_out_in_one_write_in_order() -> None:
    payloads = [b"ping %d" % i for i in range(20)]
    writes = writes_after(b"".join(client_frame(PING, p) for p in payloads))
    assert [frames(write) for write in writes] == [pongs(*payloads)]


def test_a_turn_of_pings_is_answered_in_one_write_and_the_rest_in_the_next() -> None:
    payloads = [b"%d" % i for i in range(FRAMES_PER_TURN + 3)]
    writes = writes_after(b"".join(client_frame(PING, p) for p in payloads))
    assert [frames(write) for write in writes] == [pongs(*payloads[:FRAMES_PER_TURN]),
                                                   pongs(*payloads[FRAMES_PER_TURN:])]


def test_pongs_go_out_before_the_apps_answer_to_a_later_message() -> None:
    writes = writes_after(client_frame(PING, b"a") + client_frame(PING, b"b")
                          + client_frame(TEXT, b"hi") + client_frame(PING, b"c"))
    assert frames(b"".join(writes)) == [*pongs(b"a", b"b"), (TEXT, b"hi"), *pongs(b"c")]


def test_pongs_go_out_before_the_close_frame_that_answers_a_later_close() -> None:
    writes = writes_after(client_frame(PING, b"a") + client_frame(PING, b"b")
                          + client_frame(CLOSE, close_payload(1000)))
    assert frames(b"".join(writes)) == [*pongs(b"a", b"b"), (CLOSE, close_payload(1000))]


def test_pongs_go_out_before_the_close_frame_of_a_protocol_error() -> None:
    writes = writes_after(client_frame(PING, b"a") + client_frame(PING, b"b")
                          + client_frame(TEXT, b"unmasked", mask=None))
    sent = frames(b"".join(writes))
    assert sent[:2] == pongs(b"a", b"b")
    assert [kind for kind, _ in sent[2:]] == [CLOSE]
    assert sent[2][1][:2] == close_payload(1002)


def test_connections_flooding_together_share_one_budget_of_frames_per_turn() -> None:
    # Twenty connections, each with more pings than it may handle in a turn, all read in the
    # same turn: together they handle at most WEBSOCKET_FRAMES_PER_TURN frames per turn, and
    # every ping is answered in the end, in order.
    connections, count = 20, FRAMES_PER_TURN + 10
    transports = [RecordingTransport() for _ in range(connections)]

    async def run() -> None:
        state = server_state(echo)
        upgrades = [await upgraded(state, transport) for transport in transports]
        counter = TurnCounter(asyncio.get_running_loop())
        for transport, connection in zip(transports, upgrades):
            transport.turn = counter
            connection.data_received(b"".join(client_frame(PING, b"%d" % i)
                                              for i in range(count)))
        await turns(4 * connections * count // WEBSOCKET_FRAMES_PER_TURN + 10)
        counter.handle.cancel()
        for connection in upgrades:
            connection.connection_lost(None)

    asyncio.run(run())
    answered = frames_by_turn(transports, PONG)
    assert max(answered.values()) <= WEBSOCKET_FRAMES_PER_TURN, answered
    assert sum(answered.values()) == connections * count
    expected = pongs(*(b"%d" % i for i in range(count)))
    assert all(frames(b"".join(transport.writes)) == expected for transport in transports)


async def late_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """echo, but busy for a few turns after accepting: what arrives meanwhile fills its queue."""
    await receive()
    await send({"type": "websocket.accept"})
    await turns(5)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message["text"]})


def test_one_connection_handles_at_most_its_frames_per_turn_while_the_app_reads_its_queue() -> None:
    # The app takes each message off a full queue without waiting: every such receive() pumps
    # again, within the app's step. That must not bypass the connection's frames per turn.
    count = 5 * FRAMES_PER_TURN
    transport = RecordingTransport()
    expected = [(TEXT, b"%d" % i) for i in range(count)]

    async def run() -> None:
        state = server_state(late_echo)
        counter = TurnCounter(asyncio.get_running_loop())
        transport.turn = counter
        http_connection(state, transport).data_received(upgrade_request())
        await turns(1)  # accepted; the app is now busy for a few turns
        assert b"".join(transport.writes).startswith(b"HTTP/1.1 101 ")
        transport.writes.clear()
        transport.turns.clear()
        connection = transport.protocol
        connection.data_received(b"".join(client_frame(TEXT, b"%d" % i) for i in range(count)))
        for _ in range(4 * count):
            if frames(b"".join(transport.writes)) == expected:
                break
            await asyncio.sleep(0)
        counter.handle.cancel()
        connection.connection_lost(None)
        await turns(5)

    asyncio.run(run())
    # A turn answers the frames it handled and the messages queued in an earlier turn.
    max_queue = connection_settings().websocket.max_queue
    answered = frames_by_turn([transport], TEXT)
    assert max(answered.values()) <= FRAMES_PER_TURN + max_queue, answered
    assert frames(b"".join(transport.writes)) == expected


def test_reading_waits_while_frames_already_read_wait_for_the_app() -> None:
    # The app waits in receive(): each message is handed to it and the rest of the read waits
    # for a later turn. The socket is not read meanwhile, or a flood would grow the buffer by
    # a read for every message handled.
    count = 40
    transport = RecordingTransport()
    seen: list[tuple[int, bool]] = []

    async def run() -> None:
        connection = await upgraded(server_state(echo), transport)
        connection.data_received(b"".join(client_frame(TEXT, b"%d" % i) for i in range(count)))
        for _ in range(4 * count):
            seen.append((connection.codec.buffered, connection.reading_paused))
            await asyncio.sleep(0)
        connection.connection_lost(None)
        await turns(5)

    asyncio.run(run())
    assert all(paused for buffered, paused in seen if buffered), seen
    assert seen[-1] == (0, False)
    assert frames(b"".join(transport.writes)) == [(TEXT, b"%d" % i) for i in range(count)]
