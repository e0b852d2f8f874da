"""The supervisor: bind the listening sockets, then keep ``--workers`` server processes alive.

The supervisor never imports the app and never runs an event loop; it is one synchronous loop that
waits on three things at once (``multiprocessing.connection.wait``): each worker's process
sentinel (it exited), each worker's heartbeat pipe (see ``heartbeat``), and a socket that signal
handlers write to. Workers share the sockets bound here, so a connection waiting to be accepted
is never tied to one process: whichever worker is free takes it, and a worker that stops, dies
or hangs leaves nothing behind it in the listen queue.

Signals:
  SIGTERM, SIGINT  stop: SIGTERM to every worker, which finish their requests and run lifespan
                   shutdown; exit 0 once all are gone. A second SIGINT sends the workers SIGINT
                   (stop now: cancel requests, still run lifespan shutdown), a third SIGKILL.
  SIGHUP           rolling restart: start a new worker, wait until it serves, stop one old one,
                   repeat. The new workers import the app afresh (code deployed since is served).
  SIGTTIN/SIGTTOU  one worker more / one fewer (never fewer than one).

A worker that has run for --workers-lifetime seconds, or whose resident memory exceeds
--workers-max-rss (read from /proc every RSS_CHECK_SECONDS), is replaced the same way as in a
rolling restart: its successor starts, and it is stopped once the successor serves.

With --reload, one worker runs and a watcher process (``reloader``) reports changed files; each
change starts a rolling restart. A new worker that cannot load the app (a syntax error just
saved) exits, and the old one keeps serving until the next change. If even the first worker
cannot load the app, the supervisor waits for a change instead of exiting.

A worker that exits without being asked is replaced: at once if it had been serving for
STABLE_SECONDS, otherwise after an exponential back-off (BACKOFF_FIRST doubling up to
BACKOFF_MAX), so an app that crashes on start does not make the supervisor spin. If no worker of
the first start ever serves, the supervisor exits with the failed worker's exit code.

With --metrics-port the supervisor also serves the metrics, summed over its workers (each sends
its counts with its heartbeat), and the probes /healthz and /readyz, from the same loop
(``metrics_server``); it counts the workers it replaces by reason.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from fastasgi.errors import ConfigError
from fastasgi.metrics import MetricsTotals
from fastasgi.supervisor.heartbeat import READY, STOPPING
from fastasgi.supervisor.metrics_server import MetricsServer
from fastasgi.supervisor.process import Phase, WorkerProcess
from fastasgi.supervisor.reloader import Reloader
from fastasgi.supervisor.worker_main import CONTROL_SIGNALS

if TYPE_CHECKING:
    from fastasgi.config import Config

__all__ = ["BACKOFF_FIRST", "BACKOFF_MAX", "MAX_WORKERS", "START_METHOD", "Supervisor"]

logger = logging.getLogger("fastasgi.error")

# NOTE: fork starts a worker in milliseconds and shares the supervisor's imported modules; it
# is safe here because the supervisor has no threads and no event loop. Elsewhere fork is unsafe
# (macOS system libraries) or missing (Windows), so workers start as fresh interpreters.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"

BACKOFF_FIRST = 0.5
BACKOFF_MAX = 16.0
STABLE_SECONDS = 5.0
MAX_WORKERS = 1024
# Longest sleep of the supervisor's loop; deadlines are checked at least this often.
LOOP_SECONDS = 1.0
# How often each worker's resident memory is read under --workers-max-rss.
RSS_CHECK_SECONDS = 1.0
# Waking this much later than asked means the supervisor itself was not running (SIGSTOP, a
# frozen container): the workers' silence is then not their fault. Taking a busy moment for a
# pause costs little: a hung worker is killed one health-check period later.
PAUSE_SECONDS = 0.5

_SIGNAL_NAMES = {sig: signal.Signals(sig).name for sig in CONTROL_SIGNALS}


class Supervisor:
    """Runs ``config.workers`` workers serving ``config``'s app until told to stop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.target = config.worker_count
        self.workers: list[WorkerProcess] = []
        self.context = multiprocessing.get_context(START_METHOD)
        self.sockets: list[socket.socket] = []
        self.generation = 0
        self.started_count = 0
        self.failures = 0               # workers in a row that failed to start or died young
        self.failed_at = 0.0            # when the last of them did
        self.spawn_not_before = 0.0     # back-off after failures
        self.ever_ready = False         # some worker has served: startup works
        self.boot_failure_code: int | None = None
        self.stop_level = 0             # 0 running, 1 stopping, 2 forcing, 3 killing
        self._wake_reader: socket.socket | None = None
        self.reloader: Reloader | None = Reloader(config) if config.reload else None
        self.metrics = MetricsTotals()
        self.metrics_server: MetricsServer | None = None

    def run(self) -> int:
        """Bind, supervise until stopped, return the exit status."""
        from fastasgi.sockets import bind_sockets

        if threading.current_thread() is not threading.main_thread():
            raise ConfigError("--workers > 1 must run in the main thread (it handles signals)")
        self.sockets = bind_sockets(self.config)
        try:
            if self.config.metrics_port is not None:
                self.metrics_server = MetricsServer(
                    self.config.metrics_host, self.config.metrics_port, self)
                host, port = self.metrics_server.address
                logger.info("Metrics on http://%s:%d/metrics (probes: /healthz, /readyz)",
                            f"[{host}]" if ":" in host else host, port)
            with self._signal_handlers():
                if self.reloader is not None:
                    with _signals_blocked():
                        self.reloader.start(self.context, [s.fileno() for s in self.sockets])
                    self.reloader.wait_until_watching()
                return self._supervise()
        finally:
            if self.reloader is not None:
                self.reloader.stop()
            self._kill_remaining()
            self._close_sockets()
            if self.metrics_server is not None:
                self.metrics_server.close()

    # -- the loop ------------------------------------------------------------------------------

    def _supervise(self) -> int:
        if self.reloader is not None:
            logger.info("Started reloader process [%d] using WatchFiles", os.getpid())
        else:
            logger.info(
                "Started supervisor process [%d]: %d workers (%s)",
                os.getpid(), self.target, START_METHOD,
            )
        now = time.monotonic()
        while True:
            if self.stop_level == 0:
                self._recycle(now)
                self._reconcile(now)
            elif not self.workers:
                if self.reloader is not None:
                    logger.info("Stopping reloader process [%d]", os.getpid())  # uvicorn's line
                else:
                    logger.info("Stopped supervisor process [%d]", os.getpid())
                return 0
            if (self.boot_failure_code is not None and not self.ever_ready and not self.workers
                    and self.reloader is None):
                code = self.boot_failure_code
                logger.error(
                    "No worker could start (%s); stopping. The reason is logged above.",
                    f"exit code {code}" if code > 0 else f"killed by signal {-code}",
                )
                return code if code > 0 else 1
            timeout = max(0.0, self._next_wake(now) - now)
            waited_from = time.monotonic()
            ready = wait(self._waitables(), timeout)
            now = time.monotonic()
            if now - waited_from > timeout + PAUSE_SECONDS:
                for worker in self.workers:
                    worker.forgive_silence(now)
            for sig in self._received_signals():
                self._on_signal(sig, now)
            if self.reloader is not None and self.reloader.channel in ready:
                changed = self.reloader.read()
                if changed:
                    self._on_change(changed, now)
            for worker in list(self.workers):
                if worker.process.sentinel in ready:
                    worker.sentinel_fired = True
                for event in worker.read(now):
                    self._on_event(worker, event, now)
            for worker in list(self.workers):
                if worker.reap():
                    self.workers.remove(worker)
                    self._on_exit(worker, now)
            self._enforce_deadlines(now)
            if self.metrics_server is not None:
                self.metrics_server.handle(ready, now)

    def _waitables(self) -> list[Any]:
        items: list[Any] = [self._wake_reader]
        if self.reloader is not None:
            items.extend(self.reloader.waitables())
        for worker in self.workers:
            items.extend(worker.waitables())
        if self.metrics_server is not None:
            items.extend(self.metrics_server.waitables())
        return items

    def _next_wake(self, now: float) -> float:
        wake = now + LOOP_SECONDS
        for worker in self.workers:
            if worker.killed_because is None:
                wake = min(wake, worker.deadline()[0])
        if self.stop_level == 0 and self.spawn_not_before > now:
            wake = min(wake, self.spawn_not_before)
        if self.metrics_server is not None:
            wake = min(wake, self.metrics_server.next_deadline() or wake)
        return wake

    def _enforce_deadlines(self, now: float) -> None:
        for worker in self.workers:
            if worker.killed_because is not None:
                continue
            deadline, late_for = worker.deadline()
            if now >= deadline:
                logger.error("Worker [%d] %s; killing it.", worker.pid, late_for)
                if worker.leaving_because is None and worker.phase is not Phase.STOPPING:
                    worker.leaving_because = (
                        "startup-timeout" if worker.phase is Phase.BOOTING else "heartbeat")
                worker.kill(late_for)

    # -- keeping the right workers -------------------------------------------------------------

    def _recycle(self, now: float) -> None:
        """Mark the workers that --workers-lifetime or --workers-max-rss says to replace."""
        lifetime, max_rss = self.config.workers_lifetime, self.config.workers_max_rss
        if lifetime is None and max_rss is None:
            return
        for worker in self.workers:
            if worker.phase is not Phase.SERVING or worker.retire_reason is not None:
                continue
            if lifetime is not None and now - worker.started_at >= lifetime:
                worker.retire_reason = f"it has run for {lifetime:g} s (--workers-lifetime)"
                worker.leaving_because = "lifetime"
            elif max_rss is not None and now - worker.rss_checked_at >= RSS_CHECK_SECONDS:
                worker.rss_checked_at = now
                rss = worker.rss_mib()
                if rss is not None and rss > max_rss:
                    worker.retire_reason = (
                        f"it uses {rss:.0f} MiB, over --workers-max-rss {max_rss}"
                    )
                    worker.leaving_because = "max-rss"
            if worker.retire_reason is not None:
                logger.info("Replacing worker [%d]: %s", worker.pid, worker.retire_reason)

    def _reconcile(self, now: float) -> None:
        live = [w for w in self.workers if w.phase is not Phase.STOPPING]
        if self.failures and any(
            w.ready_at is not None and w.ready_at > self.failed_at
            and now - w.ready_at >= STABLE_SECONDS for w in live
        ):
            self.failures = 0  # a worker started since the last failure has proved stable
        for worker in live:
            if worker.generation != self.generation and worker.phase is Phase.BOOTING:
                # Superseded before it served (a second SIGHUP, a file saved again): stop it
                # rather than let it count as a running worker to be retired.
                logger.info("Stopping worker [%d]: superseded while starting", worker.pid)
                worker.leaving_because = self._restart_label()
                worker.stop(now)
        live = [w for w in live if w.phase is not Phase.STOPPING]
        old = [w for w in live if w.generation != self.generation or w.retire_reason]
        new = [w for w in live if w.generation == self.generation and not w.retire_reason]
        new_serving = [w for w in new if w.phase is Phase.SERVING]
        new_booting = [w for w in new if w.phase is Phase.BOOTING]
        if old:
            # Rolling restart: one new worker boots at a time; each that serves retires an old one.
            while old and len(old) + len(new_serving) > self.target:
                retired = old.pop(0)
                logger.info("Rolling restart: stopping worker [%d]", retired.pid)
                if retired.leaving_because is None:
                    retired.leaving_because = self._restart_label()
                retired.stop(now)
            if old and not new_booting and self._may_spawn(now, new_booting):
                self._spawn(now)
            return
        excess = len(new) - self.target
        if excess > 0:
            # Booting workers go first (newest first: they serve nobody yet), then the oldest.
            for worker in (new_booting[::-1] + new_serving)[:excess]:
                logger.info("Stopping worker [%d] (%d workers wanted)", worker.pid, self.target)
                worker.stop(now)
            return
        missing = self.target - len(new)
        while missing > 0 and self._may_spawn(now, new_booting):
            new_booting.append(self._spawn(now))
            missing -= 1

    def _may_spawn(self, now: float, booting: list[WorkerProcess]) -> bool:
        if not self.ever_ready and self.boot_failure_code is not None:
            return False  # the first start is failing: wait for the verdict of the others
        if self.failures and booting:
            return False  # after a failure, one attempt at a time
        return now >= self.spawn_not_before

    def _spawn(self, now: float) -> WorkerProcess:
        self.started_count += 1
        worker = WorkerProcess(self.config, self.generation, self.started_count)
        with _signals_blocked():
            worker.start(self.context, self.sockets, now)
        self.workers.append(worker)
        logger.debug("Started worker [%d]", worker.pid)
        return worker

    # -- what workers say and do -----------------------------------------------------------

    def _on_event(self, worker: WorkerProcess, event: bytes, now: float) -> None:
        if event == READY:
            self.ever_ready = True
            logger.debug("Worker [%d] is serving", worker.pid)
        elif event == STOPPING and self.stop_level == 0:
            logger.info("Worker [%d] is stopping on its own; starting another", worker.pid)
            if worker.leaving_because is None:
                worker.leaving_because = "stopped-itself"  # --limit-max-requests, or a signal

    def _on_exit(self, worker: WorkerProcess, now: float) -> None:
        self.metrics.retire(worker.snapshot)
        if self.stop_level == 0:
            reason = worker.leaving_because
            if reason is None and worker.phase is not Phase.STOPPING:
                reason = "died" if worker.ready_at is not None else "failed-to-start"
            if reason is not None:  # else it was stopped for good (fewer workers wanted)
                self.metrics.count_restart(reason)
        how = worker.describe_exit()
        if worker.phase is Phase.STOPPING:
            clean = worker.exitcode == 0 and worker.killed_because is None
            (logger.info if clean else logger.warning)("Worker [%d] stopped (%s)", worker.pid, how)
            return
        if self.stop_level:
            return
        abandoned = False
        if worker.ready_at is None:
            self.failures += 1
            logger.error("Worker [%d] failed to start (%s)", worker.pid, how)
            if not self.ever_ready:
                self.boot_failure_code = worker.exitcode if worker.exitcode else 1
            if worker.generation == self.generation and any(
                w.generation != self.generation for w in self.workers
            ):
                if self.reloader is not None:
                    logger.error("Reload failed; the running worker keeps serving the code "
                                 "it loaded. Fix the error above and save again.")
                else:
                    logger.error("Rolling restart abandoned; the running workers keep serving.")
                for other in self.workers:
                    other.generation = self.generation
                abandoned = True
            elif self.reloader is not None and not self.ever_ready:
                logger.error("Waiting for a file change to try again.")
        elif now - worker.ready_at < STABLE_SECONDS:
            self.failures += 1
            logger.error("Worker [%d] died %.1f s after it started serving (%s)",
                         worker.pid, now - worker.ready_at, how)
        else:
            self.failures = 0
            logger.error("Worker [%d] died (%s)", worker.pid, how)
        if self.failures:
            self.failed_at = now
        if self.failures and (self.ever_ready or self.boot_failure_code is None):
            delay = min(BACKOFF_FIRST * 2 ** (self.failures - 1), BACKOFF_MAX)
            self.spawn_not_before = now + delay
            if not abandoned:  # an abandoned restart starts nothing in its place
                logger.info("Starting its replacement in %.1f s", delay)

    def _on_change(self, changed: list[str], now: float) -> None:
        """--reload: files changed; start a rolling restart onto the new code."""
        if self.stop_level:
            return
        logger.warning("WatchFiles detected changes in %s. Reloading...",
                       ", ".join(f"'{path}'" for path in changed))
        self.generation += 1
        # A reload is the user's own retry: no back-off from earlier failures, and a first
        # start that failed is tried again.
        self.failures = 0
        self.spawn_not_before = 0.0
        if not self.ever_ready:
            self.boot_failure_code = None

    def _restart_label(self) -> str:
        """Why old workers are being replaced by a new generation."""
        return "reload" if self.reloader is not None else "rolling-restart"

    # -- metrics and probes (--metrics-port) -----------------------------------------------

    def metrics_text(self) -> str:
        from fastasgi.metrics_text import render

        live = [w.snapshot for w in self.workers if w.snapshot is not None]
        phases = {phase.value: 0 for phase in Phase}
        for worker in self.workers:
            phases[worker.phase.value] += 1
        return render(self.metrics.total(live), self.metrics.restarts, phases)

    def healthy(self) -> bool:
        """/healthz: not stopping, and every worker that is not leaving has been heard from
        in time (a starting one within its startup bound)."""
        if self.stop_level:
            return False
        now = time.monotonic()
        live = [w for w in self.workers
                if w.phase is not Phase.STOPPING and w.killed_because is None]
        return bool(live) and all(now < w.deadline()[0] for w in live)

    def ready(self) -> bool:
        """/readyz: as many workers serve (lifespan startup done) as are wanted."""
        if self.stop_level:
            return False
        return sum(w.phase is Phase.SERVING for w in self.workers) >= self.target

    # -- signals ---------------------------------------------------------------------------

    def _on_signal(self, sig: int, now: float) -> None:
        if sig in (signal.SIGINT, signal.SIGTERM):
            self._stop(sig, now)
        elif self.stop_level:
            return
        elif sig == getattr(signal, "SIGHUP", None):
            self.generation += 1
            logger.info("Received SIGHUP: rolling restart of %d workers", self.target)
        elif sig == getattr(signal, "SIGTTIN", None):
            if self.target < MAX_WORKERS:
                self.target += 1
            logger.info("Received SIGTTIN: %d workers wanted", self.target)
        elif sig == getattr(signal, "SIGTTOU", None):
            self.target = max(1, self.target - 1)
            logger.info("Received SIGTTOU: %d workers wanted", self.target)

    def _stop(self, sig: int, now: float) -> None:
        name = _SIGNAL_NAMES.get(sig, str(sig))
        if self.stop_level == 0:
            self.stop_level = 1
            logger.info("Received %s: stopping %d workers", name, len(self.workers))
            for worker in self.workers:
                worker.stop(now)
        elif sig == signal.SIGINT and self.stop_level == 1:
            self.stop_level = 2
            logger.warning("Received SIGINT again: stopping the workers now (again to kill them)")
            for worker in self.workers:
                worker.stop(now, signal.SIGINT)
        elif sig == signal.SIGINT and self.stop_level == 2:
            self.stop_level = 3
            for worker in self.workers:
                worker.kill("was interrupted three times")

    @staticmethod
    def _ignore_in_python(sig: int, frame: Any) -> None:
        # Installed so that the interpreter's C handler writes each signal's number to the
        # wake-up socket, where the loop reads them: one byte per signal delivered, while a
        # Python handler runs once for two signals that came before it could run.
        pass

    @contextlib.contextmanager
    def _signal_handlers(self) -> Iterator[None]:
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        self._wake_reader = reader
        previous_wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        previous = {sig: signal.signal(sig, self._ignore_in_python) for sig in CONTROL_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_wakeup)
            reader.close()
            writer.close()

    def _received_signals(self) -> bytes:
        """The numbers of the signals received since the last call, in order."""
        assert self._wake_reader is not None
        received = b""
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while chunk := self._wake_reader.recv(4096):
                received += chunk
        return received

    # -- the end ---------------------------------------------------------------------------

    def _kill_remaining(self) -> None:
        """Leave no worker behind when the loop ended by an exception."""
        for worker in self.workers:
            worker.kill("was left when the supervisor failed")
        for worker in self.workers:
            worker.process.join(5)

    def _close_sockets(self) -> None:
        for sock in self.sockets:
            sock.close()
        path = self.config.uds
        if path:
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.stat(path).st_mode):
                    os.unlink(path)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold back the control signals while a worker starts: a forked child must install its own
    handlers before any can run (the worker unblocks them)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, CONTROL_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
