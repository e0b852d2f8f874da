"""Choose the event loop implementation a server process runs on.

uvloop is the fast path and a dependency wherever it exists (CPython on Linux and macOS). On
Windows and PyPy it does not exist, and a broken or partial install can lack it anywhere, so
``auto`` falls back to the standard asyncio loop and says so in the log. Asking for ``uvloop``
explicitly never falls back: a server that silently runs slower than configured is a bug.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import sys
import warnings

__all__ = ["LOOP_CHOICES", "EventLoopUnavailable", "setup_event_loop", "uvloop_expected"]

LOOP_CHOICES = ("auto", "uvloop", "asyncio")

logger = logging.getLogger("fastasgi.error")


class EventLoopUnavailable(RuntimeError):
    """The requested event loop implementation cannot be imported."""


def uvloop_expected() -> bool:
    """Whether this platform gets uvloop as a dependency (mirrors the marker in pyproject.toml)."""
    return sys.platform != "win32" and platform.python_implementation() == "CPython"


def setup_event_loop(loop: str) -> str:
    """Install the event loop policy for ``loop`` ("auto", "uvloop" or "asyncio").

    Returns the implementation actually in use, "uvloop" or "asyncio"; later ``asyncio.run``
    and ``asyncio.new_event_loop`` calls in this process create loops of that kind."""
    if loop not in LOOP_CHOICES:
        raise ValueError(f"unknown event loop {loop!r}: choose one of {', '.join(LOOP_CHOICES)}")

    if loop == "asyncio":
        _set_policy(None)
        return "asyncio"

    try:
        import uvloop
    except ImportError as exc:
        if loop == "uvloop":
            hint = (
                "pip install uvloop"
                if uvloop_expected()
                else "uvloop does not support this platform; use --loop asyncio"
            )
            raise EventLoopUnavailable(
                f"the uvloop event loop was requested but uvloop is not installed ({hint})"
            ) from exc
        # A missing uvloop is normal on Windows and PyPy, and a broken install elsewhere.
        level = logging.WARNING if uvloop_expected() else logging.INFO
        logger.log(level, "uvloop is not installed; using asyncio")
        _set_policy(None)
        return "asyncio"

    _set_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def _set_policy(policy: asyncio.AbstractEventLoopPolicy | None) -> None:
    # NOTE: Python 3.14 deprecates event loop policies in favour of asyncio.run(loop_factory=...).
    # The policy is still what reaches every loop this process creates, including the one the
    # server's plain asyncio.run() makes, so it stays until a Python without policies is supported.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(policy)
