"""Run ``python -m fastasgi`` (or gunicorn) with several workers for a test, and talk to it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from tests.support.server import read_response

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.supervisor.apps:app"

T = TypeVar("T")


class Supervised:
    """A server process tree started by a test; its output is collected line by line."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None,
                 cwd: Path = ROOT) -> None:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1", **(env or {}))
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.pid = self.process.pid
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()
        self.port = 0

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_for_port(self, timeout: float = 15.0) -> int:
        match = self.wait_for(
            lambda: re.search(r"running on https?://[^\s]+:(\d+)", self.log), timeout,
            "the server to report its port",
        )
        self.port = int(match.group(1))
        return self.port

    def wait_for(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; output:\n{self.log}")
            if self.process.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"exited ({self.process.returncode}) while waiting for "
                                     f"{what}; output:\n{self.log}")
            time.sleep(0.05)

    def get(self, path: str = "/", timeout: float = 10.0) -> tuple[int, bytes]:
        """One request on a connection of its own."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
            status, _, body = read_response(sock)
        return status, body

    def answering_pid(self, path: str = "/") -> int:
        status, body = self.get(path)
        assert status == 200, (status, body)
        return int(body)

    def pids_answering(self, count: int, timeout: float = 15.0) -> set[int]:
        """Send requests until ``count`` different workers have answered."""
        seen: set[int] = set()

        def enough() -> set[int] | None:
            seen.add(self.answering_pid())
            return seen if len(seen) >= count else None

        return self.wait_for(enough, timeout, f"{count} workers to answer")

    def workers(self) -> set[int]:
        return children_of(self.pid)

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait_for_end_of_output(self, timeout: float) -> None:
        """Until every process that holds the output pipe (workers too) has exited."""
        self._reader.join(timeout)
        if self._reader.is_alive():
            raise AssertionError(f"output still open after {timeout} s:\n{self.log}")

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self) -> None:
        """Make sure nothing is left running: SIGTERM, then SIGKILL for the whole tree."""
        if self.process.poll() is None:
            left = children_of(self.pid)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                left |= children_of(self.pid)
                self.process.kill()
                self.process.wait(5)
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._reader.join(5)


@contextlib.contextmanager
def supervise(*args: str, app: str = APP, workers: int = 2, env: dict[str, str] | None = None,
              module: str = "fastasgi") -> Iterator[Supervised]:
    """``python -m fastasgi APP --workers N --port 0 ARGS``, serving once the block starts."""
    command = [sys.executable, "-m", module, app, "--workers", str(workers),
               "--port", "0", "--no-access-log", *args]
    server = Supervised(command, env)
    try:
        server.wait_for_port()
        yield server
    finally:
        server.stop()


def children_of(pid: int) -> set[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as file:
                stat = file.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields start after ")".
        fields = stat[stat.rindex(")") + 2:].split()
        state, parent = fields[0], int(fields[1])
        if parent == pid and state != "Z":
            found.add(int(entry))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Load:
    """Requests sent back to back from a thread, each on its own connection."""

    def __init__(self, server: Supervised, path: str = "/") -> None:
        self.server = server
        self.path = path
        self.pids: list[int] = []
        self.failures: list[str] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                status, body = self.server.get(self.path)
            except OSError as exc:
                self.failures.append(repr(exc))
                continue
            if status != 200:
                self.failures.append(f"status {status}: {body!r}")
            else:
                self.pids.append(int(body))
            time.sleep(0.002)


@contextlib.contextmanager
def load(server: Supervised, path: str = "/") -> Iterator[Load]:
    """Keep sending requests to ``server`` while the block runs."""
    running = Load(server, path)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.stopped.set()
        thread.join(15)
