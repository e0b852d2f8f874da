"""Counting the turns of an event loop, for tests that assert what happens in which turn."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any


class TurnCounter:
    """The event loop's turn: a callback run by call_soon runs in the next turn, and this one
    schedules itself each time it runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.turn = 0
        self.handle = loop.call_soon(self.count)

    def count(self) -> None:
        self.turn += 1
        self.handle = self.loop.call_soon(self.count)

    def __call__(self) -> int:
        return self.turn


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """A default executor that runs each call at once, in the loop's thread: a call given to
    run_in_executor is done a fixed number of turns later, not whenever a thread gets to it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any,
               **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except OSError as exc:  # what a read fails with; the caller gets it, as from a thread
            future.set_exception(exc)
        return future
