"""The ASGI lifespan protocol (spec 2.0): run the app's startup before serving, its shutdown after.

One ``Lifespan`` per server process. ``startup()`` starts the app as a task with a "lifespan"
scope, hands it ``lifespan.startup`` and waits (bounded) for its answer; ``shutdown()`` does the
same with ``lifespan.shutdown`` once the last connection is done. The scope's ``state`` dict is
what the app fills at startup; the server gives every request a shallow copy of it.

Modes:
  "on"    the app must speak lifespan: any failure to start (exception, early return, timeout,
          ``lifespan.startup.failed``) makes ``startup()`` return False and the server exit.
  "auto"  as "on", except that an app which raises or returns before answering startup is taken
          not to support lifespan; the server then serves without it. ``startup.failed`` and a
          timeout still stop the server: the app did answer, and said no.
  "off"   nothing is run; ``state`` stays empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["MODES", "Lifespan", "LifespanProtocolError"]

Message = MutableMapping[str, Any]
ASGIApp = Callable[..., Awaitable[None]]

MODES: tuple[str, ...] = ("auto", "on", "off")

STARTUP_COMPLETE = "lifespan.startup.complete"
STARTUP_FAILED = "lifespan.startup.failed"
SHUTDOWN_COMPLETE = "lifespan.shutdown.complete"
SHUTDOWN_FAILED = "lifespan.shutdown.failed"

# How long a finished phase waits for the app's coroutine to return before cancelling it.
APP_EXIT_GRACE = 1.0


class LifespanProtocolError(RuntimeError):
    """The app sent a lifespan message that is unknown or out of order."""


class Lifespan:
    """Runs ``app``'s lifespan protocol for one server process."""

    def __init__(
        self,
        app: ASGIApp,
        mode: str = "auto",
        timeout_startup: float = 60.0,
        timeout_shutdown: float = 60.0,
        logger: logging.Logger | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"lifespan mode must be one of {MODES}, not {mode!r}")
        for name, value in (("timeout_startup", timeout_startup),
                            ("timeout_shutdown", timeout_shutdown)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        self.app = app
        self.mode = mode
        self.timeout_startup = float(timeout_startup)
        self.timeout_shutdown = float(timeout_shutdown)
        self.logger = logger if logger is not None else logging.getLogger("fastasgi.error")
        self.state: dict[str, Any] = {}
        # True once the app answered startup.complete: only then is there a shutdown to run.
        self.running = False
        # Only two messages ever go in: lifespan.startup and lifespan.shutdown.
        self._inbox: asyncio.Queue[Message] = asyncio.Queue(maxsize=2)
        self._task: asyncio.Task[None] | None = None
        self._app_error: BaseException | None = None
        self._startup_answer: asyncio.Event | None = None
        self._shutdown_answer: asyncio.Event | None = None
        self._startup_message: str | None = None   # None until answered; "" for complete
        self._shutdown_message: str | None = None
        self._phase = "idle"   # "startup", "serving", "shutdown", "done"

    # -- the server's side ---------------------------------------------------------------

    async def startup(self) -> bool:
        """Run the app's startup. True: serve. False: the server must exit (code 3)."""
        if self.mode == "off":
            return True
        if self._phase != "idle":
            raise RuntimeError("Lifespan.startup() may run only once")
        self._phase = "startup"
        self._startup_answer = asyncio.Event()
        self._shutdown_answer = asyncio.Event()
        self.logger.info("Waiting for application startup.")
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = asyncio.get_running_loop().create_task(self._run_app(scope))
        self._inbox.put_nowait({"type": "lifespan.startup"})
        answered = await self._wait_for_answer(self._startup_answer, self.timeout_startup)

        if answered and self._startup_message == "":
            self._phase = "serving"
            self.running = True
            self.logger.info("Application startup complete.")
            return True
        if answered:
            if self._startup_message:
                self.logger.error("%s", self._startup_message)
            self.logger.error("Application startup failed. Exiting.")
            await self._stop_app()
            return False
        if self._task.done():
            return await self._app_ended_during_startup()
        self.logger.error(
            "Application startup did not complete within %g seconds. Exiting.",
            self.timeout_startup,
        )
        await self._stop_app(grace=0)
        return False

    async def shutdown(self) -> bool:
        """Run the app's shutdown; True when it answered ``lifespan.shutdown.complete``.

        Bounded by ``timeout_shutdown``. Failures are logged, never raised: the server is
        stopping either way."""
        if not self.running:
            return True
        self.running = False
        self._phase = "shutdown"
        assert self._task is not None and self._shutdown_answer is not None
        self.logger.info("Waiting for application shutdown.")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_shutdown
        clean = answered = False
        if self._task.done():
            # An app may return once started: then there is nothing left to shut down.
            clean = self._app_error is None
            if clean:
                self.logger.info("Application shutdown complete.")
            else:
                self._log_app_error("ended before shutdown")
        else:
            self._inbox.put_nowait({"type": "lifespan.shutdown"})
            answered = await self._wait_for_answer(self._shutdown_answer, self.timeout_shutdown)
            if answered and self._shutdown_message == "":
                clean = True
                self.logger.info("Application shutdown complete.")
            elif answered:
                if self._shutdown_message:
                    self.logger.error("%s", self._shutdown_message)
                self.logger.error("Application shutdown failed.")
            elif self._task.done():
                self._log_app_error("ended without completing shutdown")
            else:
                self.logger.error(
                    "Application shutdown did not complete within %g seconds.",
                    self.timeout_shutdown,
                )
        # An app that answered may still be closing things: it gets what is left of the timeout.
        await self._stop_app(grace=max(0.0, deadline - loop.time()) if answered else 0)
        if clean and self._app_error is not None and self._shutdown_message == "":
            # Answered, then raised on the way out: the shutdown itself still happened.
            self._log_app_error("raised after completing shutdown")
        self._phase = "done"
        return clean

    # -- the app's side ------------------------------------------------------------------

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        kind = message.get("type") if isinstance(message, MutableMapping) else None
        if kind in (STARTUP_COMPLETE, STARTUP_FAILED):
            if self._phase != "startup" or self._startup_message is not None:
                raise LifespanProtocolError(f"{kind!r} sent outside lifespan startup")
            self._startup_message = "" if kind == STARTUP_COMPLETE else _reason(message)
            assert self._startup_answer is not None
            self._startup_answer.set()
        elif kind in (SHUTDOWN_COMPLETE, SHUTDOWN_FAILED):
            if self._phase != "shutdown" or self._shutdown_message is not None:
                raise LifespanProtocolError(f"{kind!r} sent before lifespan.shutdown")
            self._shutdown_message = "" if kind == SHUTDOWN_COMPLETE else _reason(message)
            assert self._shutdown_answer is not None
            self._shutdown_answer.set()
        else:
            raise LifespanProtocolError(f"unexpected lifespan message type {kind!r}")

    # -- internals -----------------------------------------------------------------------

    async def _run_app(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:  # noqa: BLE001 - reported by startup()/shutdown()
            self._app_error = exc

    async def _wait_for_answer(self, answer: asyncio.Event, timeout: float) -> bool:
        """Wait until the app answers or its coroutine ends; False if it did not answer."""
        assert self._task is not None
        if answer.is_set():
            return True
        waiter = asyncio.ensure_future(answer.wait())
        try:
            await asyncio.wait({waiter, self._task}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        return answer.is_set()

    async def _app_ended_during_startup(self) -> bool:
        error = self._app_error
        self._phase = "done"
        if self.mode == "auto" and not isinstance(error, LifespanProtocolError):
            # Most apps without lifespan support assert or raise on the unknown scope type.
            self.logger.info("ASGI 'lifespan' protocol appears unsupported.")
            if error is not None:
                self.logger.debug("The app raised on the lifespan scope:", exc_info=error)
            return True
        if error is not None:
            self.logger.error("Exception in 'lifespan' protocol", exc_info=error)
        else:
            self.logger.error("The app returned without completing lifespan startup.")
        self.logger.error("Application startup failed. Exiting.")
        return False

    async def _stop_app(self, grace: float = APP_EXIT_GRACE) -> None:
        """Let the app's coroutine return on its own for ``grace`` seconds, then cancel it."""
        task = self._task
        if task is None or task.done():
            return
        if grace > 0:
            done, _ = await asyncio.wait({task}, timeout=grace)
            if done:
                return
        task.cancel()
        await asyncio.wait({task}, timeout=APP_EXIT_GRACE)
        if not task.done():
            self.logger.warning("The lifespan task ignored cancellation; leaving it behind.")

    def _log_app_error(self, what: str) -> None:
        if self._app_error is not None:
            self.logger.error("Exception in 'lifespan' protocol", exc_info=self._app_error)
        else:
            self.logger.error("The lifespan app %s.", what)


def _reason(message: Message) -> str:
    reason = message.get("message", "")
    return reason if isinstance(reason, str) else str(reason)
