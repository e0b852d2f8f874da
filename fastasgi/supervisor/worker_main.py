"""The worker side: what a process started by the supervisor runs.

A worker leaves the supervisor's process group, so a Ctrl+C in the terminal reaches the supervisor
alone and every worker is stopped the same way, by the supervisor's signal. It takes over the
signals it may be sent, loads the app (the supervisor never imports it), then serves the listening
sockets the supervisor bound, with a task beside the server that reports to the supervisor (see
``heartbeat``).

SIGTERM, SIGINT and SIGHUP sent to a worker stop it gracefully (a second SIGINT forces), at any
point of its life: during the import, during lifespan startup, or while serving. SIGTTIN and
SIGTTOU are ignored: they are the supervisor's scaling signals, and ignoring SIGTTOU also lets a
worker, which is not in the terminal's foreground group, write its log to a terminal set to
``stty tostop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any

from fastasgi.config import Config
from fastasgi.errors import ConfigError
from fastasgi.importer import load_app
from fastasgi.supervisor.heartbeat import READY, STOPPING, Reporter, report_health, send_snapshot

__all__ = ["CONTROL_SIGNALS", "STOP_SIGNALS", "run_worker"]

logger = logging.getLogger("fastasgi.error")

# Signals the supervisor handles itself; it blocks them while it starts a worker, so that none
# reaches the new process before the process has its own handlers.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
SCALE_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTTIN", "SIGTTOU") if hasattr(signal, name)
)
CONTROL_SIGNALS = STOP_SIGNALS + SCALE_SIGNALS


def run_worker(
    config: Config,
    sockets: list[socket.socket],
    channel: Connection,
    supervisor_pid: int,
    setup_logging: bool,
) -> None:
    """The target of a worker process; exits with the server's exit code.

    ``setup_logging`` is true when the process did not inherit the supervisor's logging (spawn)."""
    if hasattr(os, "setpgid"):
        with contextlib.suppress(OSError):  # only a session leader cannot; a child never is
            os.setpgid(0, 0)
    if setup_logging:
        from fastasgi.logging import configure_logging

        configure_logging(config)
    sys.exit(WorkerMain(config, sockets, channel, supervisor_pid).run())


class WorkerMain:
    """What one server process under a supervisor runs, from its first line to its exit code.

    Not to be confused with ``fastasgi.workers.FastASGIWorker``, the worker class for gunicorn."""

    def __init__(
        self,
        config: Config,
        sockets: list[socket.socket],
        channel: Connection,
        supervisor_pid: int,
    ) -> None:
        from fastasgi.server import Server

        self.config = config
        self.sockets = sockets
        self.reporter = Reporter(channel)
        self.supervisor_pid = supervisor_pid
        self.server = Server(config)
        self.server.on_started = self._on_started

    def run(self) -> int:
        self._take_over_signals()
        if self.config.reload:
            # NOTE: a .pyc records its source's mtime in whole seconds, and its size: a file
            # saved twice within a second at the same size would load the first save's code.
            # Under --reload no .pyc is written, so every worker compiles what is on disk.
            sys.dont_write_bytecode = True
        try:
            self.server.app = load_app(self.config)
        except ConfigError as exc:
            print(exc.report(), file=sys.stderr, flush=True)
            return exc.exit_code
        from fastasgi.loops import EventLoopUnavailable, setup_event_loop

        try:
            setup_event_loop(self.config.loop)
        except EventLoopUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 1
        return asyncio.run(self._serve())

    async def _serve(self) -> int:
        reporting = asyncio.get_running_loop().create_task(
            report_health(self.server, self.reporter, self.supervisor_pid)
        )
        try:
            return await self.server.serve(self.sockets)
        finally:
            reporting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporting
            # The final counts: the supervisor keeps them once this worker is gone.
            send_snapshot(self.server, self.reporter)
            if self.server.should_exit and not self.reporter.said_stopping:
                # It stopped faster than the reporting task looked: an exit the supervisor
                # must not take for a crash.
                self.reporter.send(STOPPING)

    def _take_over_signals(self) -> None:
        """Replace the handlers a forked child inherits from the supervisor, then let signals in."""
        if hasattr(signal, "set_wakeup_fd"):
            signal.set_wakeup_fd(-1)
        for sig in STOP_SIGNALS:
            # The server installs its own SIGINT/SIGTERM handlers once it listens; until then a
            # stop request is remembered and the server stops as soon as it has started.
            signal.signal(sig, self._on_stop_signal)
        for sig in SCALE_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, CONTROL_SIGNALS)

    def _on_started(self) -> None:
        if not self.reporter.send(READY):
            # The pipe is full only if the supervisor stopped reading; it would kill this
            # worker for silence soon anyway, but say so rather than look ready and hang.
            logger.error("Could not tell the supervisor this worker is ready.")

    def _on_stop_signal(self, sig: int, frame: Any) -> None:
        self.server.handle_exit(sig, frame)
