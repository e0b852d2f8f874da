"""All HTTP/2 connections of a server together hand their cores at most H2_BYTES_PER_TURN of input
per turn of the event loop (fastasgi/protocols/state.pyx), each at most H2_BYTES_PER_CONNECTION;
what a flood of small frames brought waits for later turns, and all of it is handled.

Each connection is an HTTPProtocol that hands its recording transport over to HTTP/2 at the
preface; all share one ServerState on a real event loop, and a callback that schedules itself
again each time counts the loop's turns. The client's frames are built, and the server's read
back, with hyperframe."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from hyperframe.frame import Frame, SettingsFrame

from fastasgi._h2frames import PREFACE
from fastasgi.protocols.state import H2_BYTES_PER_CONNECTION, H2_BYTES_PER_TURN, ServerState
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter

# SETTINGS frames of 100 parameters (609 bytes), each answered by an ACK, which shows when it was
# handled; far below the core's bound of SETTINGS frames per 10 s, so none ends a connection.
FRAMES = 100
SETTINGS = b"".join([
    (600).to_bytes(3, "big"), bytes([0x4, 0]), (0).to_bytes(4, "big"),
    ((0x1).to_bytes(2, "big") + (4096).to_bytes(4, "big")) * 100,   # HEADER_TABLE_SIZE, as it is
])


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise AssertionError("no request is made")


def acks_per_turn(connections: int) -> tuple[Counter[int], list[int]]:
    """``connections`` clients whose preface and FRAMES large SETTINGS frames came in one read,
    all in one turn: the SETTINGS ACKs written in each turn over all of them, and each client's
    count of them (its preface's SETTINGS' ACK among them)."""
    transports = [RecordingTransport() for _ in range(connections)]
    opening = PREFACE + SettingsFrame(0).serialize() + SETTINGS * FRAMES
    written: Counter[int] = Counter()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)
        state = ServerState(loop, app, connection_settings(access_log=False))
        for transport in transports:
            transport.turn = turns
            http_connection(state, transport)
        for transport in transports:
            transport.protocol.data_received(opening)
        for _ in range(4 * (connections * len(opening) // H2_BYTES_PER_TURN + 2)):
            await asyncio.sleep(0)
        turns.handle.cancel()
        for transport in transports:
            transport.protocol.connection_lost(None)

    asyncio.run(run())
    acks = []
    for transport in transports:
        count = 0
        for turn, data in zip(transport.turns, transport.writes):
            view = memoryview(data)
            while view:
                frame, length = Frame.parse_frame_header(view[:9])
                frame.parse_body(view[9:9 + length])
                if isinstance(frame, SettingsFrame) and "ACK" in frame.flags:
                    written[turn] += 1
                    count += 1
                view = view[9 + length:]
        acks.append(count)
    return written, acks


def test_frames_flooding_many_connections_are_handled_a_shared_budget_per_turn() -> None:
    connections = 20
    written, acks = acks_per_turn(connections)
    assert acks == [FRAMES + 1] * connections
    # A connection's part of a turn may end inside a frame: the frame is handled in the turn its
    # last byte is handed over, so a turn completes up to one frame more per connection.
    assert max(written.values()) <= H2_BYTES_PER_TURN // len(SETTINGS) + connections, written
    assert len(written) >= connections * FRAMES * len(SETTINGS) // H2_BYTES_PER_TURN, written


def test_one_flooding_connection_is_handled_its_own_budget_per_turn() -> None:
    written, acks = acks_per_turn(1)
    assert acks == [FRAMES + 1]
    assert max(written.values()) <= H2_BYTES_PER_CONNECTION // len(SETTINGS) + 1, written
    assert len(written) >= FRAMES * len(SETTINGS) // H2_BYTES_PER_CONNECTION, written
