"""Timeouts that run out together are acted on a bounded number of connections per turn of the
event loop (fastasgi/server.py, ``tick``), so that closing a burst of them does not hold every
other connection's events.

Real HTTP/1.1 connections of one ServerState on a real event loop write to recording transports;
the loop's turns are counted by a callback that schedules itself again each time it runs."""

from __future__ import annotations

import asyncio
from typing import Any

from fastasgi.protocols.state import ServerState
from fastasgi.server import CLOSES_PER_TICK_TURN, VISITS_PER_TICK_TURN, tick
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def closed_per_turn(count: int, request: bytes) -> tuple[dict[int, int], list[RecordingTransport]]:
    """``count`` connections that each sent ``request``, then a tick past every timeout: how
    many transports were closed in each turn from the tick's start, and the transports."""
    transports = [RecordingTransport() for _ in range(count)]
    closed_in: dict[int, int] = {}

    async def run() -> None:
        loop = asyncio.get_running_loop()
        state = ServerState(loop, app, connection_settings(
            access_log=False, timeout_keep_alive=1, timeout_header_read=1))
        for transport in transports:
            http_connection(state, transport).data_received(request)
        for _ in range(5):
            await asyncio.sleep(0)          # every response is written; the connections idle
        state.tick += 5                     # long past both timeouts
        turns = TurnCounter(loop)
        ticking = asyncio.ensure_future(tick(state))
        closed = 0
        while not ticking.done():
            await asyncio.sleep(0)
            now = sum(transport.closed for transport in transports)
            if now > closed:
                closed_in[turns()] = now - closed
                closed = now
        turns.handle.cancel()

    asyncio.run(run())
    return closed_in, transports


def test_idle_connections_timing_out_together_are_closed_a_bounded_number_per_turn() -> None:
    count = 3 * CLOSES_PER_TICK_TURN + 1
    closed_in, transports = closed_per_turn(count, GET)
    assert all(transport.closed for transport in transports)
    assert max(closed_in.values()) <= CLOSES_PER_TICK_TURN, closed_in
    assert len(closed_in) == 4, closed_in
    assert all(b"".join(t.writes).startswith(b"HTTP/1.1 200 OK\r\n") for t in transports)


def test_heads_that_took_too_long_get_their_408s_a_bounded_number_per_turn() -> None:
    count = 2 * CLOSES_PER_TICK_TURN + 1
    closed_in, transports = closed_per_turn(count, b"GET / HT")   # a head trickled, unfinished
    assert all(transport.closed for transport in transports)
    assert max(closed_in.values()) <= CLOSES_PER_TICK_TURN, closed_in
    assert len(closed_in) == 3, closed_in
    assert all(b"".join(t.writes).startswith(b"HTTP/1.1 408 ") for t in transports)


def test_connections_with_nothing_to_do_are_visited_many_per_turn() -> None:
    count = 2 * VISITS_PER_TICK_TURN + 1
    turns_taken: list[int] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        state = ServerState(loop, app, connection_settings(access_log=False))
        transports = [RecordingTransport() for _ in range(count)]
        for transport in transports:
            http_connection(state, transport).data_received(GET)
        for _ in range(5):
            await asyncio.sleep(0)          # every response is written; the connections idle
        turns = TurnCounter(loop)
        start = turns()
        await tick(state)                   # no timeout has run out
        turns_taken.append(turns() - start + 1)
        turns.handle.cancel()
        assert not any(transport.closed for transport in transports)

    asyncio.run(run())
    # A visit per connection, VISITS_PER_TICK_TURN of them a turn: three turns, not the
    # hundreds that CLOSES_PER_TICK_TURN a turn would take.
    assert turns_taken == [3]
