"""All HTTP/1.1 connections of a server together start at most HTTP_REQUESTS_PER_TURN requests per
turn of the event loop (fastasgi/protocols/state.pyx); those whose requests came in a larger
burst wait for a later turn, and every one is answered.

Real HTTP/1.1 connections of one ServerState on a real event loop write to recording transports;
the loop's turns are counted by a callback that schedules itself again each time it runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fastasgi.protocols.state import HTTP_REQUESTS_PER_TURN, ServerState
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def started_per_turn(count: int, request: bytes) -> tuple[Counter[int], list[RecordingTransport]]:
    """``count`` connections whose ``request`` all came in one turn: how many apps began in
    each turn, and the transports."""
    transports = [RecordingTransport() for _ in range(count)]
    began: Counter[int] = Counter()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            began[turns()] += 1
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})

        state = ServerState(loop, app, connection_settings(access_log=False))
        protocols = [http_connection(state, transport) for transport in transports]
        for protocol in protocols:
            protocol.data_received(request)
        for _ in range(4 * (count // HTTP_REQUESTS_PER_TURN + 2)):
            await asyncio.sleep(0)
        turns.handle.cancel()

    asyncio.run(run())
    return began, transports


def test_a_burst_of_requests_on_many_connections_starts_a_bounded_number_per_turn() -> None:
    count = 2 * HTTP_REQUESTS_PER_TURN + 10
    began, transports = started_per_turn(count, GET)
    assert sum(began.values()) == count
    assert max(began.values()) <= HTTP_REQUESTS_PER_TURN, began
    assert len(began) == 3, began
    assert all(b"".join(t.writes).startswith(b"HTTP/1.1 200 OK\r\n") for t in transports)
    assert not any(t.closed for t in transports)


def test_pipelined_requests_of_many_connections_count_together() -> None:
    # Two requests in each read: the second of each waits for the first's response, and the
    # first requests deferred from one turn and the second ones share the next.
    count = HTTP_REQUESTS_PER_TURN + 100
    began, transports = started_per_turn(count, GET * 2)
    assert sum(began.values()) == 2 * count
    assert max(began.values()) <= HTTP_REQUESTS_PER_TURN, began
    assert all(b"".join(t.writes).count(b"HTTP/1.1 200 OK\r\n") == 2 for t in transports)
