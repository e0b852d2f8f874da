"""One server process: listen, run lifespan, serve connections, stop gracefully.

The supervisor (``fastasgi.supervisor``) runs one of these per worker; with one worker the CLI
runs it directly. Everything per-connection lives in ``fastasgi.protocols``; this module only
wires sockets, signals, the once-a-second tick and the shutdown sequence.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastasgi._serializer import set_date
from fastasgi.http_grammar import imf_fixdate
from fastasgi.protocols.http import HTTPProtocol
from fastasgi.protocols.state import TICK_SECONDS, ServerState
from fastasgi.settings import ConnectionSettings

if TYPE_CHECKING:
    from fastasgi.config import Config

logger = logging.getLogger("fastasgi.error")

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Connections the tick closes per turn of the event loop, and visits per turn. Timeouts that
# began together run out together: thousands of keep-alive clients that went idle at once, or a
# slowloris attack's connections. Answering one with a 408 and closing it costs 50 to 80
# microseconds: 2,000 closed in one turn held every other connection's events for 57 ms, and 16
# per turn made turns of a millisecond for a tenth of a second. At 4, the tick's own part of a
# turn while it closes 2,000 is at most 0.2 to 0.4 ms. Visiting one with nothing to do costs a
# fraction of a microsecond, so 10,000 idle connections take a few turns, not thousands.
CLOSES_PER_TICK_TURN = 4
VISITS_PER_TICK_TURN = 512


def freeze_startup_objects() -> None:
    """Leave what the app and the server made at startup out of every later garbage collection.

    A full collection walks every object that can hold a cycle: the modules, classes and
    functions of the server and of the app (tens of thousands for a small app, many more for a
    framework's), which live until the process ends. With them walked, one pause of the event
    loop took 3.5 to 5 ms with fastasgi's own modules alone, 9 to 11 ms with 2,000 connections
    open, and every connection waited through it. Frozen, a collection walks what requests made
    since (1 ms with those 2,000 connections). What is unreachable already is collected first,
    so that no garbage is kept for good; an object frozen here is still freed when its last
    reference goes, as always, unless it is in a reference cycle."""
    gc.collect()
    gc.freeze()


async def tick(state: ServerState) -> None:
    """Advance the server's clock by a tick and let every connection act on it: per turn of the
    event loop, until CLOSES_PER_TICK_TURN connections are closed (or were, and linger) or
    VISITS_PER_TICK_TURN were visited."""
    state.tick += 1
    set_date(imf_fixdate())
    closed = visited = 0
    for connection in list(state.connections):
        if closed >= CLOSES_PER_TICK_TURN or visited >= VISITS_PER_TICK_TURN:
            await asyncio.sleep(0)
            closed = visited = 0
        connection.on_tick(state.tick)
        closed += connection.closed
        visited += 1


class Server:
    """Serves ``config``'s app on ``sockets`` (bound from the config when not given)."""

    def __init__(self, config: Config, app: Any = None, serve_metrics: bool = False) -> None:
        self.config = config
        # The app to serve, already loaded by the caller, or None: serve() loads it.
        self.app = app
        # Serve --metrics-port from this process: true when no supervisor does (one worker).
        # Under a supervisor a worker only counts, and sends its counts with its heartbeat.
        self.serve_metrics = serve_metrics and config.metrics_port is not None
        self.metrics_listener: asyncio.Server | None = None
        self.should_exit = False
        self.force_exit = False
        self.started = threading.Event()
        # Called once the sockets accept connections (a supervised worker reports it is ready).
        self.on_started: Callable[[], None] | None = None
        self.state: ServerState | None = None
        self.listeners: list[asyncio.AbstractServer] = []
        self.bound: list[tuple[str, Any]] = []

    # -- entry points --------------------------------------------------------------------

    def run(self, sockets: list[socket.socket] | None = None) -> int:
        """Run the event loop until stopped; return the process exit code."""
        from fastasgi.loops import setup_event_loop

        setup_event_loop(self.config.loop)
        return asyncio.run(self.serve(sockets))

    async def serve(self, sockets: list[socket.socket] | None = None) -> int:
        config = self.config
        loop = asyncio.get_running_loop()
        if self.app is None:
            from fastasgi.importer import load_app

            self.app = load_app(config)
        app = self.app
        state = self.state = ServerState(loop, app, ConnectionSettings.from_config(config))
        set_date(imf_fixdate())
        ssl_context = self._ssl_context()

        from fastasgi.lifespan import Lifespan

        lifespan = Lifespan(
            app,
            config.lifespan,
            timeout_startup=config.timeout_lifespan,
            timeout_shutdown=config.timeout_lifespan,
            logger=logger,
        )
        logger.info("Started server process [%d]", os.getpid())
        if self.serve_metrics:
            # Before lifespan startup, so that /readyz can say "not yet" while it runs.
            await self._start_metrics()
        try:
            return await self._serve_app(state, lifespan, sockets, ssl_context)
        finally:
            if self.metrics_listener is not None:
                self.metrics_listener.close()
                await self.metrics_listener.wait_closed()

    async def _serve_app(self, state: ServerState, lifespan: Any,
                         sockets: list[socket.socket] | None, ssl_context: Any) -> int:
        config = self.config
        loop = asyncio.get_running_loop()
        if not await lifespan.startup():
            return 3
        state.lifespan_state = lifespan.state
        freeze_startup_objects()

        if sockets is None:
            from fastasgi.sockets import bind_sockets

            sockets = bind_sockets(config)
        for sock in sockets:
            listener = await loop.create_server(
                lambda: HTTPProtocol(state), sock=sock, backlog=config.backlog, ssl=ssl_context
            )
            self.listeners.append(listener)
        self._log_listening(sockets, ssl_context is not None)
        self._install_signal_handlers(loop)
        self.started.set()
        if self.on_started is not None:
            self.on_started()

        try:
            await self._main_loop(state)
        finally:
            await self._shutdown(state)
            await lifespan.shutdown()
            self._restore_signal_handlers(loop)
            logger.info("Finished server process [%d]", os.getpid())
        return 0

    # -- the metrics port without a supervisor ---------------------------------------------

    async def _start_metrics(self) -> None:
        from fastasgi.metrics_http import start_metrics_server

        host, port = self.config.metrics_host, self.config.metrics_port
        assert port is not None
        self.metrics_listener = await start_metrics_server(self, host, port)
        name = self.metrics_listener.sockets[0].getsockname()
        logger.info("Metrics on http://%s:%d/metrics (probes: /healthz, /readyz)",
                    f"[{name[0]}]" if ":" in name[0] else name[0], name[1])

    def metrics_text(self) -> str:
        from fastasgi.metrics import EMPTY_SNAPSHOT
        from fastasgi.metrics_text import render

        state = self.state
        if state is None or state.metrics is None:
            return render(EMPTY_SNAPSHOT)
        return render(state.metrics.snapshot(state.total_requests, state.connections))

    def healthy(self) -> bool:
        """/healthz: the event loop answers (it does, to be asked) and the server is not
        stopping."""
        return not self.should_exit

    def ready(self) -> bool:
        """/readyz: lifespan startup is over and the sockets accept, until the server stops."""
        return self.started.is_set() and not self.should_exit

    def handle_exit(self, sig: int | None = None, frame: Any = None) -> None:
        """First signal: stop gracefully. Second: stop now."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True

    # -- internals -----------------------------------------------------------------------

    async def _main_loop(self, state: ServerState) -> None:
        limit = state.settings.max_requests
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + TICK_SECONDS
        while not self.should_exit:
            # Short sleeps so a stop request is seen within 0.1 s; the tick stays at 1 s.
            await asyncio.sleep(TICK_SECONDS / 10)
            if limit and state.total_requests >= limit:
                # The connections take no new request past the limit; this stops the worker.
                logger.warning("Maximum request limit of %d exceeded. Terminating process.", limit)
                self.should_exit = True
                break
            now = loop.time()
            if now >= next_tick:
                # NOTE: ticks follow the clock, not a count of sleeps: on a busy machine each
                # sleep runs long, and timeouts counted in ticks would fire that much later.
                missed = int((now - next_tick) // TICK_SECONDS)
                state.tick += missed
                next_tick += (missed + 1) * TICK_SECONDS
                await tick(state)

    async def _shutdown(self, state: ServerState) -> None:
        logger.info("Shutting down")
        for listener in self.listeners:
            listener.close()
        state.shutting_down = True
        for connection in list(state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout_graceful_shutdown
        next_tick = loop.time() + TICK_SECONDS
        if state.connections or state.tasks:
            logger.info("Waiting for connections to close. (CTRL+C to force quit)")
        while (state.connections or state.tasks) and not self.force_exit:
            if loop.time() >= deadline:
                logger.warning(
                    "Graceful shutdown timed out after %ss; cancelling %d task(s)",
                    self.config.timeout_graceful_shutdown, len(state.tasks),
                )
                break
            await asyncio.sleep(0.05)
            if loop.time() >= next_tick:
                # Timeouts still apply while draining: lingering and idle connections close.
                next_tick += TICK_SECONDS
                await tick(state)
        for task in list(state.tasks):
            task.cancel()
        for connection in list(state.connections):
            connection.force_close()
        if state.tasks:
            await asyncio.wait(list(state.tasks), timeout=1.0)
        for listener in self.listeners:
            await listener.wait_closed()

    def _ssl_context(self) -> Any:
        if not self.config.ssl_certfile:
            return None
        from fastasgi.tls import create_ssl_context

        return create_ssl_context(self.config)

    def _log_listening(self, sockets: list[socket.socket], tls: bool) -> None:
        scheme = "https" if tls else "http"
        for sock in sockets:
            name = sock.getsockname()
            if sock.family == getattr(socket, "AF_UNIX", None):
                where = f"unix socket {name}"
            elif sock.family == socket.AF_INET6:
                where = f"{scheme}://[{name[0]}]:{name[1]}"
            else:
                where = f"{scheme}://{name[0]}:{name[1]}"
            self.bound.append((where, name))
            logger.info("fastasgi running on %s (Press CTRL+C to quit)", where)

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            for sig in HANDLED_SIGNALS:
                loop.add_signal_handler(sig, self.handle_exit, sig, None)
        except NotImplementedError:  # Windows
            for sig in HANDLED_SIGNALS:
                signal.signal(sig, self.handle_exit)

    def _restore_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in HANDLED_SIGNALS:
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass
        if sys.platform == "win32":
            for sig in HANDLED_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
