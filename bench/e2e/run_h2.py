"""End-to-end HTTP/2 throughput of fastasgi, granian and hypercorn over h2c, side by side in one run.

For each app, every server is started once (one worker, pinned to CPU 0) and checked to answer
exactly over HTTP/2 (nghttp, prior knowledge), then warmed up with h2load per scenario. Then the
rounds: each round runs h2load (pinned to CPU 1) once per scenario against every server,
round-robin, starting from a different server each round (bench/e2e/rounds.py). A scenario is a
number of connections and of concurrent streams on each (``64x10``: ``h2load -c 64 -m 10``).
The figures per server and scenario are the MEDIAN requests/s over the rounds and the median
server CPU time per request (the server's processes, from /proc, over the h2load run).

Run directly:  python -m bench.e2e.run_h2 --rounds 3 --duration 10
or through pytest: pytest bench/e2e/test_h2_e2e_bench.py --benchmark-only (see bench/README.md).
"""

import argparse
import datetime
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import machine
from bench.apps import APPS
from bench.e2e.cpu_usage import CpuSample, others_share, servers_cpu_seconds
from bench.e2e.rounds import (
    cpu_us_text,
    markdown_table,
    others_cpu_text,
    ratio_pairs,
    ratio_text,
    round_order,
    spread,
)
from bench.e2e.servers import (
    H2_SERVERS,
    HOST,
    START_TIMEOUT,
    ServerProcess,
    baseline_description,
    command_for_report,
    pinned,
    start_server,
)
from bench.exclusive import exclusive_machine
from bench.options import (
    REPORTS,
    H2BenchConfig,
    add_options,
    from_options,
    parse_scenario,
    report_path,
)

H2LOAD_INSTALL = (
    "apt-get update && apt-get install -y nghttp2-client  (Debian/Ubuntu; macOS: brew install "
    "nghttp2); it brings h2load and nghttp"
)


class H2loadMissing(RuntimeError):
    pass


def require_h2load() -> None:
    missing = [tool for tool in ("h2load", "nghttp") if shutil.which(tool) is None]
    if missing:
        raise H2loadMissing(
            f"the HTTP/2 benchmark needs {' and '.join(missing)} on PATH; install with: "
            f"{H2LOAD_INSTALL}"
        )


@dataclass
class H2loadResult:
    requests_per_s: float
    succeeded: int
    # Requests that got no response (failed, errored or timed out) and responses other than 2xx.
    failed: int
    non_2xx: int
    mean_request_ms: float
    protocol: str
    # Server CPU time (user + system, all its processes) per 2xx response over the run, in µs.
    server_cpu_us: float | None = None
    # Share of the machine's CPUs other processes used during the run (None: not measurable).
    others_cpu: float | None = None

    @property
    def clean(self) -> bool:
        return self.failed == 0 and self.non_2xx == 0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_h2load(output: str) -> H2loadResult:
    """The figures of one ``h2load`` run from its standard output."""
    finished = re.search(r"^finished in \S+, ([\d.]+) req/s", output, re.MULTILINE)
    requests = re.search(
        r"^requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout",
        output,
        re.MULTILINE,
    )
    statuses = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output,
                         re.MULTILINE)
    request_time = re.search(
        r"^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\s", output, re.MULTILINE
    )
    protocol = re.search(r"^Application protocol: (\S+)", output, re.MULTILINE)
    if not (finished and requests and statuses):
        raise ValueError(f"unexpected h2load output:\n{output}")
    failed, errored, timeout = map(int, requests.groups())
    ok, *others = map(int, statuses.groups())
    return H2loadResult(
        requests_per_s=float(finished.group(1)),
        succeeded=ok,
        # h2load's "failed" includes the errored and timed-out ones.
        failed=max(failed, errored + timeout),
        non_2xx=sum(others),
        mean_request_ms=(
            float(request_time.group(1)) * _UNITS_MS[request_time.group(2)]
            if request_time
            else 0.0
        ),
        protocol=protocol.group(1) if protocol else "none",
    )


def h2load_command(url: str, scenario: str, duration: int, cpu: int | None) -> list[str]:
    connections, streams = parse_scenario(scenario)
    # One h2load thread: on its own core it outruns a one-worker Python server (see README).
    return pinned(
        ["h2load", "-t", "1", "-c", str(connections), "-m", str(streams), "-D", str(duration),
         url],
        cpu,
    )


def run_h2load(server: ServerProcess, scenario: str, duration: int,
               cpu: int | None) -> H2loadResult:
    """One h2load run against ``server``, with the server's CPU time over it."""
    command = h2load_command(server.url, scenario, duration, cpu)
    cpu_before = servers_cpu_seconds({server.process.pid})
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=duration + 60
    )
    cpu_after = servers_cpu_seconds({server.process.pid})
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited with {done.returncode}:\n{done.stderr}")
    result = parse_h2load(done.stdout)
    if result.protocol != "h2c":
        # h2load speaks HTTP/2 only here; anything else means the server did not.
        raise RuntimeError(f"{server.name}: h2load negotiated {result.protocol!r}, not h2c")
    # NOTE: the CPU time covers the whole h2load run (connecting, and the requests still in
    # flight when the duration ends) while the count covers the duration: a few hundred requests
    # next to tens of thousands, alike for every server.
    if result.succeeded:
        result.server_cpu_us = (cpu_after - cpu_before) / result.succeeded * 1e6
    return result


_NGHTTP_HEADER = re.compile(r"^\[\s*[\d.]+\] recv \(stream_id=\d+\) (:?[^:\s]+): (.*)$",
                            re.MULTILINE)


def check_h2(server: ServerProcess, timeout: float = START_TIMEOUT) -> None:
    """Wait until ``server`` listens, then require the app's exact response to one ``GET /``
    over HTTP/2 with prior knowledge (nghttp speaks nothing else on an http:// URL)."""
    _, content_type, body = APPS[server.app]
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode} before serving\n"
                f"{server.log_tail()}"
            )
        try:
            socket.create_connection((HOST, server.port), timeout=2.0).close()
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{server.name} did not listen within {timeout:.0f} s ({exc!r})\n"
                    f"{server.log_tail()}"
                ) from None
            time.sleep(0.1)
    # nghttp exits 0 even when it got nothing: what it printed is what counts. -v prints the
    # response headers it received, the plain run only the body.
    verbose = subprocess.run(["nghttp", "-v", server.url], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    headers = dict(_NGHTTP_HEADER.findall(verbose))
    got = subprocess.run(["nghttp", server.url], capture_output=True, timeout=30,
                         check=False).stdout
    answer = (headers.get(":status"), headers.get("content-type", "").encode(), got)
    if answer != ("200", content_type, body):
        raise RuntimeError(
            f"{server.name} answered {answer!r} over HTTP/2 for the {server.app} app\n"
            f"{verbose[-2000:]}"
        )


@dataclass
class AppResult:
    """Every h2load run of one app: runs[scenario][server], servers in the configured order."""

    app: str
    runs: dict[str, dict[str, list[H2loadResult]]]
    commands: dict[str, list[str]]

    def median_rps(self, scenario: str, server: str) -> float:
        return statistics.median(r.requests_per_s for r in self.runs[scenario][server])

    def median_cpu_us(self, scenario: str, server: str) -> float | None:
        known = [r.server_cpu_us for r in self.runs[scenario][server]
                 if r.server_cpu_us is not None]
        return statistics.median(known) if known else None

    def spread(self, scenario: str, server: str) -> float:
        return spread([r.requests_per_s for r in self.runs[scenario][server]])

    def failures(self, scenario: str, server: str) -> int:
        return sum(r.failed + r.non_2xx for r in self.runs[scenario][server])


def run_app(
    app: str, config: H2BenchConfig, progress: Callable[[str], None] = lambda line: None
) -> AppResult:
    """Run every configured server and scenario on ``app``; every server is stopped before this
    returns. Holds the machine-wide benchmark lock meanwhile (bench/exclusive.py)."""
    config.validate()
    require_h2load()
    with exclusive_machine(progress=progress):
        return _run_app_exclusive(app, config, progress)


def _run_app_exclusive(
    app: str, config: H2BenchConfig, progress: Callable[[str], None]
) -> AppResult:
    server_cpu, client_cpu = config.cpus()
    started: list[ServerProcess] = []
    logs = tempfile.TemporaryDirectory(prefix="fastasgi-h2-bench-")
    try:
        for name in config.servers:
            started.append(start_server(name, app, server_cpu, Path(logs.name), H2_SERVERS))
        for server in started:
            check_h2(server)
            for scenario in config.scenarios if config.warmup else ():
                run_h2load(server, scenario, config.warmup, client_cpu)
        runs: dict[str, dict[str, list[H2loadResult]]] = {
            sc: {s.name: [] for s in started} for sc in config.scenarios
        }
        groups = {s.process.pid for s in started}  # each server leads its own process group
        machine_cpus = os.cpu_count() or 1
        for round_index in range(config.rounds):
            for scenario in config.scenarios:
                for server in round_order(started, round_index):
                    before = CpuSample.take(groups)
                    result = run_h2load(server, scenario, config.duration, client_cpu)
                    result.others_cpu = others_share(before, CpuSample.take(groups),
                                                     machine_cpus)
                    runs[scenario][server.name].append(result)
                    progress(f"{app} {scenario} round {round_index + 1}/{config.rounds} "
                             f"{server.name}: {_run_summary(result)}")
                    if server.process.poll() is not None:
                        raise RuntimeError(
                            f"{server.name} died during the run:\n{server.log_tail()}"
                        )
        return AppResult(app, runs, {s.name: s.command for s in started})
    finally:
        for server in started:
            server.stop()
        logs.cleanup()


def _run_summary(result: H2loadResult) -> str:
    cpu = f"{result.server_cpu_us:.0f} µs CPU/request" if result.server_cpu_us else "CPU n/a"
    failures = "" if result.clean else f", {result.failed} failed, {result.non_2xx} non-2xx"
    return f"{result.requests_per_s:,.0f} req/s, {cpu}{failures}"


def results_table(results: list[AppResult], servers: list[str]) -> str:
    """Median req/s per server, app and scenario, and the ratios of the first server's to the
    others' (higher: the first serves more)."""
    pairs = ratio_pairs(servers)
    header = ["app", "scenario", *(f"{s} req/s" for s in servers),
              *(f"{a}/{b}" for a, b in pairs)]
    rows = [header, ["---", "---"] + ["---:"] * (len(header) - 2)]
    for result in results:
        for scenario in result.runs:
            row = [result.app, scenario,
                   *(f"{result.median_rps(scenario, s):,.0f}" for s in servers)]
            row += [ratio_text(result.median_rps(scenario, a), result.median_rps(scenario, b))
                    for a, b in pairs]
            rows.append(row)
    return markdown_table(rows)


def cpu_table(results: list[AppResult], servers: list[str]) -> str:
    """Median server CPU µs per request, and how many times the first server's the others' is
    (higher: the first spends less)."""
    pairs = ratio_pairs(servers)
    header = ["app", "scenario", *(f"{s} µs" for s in servers),
              *(f"{b}/{a}" for a, b in pairs)]
    rows = [header, ["---", "---"] + ["---:"] * (len(header) - 2)]
    for result in results:
        for scenario in result.runs:
            row = [result.app, scenario,
                   *(cpu_us_text(result.median_cpu_us(scenario, s)) for s in servers)]
            row += [ratio_text(result.median_cpu_us(scenario, b),
                               result.median_cpu_us(scenario, a))
                    for a, b in pairs]
            rows.append(row)
    return markdown_table(rows)


def detail_table(results: list[AppResult], servers: list[str]) -> str:
    rows = [
        ["app", "scenario", "server", "req/s (CPU µs/request) per round", "spread",
         "mean request time", "failed", "others"],
        ["---", "---", "---", "---", "---:", "---:", "---:", "---"],
    ]
    for result in results:
        for scenario, per_server in result.runs.items():
            for server in servers:
                runs = per_server[server]
                per_round = ", ".join(
                    f"{r.requests_per_s:,.0f} ({cpu_us_text(r.server_cpu_us)})" for r in runs
                )
                mean_ms = statistics.median(r.mean_request_ms for r in runs)
                rows.append([
                    result.app, scenario, server, per_round,
                    f"{result.spread(scenario, server):.0%}", f"{mean_ms:.2f} ms",
                    str(result.failures(scenario, server)),
                    others_cpu_text([r.others_cpu for r in runs]),
                ])
    return markdown_table(rows)


def failure_lines(results: list[AppResult], servers: list[str]) -> list[str]:
    """One line per server and scenario whose runs had failed or non-2xx requests."""
    return [
        f"- **{result.app} {scenario} {server}: {result.failures(scenario, server)} failed or "
        "non-2xx requests**; its figures measured errors, not speed."
        for result in results
        for scenario in result.runs
        for server in servers
        if result.failures(scenario, server)
    ]


def render_report(results: list[AppResult], config: H2BenchConfig,
                  when: datetime.datetime) -> str:
    server_cpu, client_cpu = config.cpus()
    facts = machine.describe()
    facts["h2load"] = _first_line(["h2load", "--version"])
    failures = failure_lines(results, config.servers)
    lines = [
        f"# HTTP/2 (h2c) throughput, {when:%Y-%m-%d %H:%M} UTC",
        "",
        (
            f"Median over {config.rounds} interleaved rounds of {config.duration} s per server "
            f"and scenario (after a {config.warmup} s warm-up of each); h2load with one thread, "
            "`GET /` over 127.0.0.1, HTTP/2 with prior knowledge. A scenario CxM is C "
            "connections with M concurrent streams on each (`h2load -c C -m M`)."
        ),
        "Servers: one worker each, access log off, uvloop.",
        (
            f"Server pinned to CPU {server_cpu}, h2load to CPU {client_cpu} (taskset): the "
            "requests/s are per core."
            if server_cpu is not None
            else "No CPU pinning (taskset missing, fewer than two CPUs, or pinning turned off)."
        ),
        *baseline_description(config.servers),
        "",
        "Requests/s, and the first server's over each other's:",
        "",
        results_table(results, config.servers),
        "",
        (
            "Server CPU time (user + system, all its processes) per request, in µs, and each "
            "other server's over the first's (above 1: the first spends less):"
        ),
        "",
        cpu_table(results, config.servers),
        "",
        *(["## Failed requests", "", *failures, ""] if failures else
          ["Every request of every run got a 2xx response.", ""]),
        "## Per round",
        "",
        "Spread is (max - min) / median over the rounds. Others is the share of the machine's",
        "CPUs used by other processes during the rounds, median (max). The CPU time per request",
        "covers the whole h2load run (connecting, the requests in flight when it stops), the",
        "count only its duration: a slight overestimate, alike for every server.",
        "",
        detail_table(results, config.servers),
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in facts.items()),
        "",
        "## Command lines",
        "",
        "```",
    ]
    for result in results:
        lines += [command_for_report(result.commands[server]) for server in config.servers]
    lines += [
        shlex.join(h2load_command("http://127.0.0.1:PORT/", scenario, config.duration,
                                  client_cpu))
        for scenario in config.scenarios
    ]
    lines += ["```", ""]
    return "\n".join(lines)


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    return (done.stdout or done.stderr).strip().split("\n", 1)[0]


def write_report(text: str, when: datetime.datetime, directory: Path = REPORTS) -> Path:
    """Write ``<date>T<time>-h2.md``; a report already there is never overwritten."""
    path = report_path("h2", when, directory)
    path.write_text(text)
    return path


def _parse_args(argv: list[str] | None) -> H2BenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(H2BenchConfig, parser.add_argument)
    return from_options(H2BenchConfig, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    config = _parse_args(argv)
    try:
        config.validate()
        require_h2load()
    except (ValueError, H2loadMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    when = datetime.datetime.now(datetime.timezone.utc)
    results = [run_app(app, config, progress=print) for app in config.apps]
    print()
    print(results_table(results, config.servers))
    print()
    print(cpu_table(results, config.servers))
    failures = failure_lines(results, config.servers)
    for line in failures:
        print(line)
    if config.report:
        path = write_report(render_report(results, config, when), when)
        print(f"\nreport: {path}")
    # Failed requests mean a server answered wrongly: the run fails, its report stays.
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
