"""What an app of bench/apps.py costs per request by itself, with no server around it.

The ceiling (bench/e2e/ceiling.py) answers fixed bytes and runs no app, so its CPU per request
leaves out what the app's own code takes: the JSON app serializes per request, for one. The
ceiling's CPU per request plus this is the least any server running the app could spend, and a
server's lead over another is bounded by how far that other sits above it.

The app is called as a server calls it for one ``GET /``: a scope, a ``receive`` that returns the
request, a ``send`` that takes each message and does nothing with it. The coroutine is driven by
hand (none of these apps waits on anything), in a loop hot in the caches: a lower bound of what the
same code costs between a server's reads and writes. A whole process may run slow on this
machine class (all its figures up to 1.7 times the others', measured), so the figure is the least
of a few processes'.

    python -m bench.e2e.app_cost json          # µs per call in this process
"""

import subprocess
import sys
import time
from typing import Any

from bench import apps
from bench.e2e.servers import REPO, pinned

CALLS = 1_000
REPEATS = 200
PROCESSES = 3

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


def app_cost_us(app: str, cpu: int | None = None, processes: int = PROCESSES) -> float:
    """µs per call of the app ``app`` (a key of bench.apps.APPS): the least of ``processes``
    fresh processes' figures, each run on ``cpu`` when given."""
    command = pinned([sys.executable, "-m", "bench.e2e.app_cost", app], cpu)
    return min(float(subprocess.run(command, capture_output=True, text=True, check=True,
                                    timeout=60, cwd=REPO).stdout) for _ in range(processes))


def app_cost_here(app: str, calls: int = CALLS, repeats: int = REPEATS) -> float:
    """µs per call of the app ``app`` in this process: the least of ``repeats`` runs of
    ``calls`` calls."""
    call = getattr(apps, apps.APPS[app][0])
    best = float("inf")
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


if __name__ == "__main__":
    print(f"{app_cost_here(sys.argv[1]):.4f}")
