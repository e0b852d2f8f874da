"""The supervisor's view of one worker process: how it was started, what it last said, and the
deadline by which it must say something again.

A worker goes BOOTING -> SERVING (it said READY) and, at any time, -> STOPPING (it was told to
stop, or said STOPPING itself). The deadlines:

  BOOTING   ``--timeout-lifespan`` to import the app and start its event loop, then again from
            its first beat to finish lifespan startup, each plus ``--timeout-worker-healthcheck``.
            Startup may block the event loop (a model loaded synchronously), so beats are not
            required yet; lifespan startup has its own timeout inside the worker as well.
  SERVING   a message every ``--timeout-worker-healthcheck`` seconds.
  STOPPING  the same, and in any case within ``--timeout-graceful-shutdown`` plus
            ``--timeout-lifespan`` (the two bounds of a graceful stop) plus STOP_MARGIN.

Past its deadline a worker is sent SIGKILL.
"""

from __future__ import annotations

import enum
import logging
import os
import signal
import socket
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, Any

from fastasgi.metrics import decode_snapshot
from fastasgi.supervisor.heartbeat import BEAT, READY, SNAPSHOT, STOPPING, read_messages
from fastasgi.supervisor.worker_main import run_worker

if TYPE_CHECKING:
    from fastasgi.config import Config

__all__ = ["STOP_MARGIN", "Phase", "WorkerProcess"]

logger = logging.getLogger("fastasgi.error")

# Seconds a stopping worker gets beyond its own bounds (task cancellation, process exit).
STOP_MARGIN = 5.0

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Phase(enum.Enum):
    BOOTING = "booting"
    SERVING = "serving"
    STOPPING = "stopping"


class WorkerProcess:
    """One worker, started by :meth:`start` and forgotten once :attr:`exitcode` is known."""

    def __init__(self, config: Config, generation: int, number: int) -> None:
        self.config = config
        self.generation = generation    # workers of an older generation are rolled over
        self.number = number            # 1, 2, ... in the order workers were started
        self.phase = Phase.BOOTING
        self.process: Any = None
        self.channel: Connection | None = None
        self.pid = 0
        self.started_at = 0.0
        self.first_beat_at: float | None = None
        self.last_heard_at = 0.0
        self.ready_at: float | None = None
        self.stop_sent_at: float | None = None   # when the supervisor sent SIGTERM
        self.stopped_itself = False             # said STOPPING without being asked
        self.killed_because: str | None = None  # why the supervisor sent SIGKILL
        # Why the supervisor is replacing it (--workers-lifetime, --workers-max-rss): it serves
        # on until its successor does, then is stopped like a worker of an older generation.
        self.retire_reason: str | None = None
        self.rss_checked_at = 0.0
        # Why it is leaving, as the restart counter of --metrics-port labels it (None: it is not
        # being replaced, or it died on its own, which the supervisor learns at its exit).
        self.leaving_because: str | None = None
        self.snapshot: dict[str, Any] | None = None  # its latest metrics (--metrics-port)
        self.exitcode: int | None = None
        # The sentinel can fire before the exit status is there (a child that closed it early);
        # it is then no longer waited on, and the status is polled on every pass.
        self.sentinel_fired = False

    # -- life ------------------------------------------------------------------------------

    def start(self, context: BaseContext, sockets: list[socket.socket], now: float) -> None:
        # NOTE: a forked worker also holds the supervisor's descriptors (the other workers'
        # pipes, its signal wake-up socket). They are harmless there, and all are
        # close-on-exec, so nothing the app runs inherits them.
        reader, writer = context.Pipe(duplex=False)
        forked = context.get_start_method() == "fork"
        self.process = context.Process(  # type: ignore[attr-defined]
            target=run_worker,
            name=f"fastasgi-worker-{self.number}",
            args=(self.config, sockets, writer, os.getpid(), not forked),
        )
        self.process.start()
        writer.close()
        self.channel = reader
        self.pid = self.process.pid
        self.started_at = self.last_heard_at = now

    def stop(self, now: float, sig: int = signal.SIGTERM) -> None:
        """Ask the worker to stop (SIGTERM), or to stop now (SIGINT after SIGTERM)."""
        if self.phase is not Phase.STOPPING or self.stop_sent_at is None:
            self.stop_sent_at = now
        self.phase = Phase.STOPPING
        self._signal(sig)

    def kill(self, reason: str) -> None:
        if self.killed_because is None:
            self.killed_because = reason
        self._signal(getattr(signal, "SIGKILL", signal.SIGTERM))

    def _signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass  # it exited; the supervisor learns that from its sentinel

    # -- what the supervisor waits on ------------------------------------------------------

    def waitables(self) -> list[Any]:
        items: list[Any] = [] if self.sentinel_fired else [self.process.sentinel]
        if self.channel is not None:
            items.append(self.channel)
        return items

    def read(self, now: float) -> list[bytes]:
        """Take in what the worker sent; returns the messages that change its phase."""
        if self.channel is None:
            return []
        messages = read_messages(self.channel)
        if messages is None:  # the worker closed its end: it is exiting
            self.channel.close()
            self.channel = None
            return []
        if messages:
            self.last_heard_at = now
        events = []
        for message in messages:
            if message[:1] == SNAPSHOT:
                snapshot = decode_snapshot(message[1:])
                if snapshot is not None:
                    self.snapshot = snapshot
            elif message == BEAT and self.first_beat_at is None:
                self.first_beat_at = now
            elif message == READY and self.phase is Phase.BOOTING:
                self.phase = Phase.SERVING
                self.ready_at = now
                events.append(READY)
            elif message == STOPPING and self.phase is not Phase.STOPPING:
                self.phase = Phase.STOPPING
                self.stopped_itself = True
                self.stop_sent_at = now
                events.append(STOPPING)
            elif message == READY and self.ready_at is None:
                self.ready_at = now  # ready after all, though already told to stop
        return events

    def reap(self) -> bool:
        """True once the process has exited (then :attr:`exitcode` is set)."""
        code = self.process.exitcode
        if code is None:
            return False
        self.exitcode = code
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        self.process.close()
        return True

    def rss_mib(self) -> float | None:
        """Resident memory of the worker process in MiB, from /proc; None if it is gone."""
        try:
            with open(f"/proc/{self.pid}/statm", encoding="ascii") as file:
                resident_pages = int(file.read().split()[1])
        except (OSError, IndexError, ValueError):
            return None
        return resident_pages * _PAGE_SIZE / (1024 * 1024)

    def forgive_silence(self, now: float) -> None:
        """Restart the health clock: the supervisor itself was not running (SIGSTOP, suspend)."""
        self.last_heard_at = now
        if self.first_beat_at is not None:
            self.first_beat_at = now
        else:
            self.started_at = now

    # -- deadlines ---------------------------------------------------------------------------

    def deadline(self) -> tuple[float, str]:
        """When the worker must next be heard from, and what it is late for if not."""
        config = self.config
        health = config.timeout_worker_healthcheck
        if self.phase is Phase.BOOTING:
            since = self.first_beat_at if self.first_beat_at is not None else self.started_at
            what = "start serving" if self.first_beat_at is not None else "load the app"
            return since + config.timeout_lifespan + health, f"did not {what} in time"
        silent = self.last_heard_at + health, f"sent no heartbeat for {health:g} s"
        if self.phase is Phase.SERVING or self.stop_sent_at is None:
            return silent
        bound = self.stop_sent_at + (
            config.timeout_graceful_shutdown + config.timeout_lifespan + STOP_MARGIN
        )
        return min(silent, (bound, "did not finish stopping in time"))

    def describe_exit(self) -> str:
        code = self.exitcode
        if self.killed_because is not None:
            return f"killed: it {self.killed_because}"
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"killed by {name}"
        return f"exit code {code}"
