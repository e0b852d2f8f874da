"""Freezes: the spans of time in which a CPU ran no ordinary process.

A virtual machine on an overcommitted host has its CPUs stopped by the host for tens to hundreds
of milliseconds, several times a second, and when a CPU comes back the kernel's deferred work
runs first. A request timed across such a span is slow for no fault of the server, and no attack
makes it slower: the figure says nothing about fairness.

A probe pinned to the CPU in question sleeps PROBE_SLEEP at a time and keeps each wake-up that
came more than FREEZE_THRESHOLD late. It runs at normal priority, so it sees what any process on
that CPU sees; a server that keeps the CPU busy does not make it late, because the scheduler runs
a task that wakes from a short sleep within a few milliseconds (tested: a busy loop on the same
CPU adds no late span).

    python -m bench.e2e.freezes probe --seconds 10     # one probe; run by FreezeWatch
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

PROBE_SLEEP = 0.002
# Late by more than this is a freeze: above the scheduler's delay for a waking task, and well
# under the 50 ms the fairness goals allow a request.
FREEZE_THRESHOLD = 0.015
PROBE_BOUND = 600.0  # seconds: a probe left behind stops by itself

Span = tuple[float, float]  # time.monotonic() at the start and the end


def probe(seconds: float) -> None:
    """Sleep and wake until ``seconds`` pass or SIGTERM; print {"late": [spans]}."""
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    print(json.dumps({"ready": True}), flush=True)
    late: list[Span] = []
    end = time.monotonic() + seconds
    now = time.monotonic()
    while not stopping and now < end:
        time.sleep(PROBE_SLEEP)
        woke = time.monotonic()
        if woke - now > PROBE_SLEEP + FREEZE_THRESHOLD:
            late.append((now + PROBE_SLEEP, woke))
        now = woke
    print(json.dumps({"late": late}), flush=True)


def overlap(start: float, end: float, spans: Iterable[Span]) -> float:
    """Seconds of [start, end] that fall inside ``spans``."""
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


class FreezeWatch:
    """A probe on ``cpu`` (any CPU when None) from start to ``stop()``; then ``spans`` holds the
    spans in which that CPU stood still."""

    def __init__(self, cpu: int | None) -> None:
        self.spans: list[Span] = []
        command = [sys.executable, "-m", "bench.e2e.freezes", "probe",
                   "--seconds", str(PROBE_BOUND)]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        if self.process.stdout is None or not self.process.stdout.readline():
            raise RuntimeError("the freeze probe did not start")

    def stop(self) -> FreezeWatch:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=10)
        got = json.loads(out.splitlines()[-1])
        self.spans = [(start, end) for start, end in got["late"]]
        return self

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=["probe"])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    probe(min(args.seconds, PROBE_BOUND))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
