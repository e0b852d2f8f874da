"""What an app of bench/apps.py costs per request by itself, with no server around it.

The ceiling (bench/e2e/ceiling.py) answers fixed bytes and runs no app, so its CPU per request
leaves out what the app's own code takes: the JSON app serializes per request, for one. The
ceiling's CPU per request plus this is the least any server running the app could spend, and a
server's lead over another is bounded by how far that other sits above it.

The app is called as a server calls it for one ``GET /``: a scope, a ``receive`` that returns the
request, a ``send`` that takes each message and does nothing with it. The coroutine is driven by
hand (none of these apps waits on anything), in a loop hot in the caches: a lower bound of what the
same code costs between a server's reads and writes.
"""

import time
from typing import Any

from bench import apps
from bench.e2e.abuse_measure import on_cpu

CALLS = 20_000
REPEATS = 5

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/",
    "raw_path": b"/",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"127.0.0.1")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
    "state": {},
}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return REQUEST


async def _send(message: dict[str, Any]) -> None:
    pass


def app_cost_us(app: str, cpu: int | None = None, calls: int = CALLS,
                repeats: int = REPEATS) -> float:
    """µs per call of the app ``app`` (a key of bench.apps.APPS), the least of ``repeats`` runs
    of ``calls`` calls, on ``cpu`` when given."""
    call = getattr(apps, apps.APPS[app][0])
    best = float("inf")
    with on_cpu(cpu):
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(calls):
                coroutine = call(SCOPE, _receive, _send)
                try:
                    coroutine.send(None)
                except StopIteration:
                    continue
                coroutine.close()
                raise RuntimeError(f"bench.apps:{apps.APPS[app][0]} waited on something")
            best = min(best, time.perf_counter() - started)
    return best / calls * 1e6
