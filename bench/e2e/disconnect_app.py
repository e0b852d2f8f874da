"""Apps for bench/e2e/run_disconnect.py: each records, in the file named by FASTASGI_BENCH_STOPS,
the CLOCK_MONOTONIC time at which it learned that its client left (one line per request).

CLOCK_MONOTONIC is one clock for every process of a Linux machine, so the runner compares these
times with the moment its client closed the socket.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

STOPS = os.environ.get("FASTASGI_BENCH_STOPS", os.devnull)
TOKEN_INTERVAL = 0.005  # seconds between tokens of the stream


def record_stop() -> None:
    with open(STOPS, "a") as file:
        file.write(f"{time.monotonic()}\n")


async def tokens() -> AsyncIterator[bytes]:
    try:
        while True:
            yield b"token\n"
            await asyncio.sleep(TOKEN_INTERVAL)
    finally:
        record_stop()


async def stream(request: Any) -> StreamingResponse:
    return StreamingResponse(tokens(), media_type="text/plain")


async def ready(request: Any) -> StreamingResponse:
    async def once() -> AsyncIterator[bytes]:
        yield b"ready"

    return StreamingResponse(once())


streaming = Starlette(routes=[Route("/stream", stream), Route("/ready", ready)])


async def long_poll(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers nothing until the client leaves (a long-poll waiting in receive())."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].replace("lifespan.", "")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    if scope["path"] == "/ready":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ready"})
        return
    while (await receive())["type"] != "http.disconnect":
        pass
    record_stop()
