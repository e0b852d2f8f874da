"""``--reload``: a process that watches files and tells the supervisor which ones changed.

The watching runs in a child process of its own rather than in a thread of the supervisor: the
supervisor forks workers, and a fork taken while another thread holds a lock (watchfiles' or
the logging module's) can leave the child waiting on it forever. The watcher sends each batch
of changed paths that pass the --reload-include/--reload-exclude filter as one message on a
one-way pipe; the supervisor answers with a rolling restart, so the running worker serves until
its successor has imported the app and is listening (see ``Supervisor._on_change``). The first
message, an empty batch, says that the watcher watches: the first worker starts only then, so
a file saved at any time after it started (say, to fix an app that failed to import) is seen.

Which files count follows uvicorn: a path counts if its name matches an include pattern and
neither its name matches an exclude pattern, nor does it lie under an excluded directory (an
exclude that names an existing directory) or under a directory whose name is an exclude without
wildcards or slashes. A path that ends with an include pattern word for word counts even so.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import time
from collections.abc import Iterable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastasgi.errors import ConfigError

if TYPE_CHECKING:
    from fastasgi.config import Config

__all__ = ["FileFilter", "Reloader", "watch_directories"]

logger = logging.getLogger("fastasgi.error")

# How often the watcher wakes without a change, to see whether the supervisor is still there. Its
# first wake also says that it watches: the first worker starts no earlier.
IDLE_WAKE_MS = 250
# The longest the first worker waits for the watcher to watch; then it starts anyway.
WATCHER_START_TIMEOUT = 10.0


class FileFilter:
    """Whether a changed path should trigger a reload."""

    def __init__(self, includes: Sequence[str], excludes: Sequence[str], cwd: Path) -> None:
        self.includes = list(includes)
        self.exclude_dirs: list[Path] = []
        self.excludes: list[str] = []
        for pattern in excludes:
            directory = cwd / pattern
            if directory.is_dir():
                self.exclude_dirs.append(directory.resolve())
            else:
                self.excludes.append(pattern)
        self.exclude_names = {p for p in excludes if "*" not in p and "/" not in p}

    def __call__(self, path: Path) -> bool:
        matched = [pattern for pattern in self.includes if path.match(pattern)]
        if not matched:
            return False
        if any(str(path).endswith(pattern) for pattern in matched):
            return True  # named outright, not by a wildcard: the excludes do not apply
        if any(path.match(pattern) for pattern in self.excludes):
            return False
        parents = set(path.parents)
        if any(directory in parents for directory in self.exclude_dirs):
            return False
        return not set(path.parent.parts) & self.exclude_names


def watch_directories(config: Config) -> list[Path]:
    """--reload-dir's directories (or the current one), absolute, none inside another."""
    given = sorted({Path(d).resolve() for d in config.reload_dirs} or {Path.cwd()})
    return [d for d in given if not any(other in d.parents for other in given)]


class Reloader:
    """The supervisor's handle on the watcher process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.directories = watch_directories(config)
        self.process: Any = None
        self.channel: Connection | None = None

    def start(self, context: BaseContext, inherited_fds: Iterable[int]) -> None:
        if importlib.util.find_spec("watchfiles") is None:
            raise ConfigError(
                "--reload needs watchfiles: pip install 'fastasgi[standard]' "
                "(or pip install watchfiles)"
            )
        includes, excludes = self.config.reload_patterns()
        if context.get_start_method() != "fork":
            inherited_fds = ()  # a fresh interpreter inherits none of them
        reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_watch,
            name="fastasgi-reloader",
            args=([str(d) for d in self.directories], includes, excludes,
                  self.config.reload_delay, writer, os.getpid(), list(inherited_fds)),
            daemon=True,
        )
        self.process.start()
        writer.close()
        self.channel = reader
        logger.info("Will watch for changes in these directories: %s",
                    [str(d) for d in self.directories])

    def wait_until_watching(self) -> None:
        """Return once the watcher watches (its first message), or after WATCHER_START_TIMEOUT."""
        if self.channel is None:
            return
        try:
            if self.channel.poll(WATCHER_START_TIMEOUT):
                self.channel.recv()
                return
        except (EOFError, OSError):
            return  # the watcher is gone: read() says so, at the supervisor's first look
        logger.warning("The file watcher has not started after %g s; starting the server "
                       "anyway (a change saved meanwhile may not be seen).",
                       WATCHER_START_TIMEOUT)

    def waitables(self) -> list[Any]:
        return [self.channel] if self.channel is not None else []

    def read(self) -> list[str]:
        """The paths of the changes waiting on the pipe (empty if none)."""
        if self.channel is None:
            return []
        changed: list[str] = []
        try:
            while self.channel.poll():
                changed.extend(self.channel.recv())
        except (EOFError, OSError):
            self.channel.close()
            self.channel = None
            logger.error("The file watcher stopped; changes will no longer be reloaded.")
        return changed

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.channel is not None:
            self.channel.close()
            self.channel = None


def _watch(
    directories: list[str],
    includes: list[str],
    excludes: list[str],
    delay: float,
    channel: Connection,
    supervisor_pid: int,
    inherited_fds: list[int],
) -> None:
    """The watcher process: send the supervisor each batch of relevant changes."""
    # A forked child holds the supervisor's signal handlers and wake-up descriptor, and its
    # listening sockets; it needs none of them. SIGTERM (from the supervisor) just ends it.
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    for sig in (signal.SIGINT, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)  # Ctrl+C is for the supervisor, which stops us
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for fd in inherited_fds:
        with contextlib.suppress(OSError):
            os.close(fd)

    from watchfiles import watch

    cwd = Path.cwd()
    file_filter = FileFilter(includes, excludes, cwd)
    watching = False
    for changes in watch(*directories, watch_filter=None, yield_on_timeout=True,
                         rust_timeout=IDLE_WAKE_MS, raise_interrupt=False):
        if os.getppid() != supervisor_pid:
            return  # the supervisor is gone
        if not watching:
            # Anything yielded comes after the watches were set: say so (see the module's doc).
            watching = True
            try:
                channel.send([])
            except OSError:
                return
        paths = sorted({path for _, path in changes if file_filter(Path(path))})
        if paths:
            shown = [os.path.relpath(p, cwd) if p.startswith(str(cwd) + os.sep) else p
                     for p in paths]
            try:
                channel.send(shown)
            except OSError:
                return
        time.sleep(delay)  # --reload-delay: uvicorn's pause between two looks
