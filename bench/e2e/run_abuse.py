"""Abuse and soak: one server worker against clients that misbehave, with a dated report.

    python -m bench.e2e.run_abuse                              # full scale, fastasgi only
    python -m bench.e2e.run_abuse --scale 0.05                 # a quick check of the script itself
    python -m bench.e2e.run_abuse --servers fastasgi,uvicorn   # side by side
    FASTASGI_BASELINE=../main python -m bench.e2e.run_abuse --servers fastasgi-baseline,fastasgi
                                                               # before/after a change

Each server runs one worker pinned to CPU 0 with short timeouts (keep-alive, header read); wrk
and the attacking clients (``abuse_clients.py``) run on CPU 1; a "normal" client in this process
sends sequential ``GET /`` on one keep-alive connection, one every NORMAL_INTERVAL, to measure the
latency a well-behaved user sees during each attack against a baseline taken just before it.
Memory is the worker's RSS and open files its /proc/PID/fd entries.

The goals below are printed as PASS or FAIL and written to the report; they are not asserted
anywhere (a benchmark fails only when it cannot run). Everything targets 127.0.0.1, every phase
has a count and a time bound, and the servers are stopped however the run ends.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import machine
from bench.e2e.abuse_clients import raise_fd_limit
from bench.e2e.abuse_measure import (
    NORMAL_INTERVAL,
    Latency,
    Sampler,
    normal_client,
    open_fds,
    rss,
    worker_pid,
)
from bench.e2e.cpu_usage import CpuSample, others_share
from bench.e2e.freezes import FreezeWatch
from bench.e2e.servers import (
    HOST,
    REPO,
    SERVERS,
    ServerProcess,
    baseline_root,
    command_for_report,
    free_port,
    launch,
    pinned,
)
from bench.e2e.wrk import WrkMissing, parse_wrk, require_wrk
from bench.exclusive import exclusive_machine
from bench.options import REPORTS, report_path

SERVER_CPU, CLIENT_CPU = 0, 1
MIB = 1 << 20

# The goals (bench/README.md): PASS/FAIL in the report.
GOAL_KEEPALIVE_RSS_GROWTH = 2 * MIB  # over the long keep-alive run, after warm-up
GOAL_IDLE_BYTES = 4096  # RSS per idle keep-alive connection
GOAL_ATTACK_RSS_GROWTH = 64 * MIB  # peak during a flood or the slow readers: bounded, no copies
GOAL_MAX_MS = 50.0  # the normal client's worst request during an attack
GOAL_P99_RATIO = 2.0  # its p99 during an attack over its p99 just before
# A timeout may fire up to this late: servers check timeouts on a 1 s tick, plus slack.
TIMEOUT_GRACE = 2.0


@dataclass
class Scale:
    requests: int = 1_000_000  # keep-alive requests (wrk)
    new_connections: int = 100_000  # requests with Connection: close (wrk)
    idle: int = 10_000
    slowloris: int = 2_000
    slow_readers: int = 500
    ws_connections: int = 50
    pings: int = 20_000  # per WebSocket connection
    frames: int = 100_000
    pipelined: int = 100_000
    h2_connections: int = 50
    window_updates: int = 100_000  # per HTTP/2 connection

    def scaled(self, factor: float) -> Scale:
        return Scale(**{k: max(1, int(v * factor)) for k, v in vars(self).items()})


@dataclass
class Config:
    servers: list[str]
    scale: Scale
    scenarios: list[str]
    keep_alive: float = 5.0
    header_timeout: float = 3.0
    measure: float = 5.0  # seconds of normal-client latency per baseline and per attack
    attack_seconds: float = 15.0  # bound of each flood
    pin: bool = True


# -- load generators ---------------------------------------------------------------------------

WRK_COUNT_SCRIPT = """
-- A fixed count of responses, not a duration: wrk's main thread sleeps for the whole -d, so
-- the thread that reaches the count leaves a file, on which the driver interrupts wrk (SIGINT:
-- wrk stops and prints its figures as usual).
local limit = tonumber(os.getenv("ABUSE_REQUESTS"))
local flag = os.getenv("ABUSE_DONE_FILE")
local done = 0
function response(status, headers, body)
  done = done + 1
  if done == limit then
    local f = io.open(flag, "w")
    f:write("done")
    f:close()
    wrk.thread:stop()
  end
end
"""


def run_wrk_count(port: int, requests: int, connections: int, headers: list[str],
                  cpu: int | None, script: Path, bound: float) -> tuple[list[str], Any]:
    """``requests`` responses from wrk with one thread, or as many as ``bound`` seconds give."""
    flag = script.with_suffix(".done")
    flag.unlink(missing_ok=True)
    command = pinned(["wrk", "--latency", "-t1", f"-c{connections}", f"-d{int(bound)}s",
                      "-s", str(script), *(f"-H{h}" for h in headers),
                      f"http://{HOST}:{port}/"], cpu)
    env = dict(os.environ, ABUSE_REQUESTS=str(requests), ABUSE_DONE_FILE=str(flag))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        deadline = time.monotonic() + bound + 30
        while process.poll() is None and not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited {process.returncode}: {err}")
    return command, parse_wrk(out)


LIVE_ATTACKS: list[subprocess.Popen[str]] = []  # killed when the run is interrupted


class Attack:
    """An ``abuse_clients`` process; ``wait_ready`` blocks until its attack is in full swing."""

    def __init__(self, kind: str, port: int, count: int, seconds: float, size: int,
                 cpu: int | None) -> None:
        self.command = pinned([sys.executable, "-m", "bench.e2e.abuse_clients", kind,
                               "--port", str(port), "--count", str(count),
                               "--seconds", str(seconds), "--size", str(size)], cpu)
        self.bound = seconds + 120  # opening connections and closing them count too
        self.process = subprocess.Popen(self.command, cwd=REPO, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        LIVE_ATTACKS.append(self.process)

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the client's own bounds end it
        if line.strip() != "READY":
            self.process.kill()
            raise RuntimeError(f"{shlex.join(self.command)}: {line!r} "
                               f"{self.process.stderr.read() if self.process.stderr else ''}")

    def result(self) -> dict[str, Any]:
        assert self.process.stdout is not None and self.process.stderr is not None
        try:
            self.process.wait(timeout=self.bound)  # the client prints a few hundred bytes
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError(f"{shlex.join(self.command)} overran its bound") from None
        # NOTE: read through the same file object as wait_ready(): its buffer may already hold
        # the result line.
        out, err = self.process.stdout.read(), self.process.stderr.read()
        if self.process.returncode != 0:
            raise RuntimeError(f"{shlex.join(self.command)} failed:\n{err[-2000:]}")
        return dict(json.loads(out.strip().splitlines()[-1]))


# -- scenarios ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    rows: list[tuple[str, str]]  # (figure, value) for the report
    checks: list[tuple[str, bool]]  # (goal, met)
    commands: list[list[str]] = field(default_factory=list)


def _mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB"


def _latency_rows(base: Latency, during: Latency, watch: FreezeWatch) -> list[tuple[str, str]]:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b > 0 else "n/a"

    frozen = sum(end - start for start, end in watch.spans)
    return [
        ("normal client requests (baseline / during)",
         (f"{len(base.samples_ms)} / {len(during.samples_ms)}"
         f" (errors {base.errors} / {during.errors})")),
        ("p50 ms", f"{base.p50:.2f} / {during.p50:.2f} ({ratio(during.p50, base.p50)})"),
        ("p99 ms", f"{base.p99:.2f} / {during.p99:.2f} ({ratio(during.p99, base.p99)})"),
        ("max ms", f"{base.max:.2f} / {during.max:.2f} ({ratio(during.max, base.max)})"),
        ("max ms as timed, machine freezes included",
         f"{base.timed_max:.2f} / {during.timed_max:.2f}"),
        ("first request, which opened the connection (not in the rows above), ms",
         f"{base.first_ms:.2f} / {during.first_ms:.2f}"),
        ("normal client at real-time priority",
         f"{'yes' if base.real_time else 'no'} / {'yes' if during.real_time else 'no'}"),
        ("server's CPU frozen (bench/e2e/freezes.py)",
         (f"{len(watch.spans)} times, {frozen:.1f} s in all, longest "
          f"{max((e - s for s, e in watch.spans), default=0) * 1000:.0f} ms")),
    ]


def _latency_checks(base: Latency, during: Latency) -> list[tuple[str, bool]]:
    return [
        (f"normal client max <= {GOAL_MAX_MS:.0f} ms", during.max <= GOAL_MAX_MS),
        (f"normal client max <= {GOAL_MAX_MS:.0f} ms over baseline max",
         during.max <= base.max + GOAL_MAX_MS),
        (f"normal client p99 <= {GOAL_P99_RATIO:g}x baseline",
         during.p99 <= GOAL_P99_RATIO * base.p99),
        ("normal client saw no errors", during.errors == 0),
    ]


def _closed_in_time(got: dict[str, Any], timeout: float) -> bool:
    latest = got.get("close_after_s_max")
    return latest is not None and latest <= timeout + TIMEOUT_GRACE


class Run:
    """The scenarios against one running server."""

    def __init__(self, server: ServerProcess, config: Config, cpus: tuple[int | None, int | None],
                 work: Path, progress: Callable[[str], None]) -> None:
        self.server = server
        self.config = config
        # The normal client shares the server's CPU, which the freeze probe watches: what the
        # attackers do on theirs cannot slow the client but through the server.
        self.cpu_server, self.cpu = cpus
        self.pid = worker_pid(server)
        self.progress = progress
        self.script = work / "count.lua"
        self.script.write_text(WRK_COUNT_SCRIPT)

    def settle(self, seconds: float = 1.0) -> None:
        time.sleep(seconds)

    def wait_fds(self, target: int, timeout: float) -> tuple[int, float]:
        """Wait until the worker holds at most ``target`` files; (count, seconds waited)."""
        started = time.monotonic()
        while True:
            now = open_fds(self.pid)
            if now <= target or time.monotonic() - started >= timeout:
                return now, time.monotonic() - started
            time.sleep(0.1)

    def keepalive(self) -> Outcome:
        n = self.config.scale.requests
        self.progress(f"  keep-alive: warm-up, then {n} requests")
        run_wrk_count(self.server.port, max(n // 10, 1000), 64, [], self.cpu, self.script, 120)
        self.settle()
        before = rss(self.pid)
        sampler = Sampler(self.pid)
        command, result = run_wrk_count(self.server.port, n, 64, [], self.cpu, self.script,
                                        max(60, n / 2000))
        sampler.stop()
        self.settle()
        after = rss(self.pid)
        return Outcome("keep-alive requests", [
            ("requests (wrk)", f"{result.requests} at {result.requests_per_s:.0f}/s"),
            ("non-2xx / socket errors", f"{result.non_2xx} / {result.socket_errors}"),
            ("RSS after warm-up / peak / after", (f"{_mib(before)} / {_mib(sampler.peak_rss)} / "
                                                 f"{_mib(after)}")),
            ("RSS growth", f"{(after - before) / 1024:.0f} KiB"),
        ], [(f"RSS growth <= {_mib(GOAL_KEEPALIVE_RSS_GROWTH)}",
             after - before <= GOAL_KEEPALIVE_RSS_GROWTH),
            ("every request answered 2xx", result.clean)], [command])

    def new_connections(self) -> Outcome:
        n = self.config.scale.new_connections
        self.progress(f"  new connections: {n} requests with Connection: close")
        self.settle()
        base = open_fds(self.pid)
        sampler = Sampler(self.pid)
        command, result = run_wrk_count(self.server.port, n, 16, ["Connection: close"],
                                        self.cpu, self.script, max(60, n / 500))
        sampler.stop()
        after, waited = self.wait_fds(base, 10.0)
        return Outcome("requests on new connections", [
            ("requests (wrk, Connection: close)",
             f"{result.requests} at {result.requests_per_s:.0f}/s"),
            ("non-2xx / socket errors", f"{result.non_2xx} / {result.socket_errors}"),
            ("open fds before / peak / after", f"{base} / {sampler.peak_fds} / {after}"),
            ("back to baseline after", f"{waited:.1f} s"),
        ], [("fds back to baseline", after <= base),
            ("every request answered 2xx", result.clean)], [command])

    def idle(self) -> Outcome:
        n = self.config.scale.idle
        keep_alive = self.config.keep_alive
        self.progress(f"  idle: {n} keep-alive connections, closed after {keep_alive:g} s?")
        self.settle()
        base_rss, base_fds = rss(self.pid), open_fds(self.pid)
        attack = Attack("idle", self.server.port, n, keep_alive + 10, 0, self.cpu)
        attack.wait_ready()
        held_rss, held_fds = rss(self.pid), open_fds(self.pid)
        got = attack.result()
        held = max(held_fds - base_fds, 1)
        per_conn = (held_rss - base_rss) / held
        after_fds, _ = self.wait_fds(base_fds, 5.0)
        return Outcome("idle keep-alive connections", [
            ("connections opened / answered", f"{got['opened']} / {got['answered']}"),
            ("held open at the server", str(held_fds - base_fds)),
            ("RSS before / with all idle", f"{_mib(base_rss)} / {_mib(held_rss)}"),
            ("RSS per idle connection", f"{per_conn:.0f} B"),
            ("closed by the server", f"{got['closed']} of {got['answered']}"),
            ("closed after (s, min / median / max)",
             (f"{got['close_after_s_min']} / {got['close_after_s_median']} / "
             f"{got['close_after_s_max']} (--timeout-keep-alive {keep_alive:g})")),
            ("open fds before / after", f"{base_fds} / {after_fds}"),
        ], [(f"< {GOAL_IDLE_BYTES} B per idle connection", per_conn < GOAL_IDLE_BYTES),
            ("all idle connections closed by the server",
             got["answered"] == got["opened"] == n and got["closed"] == n),
            (f"closed within --timeout-keep-alive + {TIMEOUT_GRACE:g} s",
             _closed_in_time(got, keep_alive))],
            [attack.command])

    def _during(self, name: str, kind: str, count: int, seconds: float,
                size: int) -> tuple[Latency, Latency, FreezeWatch, dict[str, Any], Sampler, int,
                                    Attack]:
        """Baseline latency, then the attack with the normal client alongside it; both less
        the time the machine was frozen (``bench.e2e.freezes``)."""
        self.settle()
        watch = FreezeWatch(self.cpu_server)
        try:
            base = normal_client(self.server.port, self.config.measure, cpu=self.cpu_server)
            self.settle(0.5)
            before = rss(self.pid)
            attack = Attack(kind, self.server.port, count, seconds, size, self.cpu)
            attack.wait_ready()
            sampler = Sampler(self.pid)
            during = normal_client(self.server.port, self.config.measure,
                                   over=lambda: attack.process.poll() is not None,
                                   cpu=self.cpu_server)
            got = attack.result()
            sampler.stop()
            watch.stop()
        finally:
            watch.kill()
        return (base.less(watch.spans), during.less(watch.spans), watch, got, sampler, before,
                attack)

    def slowloris(self) -> Outcome:
        n, timeout = self.config.scale.slowloris, self.config.header_timeout
        self.progress(f"  slowloris: {n} connections, one byte a second")
        base_fds = open_fds(self.pid)
        base, during, watch, got, sampler, _before, attack = self._during(
            "slowloris", "slowloris", n, timeout + 10, 0)
        after_fds, _ = self.wait_fds(base_fds, 5.0)
        return Outcome("slowloris", [
            ("connections opened / closed by the server", f"{got['opened']} / {got['closed']}"),
            ("closed after (s, min / median / max)",
             (f"{got['close_after_s_min']} / {got['close_after_s_median']} / "
             f"{got['close_after_s_max']} (--timeout-header-read {timeout:g})")),
            ("open fds before / peak / after", f"{base_fds} / {sampler.peak_fds} / {after_fds}"),
            *_latency_rows(base, during, watch),
        ], [("all slowloris connections closed", got["closed"] == got["opened"] == n),
            (f"closed within --timeout-header-read + {TIMEOUT_GRACE:g} s",
             _closed_in_time(got, timeout)),
            *_latency_checks(base, during)], [attack.command])

    def _flood(self, title: str, kind: str, count: int, size: int,
               describe: Callable[[dict[str, Any]], list[tuple[str, str]]],
               seconds: float | None = None) -> Outcome:
        base, during, watch, got, sampler, before, attack = self._during(
            title, kind, count, seconds or self.config.attack_seconds, size)
        self.settle()
        after = rss(self.pid)
        growth = sampler.peak_rss - before
        return Outcome(title, [
            *describe(got),
            ("RSS before / peak / after", (f"{_mib(before)} / {_mib(sampler.peak_rss)} / "
                                          f"{_mib(after)}")),
            *_latency_rows(base, during, watch),
        ], [(f"peak RSS growth <= {_mib(GOAL_ATTACK_RSS_GROWTH)}",
             growth <= GOAL_ATTACK_RSS_GROWTH), *_latency_checks(base, during)],
            [attack.command])

    def slow_reader(self) -> Outcome:
        n = self.config.scale.slow_readers
        self.progress(f"  slow readers: {n} clients asking for 1 MiB, never reading")
        # They hold their connections for as long as the normal client measures.
        return self._flood("slow readers (1 MiB each, 4 KiB receive buffer)", "slow-reader", n,
                           4096, lambda got: [("clients", str(got["opened"]))],
                           seconds=self.config.measure + 1)

    def _connections_flood(self, title: str, kind: str, connections: int, frames: int,
                           opened: str) -> Outcome:
        """``connections`` connections, each sending ``frames`` frames without reading, held
        open for as long as the normal client measures: the kernel buffers a whole flood at
        once, and the server works through it meanwhile."""
        return self._flood(title, kind, connections, frames, seconds=self.config.measure + 1,
                           describe=lambda got: [
                               (opened, str(got["opened"])),
                               ("frames sent (of asked), then held open",
                                (f"{got['frames_sent']} of {connections * frames} "
                                 f"in {got['seconds']} s")),
                           ])

    def ws_ping_flood(self) -> Outcome:
        s = self.config.scale
        self.progress(f"  ping flood: {s.ws_connections} x {s.pings} pings")
        return self._connections_flood("WebSocket ping flood (125-byte pings, never reading)",
                                       "ws-ping-flood", s.ws_connections, s.pings,
                                       "connections")

    def ws_frame_flood(self) -> Outcome:
        n = self.config.scale.frames
        self.progress(f"  frame flood: {n} echoed messages on one connection")
        return self._flood("WebSocket message flood (100-byte text, echoed, never reading)",
                           "ws-frame-flood", n, 100, seconds=self.config.measure + 1,
                           describe=lambda got: [
                               ("messages sent (of asked), then held open",
                                f"{got['frames_sent']} of {n} in {got['seconds']} s"),
                           ])

    def ws_slow_reader(self) -> Outcome:
        n = self.config.scale.slow_readers
        self.progress(f"  WebSocket slow readers: {n} clients sent a 1 MiB message, never reading")
        # They hold their connections for as long as the normal client measures.
        return self._flood("WebSocket slow readers (a 1 MiB message each, 4 KiB receive buffer)",
                           "ws-slow-reader", n, 4096, lambda got: [("clients", str(got["opened"]))],
                           seconds=self.config.measure + 1)

    def h2_window_flood(self) -> Outcome:
        s = self.config.scale
        self.progress(f"  HTTP/2 flood: {s.h2_connections} x {s.window_updates} WINDOW_UPDATEs")
        return self._connections_flood(
            "HTTP/2 WINDOW_UPDATE flood (13-byte frames, never reading)", "h2-window-flood",
            s.h2_connections, s.window_updates, "connections (HTTP/2 with prior knowledge)")

    def pipelined(self) -> Outcome:
        n = self.config.scale.pipelined
        self.progress(f"  pipelined flood: {n} requests on one connection")
        return self._flood("pipelined flood on one connection", "pipelined", n, 0,
                           lambda got: [("requests sent / answered",
                                         (f"{got['sent']} / {got['answered']} "
                                         f"in {got['seconds']} s"))])


SCENARIOS: dict[str, Callable[[Run], Outcome]] = {
    "keepalive": Run.keepalive,
    "new-connections": Run.new_connections,
    "idle": Run.idle,
    "slowloris": Run.slowloris,
    "slow-reader": Run.slow_reader,
    "ws-ping-flood": Run.ws_ping_flood,
    "ws-frame-flood": Run.ws_frame_flood,
    "ws-slow-reader": Run.ws_slow_reader,
    "pipelined": Run.pipelined,
    "h2-window-flood": Run.h2_window_flood,
}
WEBSOCKET_SCENARIOS = {"ws-ping-flood", "ws-frame-flood", "ws-slow-reader"}


# -- servers -----------------------------------------------------------------------------------


def server_command(name: str, port: int, config: Config) -> list[str]:
    """bench.e2e.servers' command line for ``name``, serving the abuse app with the short timeouts
    each server has a flag for (uvicorn has no header-read timeout; granian's keep-alive
    timeout is not configurable)."""
    command = SERVERS[name]("bench.apps:abuse", port)
    if name.startswith("fastasgi"):  # fastasgi-baseline too: the same flags
        command += ["--timeout-keep-alive", f"{config.keep_alive:g}",
                    "--timeout-header-read", f"{config.header_timeout:g}"]
    elif name == "uvicorn":
        command += ["--timeout-keep-alive", str(max(1, round(config.keep_alive)))]
    elif name == "granian":
        command.remove("--no-ws")  # the WebSocket floods need it
        command[-1:-1] = ["--http1-header-read-timeout",
                          str(int(config.header_timeout * 1000))]
    return command


@dataclass
class ServerResult:
    name: str
    command: list[str]
    outcomes: list[Outcome]
    error: str | None = None


def run_server(name: str, config: Config, work: Path,
               progress: Callable[[str], None]) -> ServerResult:
    cpu_server, cpu_client = (SERVER_CPU, CLIENT_CPU) if config.pin else (None, None)
    port = free_port()
    command = pinned(server_command(name, port, config), cpu_server)
    # fastasgi-baseline runs from its own checkout, so it imports its own code.
    root = baseline_root() if name == "fastasgi-baseline" else REPO
    server = launch(name, "abuse", port, command, work / f"abuse-{name}-{port}.log", root)
    result = ServerResult(name, command, [])
    try:
        server.wait_ready()
        run = Run(server, config, (cpu_server, cpu_client), work, progress)
        progress(f"{name}: worker pid {run.pid}")
        cpus = len(os.sched_getaffinity(0))
        for scenario in config.scenarios:
            before = CpuSample.take({server.process.pid})
            try:
                outcome = SCENARIOS[scenario](run)
            except (RuntimeError, OSError, ValueError, KeyError,
                    subprocess.SubprocessError) as exc:
                outcome = Outcome(scenario, [("error", str(exc).splitlines()[0][:200])],
                                  [("scenario ran", False)])
            share = others_share(before, CpuSample.take({server.process.pid}), cpus)
            if share is not None:
                # On a shared machine, what neighbours took explains slow figures.
                outcome.rows.append(("CPU used by other processes meanwhile",
                                     f"{share:.0%} of {cpus} CPUs"))
            for goal, met in outcome.checks:
                progress(f"    {'PASS' if met else 'FAIL'}  {outcome.scenario}: {goal}")
            result.outcomes.append(outcome)
            if server.process.poll() is not None:
                result.error = f"{name} exited with {server.process.returncode}"
                break
    except RuntimeError as exc:
        result.error = str(exc)
    finally:
        server.stop()
    return result


# -- the report --------------------------------------------------------------------------------


def _plain(command: list[str]) -> str:
    """A command line as a reader would type it: no machine's paths (the baseline's checkout is
    $FASTASGI_BASELINE), no temporary folder (count.lua is WRK_COUNT_SCRIPT)."""
    words = ["count.lua" if w.endswith("/count.lua") else w for w in command]
    return command_for_report(words)


def cpu_pressure() -> str:
    """The kernel's share of time some task waited for a CPU (PSI), over 10 s and 5 min."""
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return "not available"
    fields = dict(item.split("=") for item in some[1:])
    return (f"some task waited for a CPU {fields['avg10']}% of the last 10 s, "
            f"{fields['avg300']}% of the last 5 min (/proc/pressure/cpu)")


def render_report(results: list[ServerResult], config: Config, argv: list[str],
                  when: datetime.datetime, elapsed: float) -> str:
    facts = machine.describe()
    # The interpreter's path says where it ran, not what: keep the implementation and version.
    facts["Python"] = facts["Python"].split(" (")[0]
    facts["CPU pressure at the end"] = cpu_pressure()
    s = config.scale
    lines = [
        f"# Abuse and soak, {when:%Y-%m-%d %H:%M} UTC",
        "",
        ("One worker per server, pinned to CPU 0; wrk and the attacking clients on CPU 1; a normal "
        "client on CPU 0 sends sequential keep-alive `GET /` (one every "
        f"{NORMAL_INTERVAL * 1000:g} ms) for {config.measure:g} s just before each attack (baseline) and during it. Latency "
        "cells read baseline / during (ratio). RSS and open files are the worker's "
        "(/proc/PID/status, /proc/PID/fd). The normal client runs at real-time priority "
        "(SCHED_FIFO) where the run may set it (a row says so): at normal priority, a client "
        "sharing a CPU the server keeps busy waits a scheduler time slice, a few milliseconds, "
        "at each wake-up, whatever the server's event loop does, where a client on another "
        "machine would not."),
        "",
        ("The machine is shared with other work (2 cores): latency figures, and ratios against "
        "a baseline taken seconds earlier, move with whatever else ran then. A virtual machine's "
        "CPUs are also stopped by its host now and then: the normal client runs on the server's "
        "CPU, a probe there (`bench/e2e/freezes.py`) finds the spans in which that CPU ran no "
        "ordinary process, and each request's latency is given less the part of those spans it "
        "overlapped (the p50, p99 and max rows; the goals use these). The row after them gives "
        "the worst request as timed, freezes included. What such a machine adds besides, with "
        "no attack at all, shows in the baseline: hence the goal on the max over the "
        "baseline's."),
        "",
        (f"Scale: {s.requests} keep-alive requests, {s.new_connections} on new connections, "
        f"{s.idle} idle connections, {s.slowloris} slowloris connections, {s.slow_readers} slow "
        f"readers, {s.ws_connections} x {s.pings} pings, {s.frames} WebSocket messages, "
        f"{s.pipelined} pipelined requests, {s.h2_connections} x {s.window_updates} HTTP/2 "
        f"WINDOW_UPDATEs. Run took {elapsed:.0f} s."),
        "",
        "## Goals",
        "",
        "| server | scenario | goal | result |",
        "| --- | --- | --- | --- |",
    ]
    for result in results:
        for outcome in result.outcomes:
            for goal, met in outcome.checks:
                lines.append(f"| {result.name} | {outcome.scenario} | {goal} | "
                             f"{'PASS' if met else '**FAIL**'} |")
        if result.error:
            lines.append(f"| {result.name} | (run) | server kept serving | **FAIL**: "
                         f"{result.error.splitlines()[0][:200]} |")
    for result in results:
        lines += ["", f"## {result.name}", ""]
        for outcome in result.outcomes:
            lines += [f"### {outcome.scenario}", "", "| figure | value |", "| --- | --- |"]
            lines += [f"| {figure} | {value} |" for figure, value in outcome.rows]
            lines.append("")
    lines += ["## Machine", "", *(f"- {k}: {v}" for k, v in facts.items()), "",
              "## Command lines", "", "```",
              "python -m bench.e2e.run_abuse " + shlex.join(argv)]
    for result in results:
        lines.append(_plain(result.command))
        for outcome in result.outcomes:
            lines += [_plain(c).replace(str(REPO) + "/", "") for c in outcome.commands]
    lines += ["```", ""]
    return "\n".join(lines)


def write_report(text: str, when: datetime.datetime) -> Path:
    path = report_path("abuse", when)
    path.write_text(text)
    return path


def _parse_args(argv: list[str]) -> tuple[Config, bool]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="fastasgi",
                        help="comma-separated from: " + ", ".join(SERVERS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated from: " + ", ".join(SCENARIOS))
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every count (0.05 for a quick check)")
    parser.add_argument("--requests", type=int, help="keep-alive requests (after --scale)")
    parser.add_argument("--timeout-keep-alive", type=float, default=5.0)
    parser.add_argument("--timeout-header-read", type=float, default=3.0)
    parser.add_argument("--measure", type=float, default=5.0,
                        help="seconds of normal-client latency per baseline and per attack")
    parser.add_argument("--attack-seconds", type=float, default=15.0,
                        help="bound of each flood")
    parser.add_argument("--no-pin", action="store_true", help="no taskset")
    parser.add_argument("--no-report", action="store_true",
                        help=f"print the report instead of writing it to {REPORTS}/")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = (set(servers) - set(SERVERS)) | (set(scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    scale = Scale().scaled(args.scale)
    if args.requests is not None:
        scale.requests = args.requests
    config = Config(servers, scale, scenarios, args.timeout_keep_alive,
                    args.timeout_header_read, args.measure, args.attack_seconds,
                    pin=not args.no_pin and len(os.sched_getaffinity(0)) >= 2)
    return config, not args.no_report


def progress(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    config, report = _parse_args(argv)
    try:
        require_wrk()
    except WrkMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    limit = raise_fd_limit()  # the servers and clients started from here inherit it
    needed = max(config.scale.idle, config.scale.slowloris) + 100
    if limit < needed:
        print(f"error: RLIMIT_NOFILE is {limit}, {needed} needed", file=sys.stderr)
        return 2
    # A SIGTERM (a timeout around this script) unwinds like Ctrl-C, so the servers are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    when = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="fastasgi-abuse-") as tmp, \
                exclusive_machine(progress=progress):
            for name in config.servers:
                progress(f"{name}:")
                results.append(run_server(name, config, Path(tmp), progress=progress))
    finally:
        for process in LIVE_ATTACKS:
            if process.poll() is None:
                process.kill()
    text = render_report(results, config, argv, when, time.monotonic() - started)
    failed = sum(not met for r in results for o in r.outcomes for _, met in o.checks)
    print(f"\n{failed} goal(s) not met" if failed else "\nevery goal met")
    if report:
        print(f"report: {write_report(text, when)}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
