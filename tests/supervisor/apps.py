"""Apps served by the supervisor tests. Each answers with the pid of the worker that served it.

Paths of ``app``:
  /              the worker's pid
  /sleep?S       the pid, after sleeping S seconds without blocking the event loop
  /block?S       the pid, after blocking the event loop for S seconds (a hung worker)
  /grow?M        the pid, after the worker has taken M MiB more memory, kept until it exits

Environment variables, read by the workers (they inherit them from the test's command):
  SUPERVISOR_TEST_EVENTS      a file that gets a line "PID EVENT" for every import, lifespan
                              startup, request and lifespan shutdown
  SUPERVISOR_TEST_FAIL_IF     startup fails while this file exists (``failing_when_marked``)
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any


def _record(event: str) -> None:
    path = os.environ.get("SUPERVISOR_TEST_EVENTS")
    if path:
        # One write per line on an O_APPEND file: lines from several workers never interleave.
        with open(path, "a", encoding="ascii") as file:
            file.write(f"{os.getpid()} {event}\n")


_record("import")
_kept: list[bytes] = []


async def _lifespan(receive: Any, send: Any, fail_reason: str | None = None) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if fail_reason is not None:
                await send({"type": "lifespan.startup.failed", "message": fail_reason})
                return
            _record("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            _record("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    seconds = float(scope["query_string"] or b"0")
    if scope["path"] == "/sleep":
        await asyncio.sleep(seconds)
    elif scope["path"] == "/block":
        time.sleep(seconds)  # noqa: ASYNC251 -- blocks the event loop on purpose
    elif scope["path"] == "/grow":
        # Written bytes, not a zero-filled buffer: every page is resident.
        _kept.append(b"x" * int(seconds * 1024 * 1024))
    _record("request")
    body = str(os.getpid()).encode()
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


async def failing_startup(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Refuses lifespan startup: every worker exits with code 3."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, fail_reason="the database is unreachable")
        return
    raise AssertionError("a request reached an app that never started")


async def failing_when_marked(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``app``, whose startup fails while the file named by SUPERVISOR_TEST_FAIL_IF exists."""
    if scope["type"] == "lifespan":
        marker = os.environ.get("SUPERVISOR_TEST_FAIL_IF", "")
        reason = "the marker file exists" if marker and os.path.exists(marker) else None
        await _lifespan(receive, send, fail_reason=reason)
        return
    await app(scope, receive, send)


async def answering(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``app``, plus: /status?CODE answers CODE, /fail raises (a 500 from the server), and a
    WebSocket is accepted and echoed."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message.get("text") or ""})
        return
    if scope["type"] == "http" and scope["path"] == "/status":
        status = int(scope["query_string"])
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] == "http" and scope["path"] == "/fail":
        raise RuntimeError("this app fails on purpose")
    await app(scope, receive, send)


async def starting_when_marked(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``app``, whose lifespan startup waits until the file named by SUPERVISOR_TEST_START_WHEN
    exists (within --timeout-lifespan)."""
    if scope["type"] == "lifespan":
        marker = os.environ["SUPERVISOR_TEST_START_WHEN"]
        message = await receive()
        assert message["type"] == "lifespan.startup"
        while not os.path.exists(marker):
            await asyncio.sleep(0.05)
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await app(scope, receive, send)
