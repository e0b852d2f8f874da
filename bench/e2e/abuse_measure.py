"""What ``run_abuse.py`` measures: a worker's RSS and open files, and a normal client's latency.

All from outside the server: /proc for memory and file descriptors, a plain blocking socket for
latency, so the figures are the same whichever server is measured.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.e2e.cpu_usage import server_processes
from bench.e2e.freezes import Span, overlap
from bench.e2e.servers import HOST, ServerProcess

NORMAL_INTERVAL = 0.005  # seconds between the normal client's requests
NORMAL_TIMEOUT = 5.0


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def worker_pid(server: ServerProcess) -> int:
    """The process that serves: the largest one of the server's process tree."""
    pids = server_processes({server.process.pid}) or {server.process.pid}
    return max(pids, key=lambda pid: _rss_or_zero(pid))


def _rss_or_zero(pid: int) -> int:
    try:
        return rss(pid)
    except (OSError, RuntimeError):
        return 0


class Sampler:
    """Peak RSS and open files of a process, sampled every 50 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = _rss_or_zero(pid)
        self.peak_fds = open_fds(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak_rss = max(self.peak_rss, rss(self.pid))
                self.peak_fds = max(self.peak_fds, open_fds(self.pid))
            except (OSError, RuntimeError):
                return

    def stop(self) -> Sampler:
        self._stop.set()
        self._thread.join()
        return self


@dataclass
class Latency:
    """The normal client's requests on its keep-alive connection, and apart from them the
    first, which opened that connection: a new connection waits first for the server to accept
    it, behind every connection an attack queued before it."""

    samples_ms: list[float] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)  # each request's time.monotonic() span
    errors: int = 0
    timed_ms: list[float] = field(default_factory=list)  # before ``less``: freezes included
    first_span: Span | None = None  # the first request, its connect included
    first_ms: float = float("nan")
    real_time: bool = False  # the client ran at real-time priority (abuse_measure.real_time)

    def less(self, freezes: list[Span]) -> Latency:
        """The same requests, each without the time the whole machine stood still during it
        (``bench.e2e.freezes``): what is left is the server's and the kernel's doing."""
        first_ms = self.first_ms
        if self.first_span is not None:
            start, end = self.first_span
            first_ms = (end - start - overlap(start, end, freezes)) * 1000
        return Latency([(end - start - overlap(start, end, freezes)) * 1000
                        for start, end in self.spans], self.spans, self.errors,
                       timed_ms=self.samples_ms, first_span=self.first_span,
                       first_ms=first_ms, real_time=self.real_time)

    @property
    def timed_max(self) -> float:
        return max(self.timed_ms or self.samples_ms, default=float("nan"))

    def pct(self, q: float) -> float:
        if not self.samples_ms:
            return float("nan")
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return self.pct(0.50)

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    @property
    def max(self) -> float:
        return max(self.samples_ms, default=float("nan"))


def _read_response(sock: socket.socket, buffer: bytearray) -> None:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    buffer[:] = rest[length:]


@contextmanager
def on_cpu(cpu: int | None) -> Iterator[None]:
    """Run the calling thread on ``cpu`` (anywhere when None) for the block."""
    if cpu is None:
        yield
        return
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


@contextmanager
def real_time() -> Iterator[bool]:
    """Run the calling thread under SCHED_FIFO for the block, where the process may (True).

    The normal client shares its CPU with the server. At normal priority, each of its wake-ups
    waits for the scheduler to end the server's time slice whenever the server keeps that CPU
    busy: a few milliseconds, whatever the server's event loop does. At real-time priority it
    runs as soon as it wakes, as a client on another machine would, and what it measures is
    the server's own delay. It sleeps between requests, so it never holds the CPU."""
    try:
        before = os.sched_getscheduler(0), os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, before[0], before[1])


def normal_client(port: int, seconds: float, over: Callable[[], bool] = lambda: False,
                  cpu: int | None = None) -> Latency:
    """Sequential keep-alive ``GET /``, one every NORMAL_INTERVAL, for ``seconds`` or until
    ``over()`` (the attack it measures has ended), from ``cpu``, at real-time priority where
    it may (``real_time``)."""
    with on_cpu(cpu), real_time() as realtime:
        latency = _requests(port, seconds, over)
        latency.real_time = realtime
        return latency


def _requests(port: int, seconds: float, over: Callable[[], bool]) -> Latency:
    result = Latency()
    sock: socket.socket | None = None
    buffer = bytearray()
    end = time.monotonic() + seconds
    while time.monotonic() < end and not over():
        started = time.monotonic()
        try:
            if sock is None:
                sock = socket.create_connection((HOST, port), timeout=NORMAL_TIMEOUT)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buffer.clear()
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            _read_response(sock, buffer)
            done = time.monotonic()
            if result.first_span is None:
                result.first_span = (started, done)
                result.first_ms = (done - started) * 1000
            else:
                result.samples_ms.append((done - started) * 1000)
                result.spans.append((started, done))
        except OSError:
            result.errors += 1
            if sock is not None:
                sock.close()
            sock = None
        time.sleep(NORMAL_INTERVAL)
    if sock is not None:
        sock.close()
    return result
