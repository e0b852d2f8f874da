"""End-to-end HTTP/1.1 throughput of fastasgi, uvicorn and granian, side by side in one run.

For each app, every server is started once (one worker, pinned to CPU 0), checked to answer
exactly, warmed up, and then loaded with wrk (pinned to CPU 1) in rounds: each round runs wrk once
against every server, round-robin, starting from a different server each round, so that drift on
the machine (other load, thermal state) affects all servers alike. The figure per server is the
MEDIAN requests/s over the rounds.

Run directly:  python -m bench.e2e.run_http --servers fastasgi,uvicorn,granian --rounds 3
or through pytest: pytest bench/e2e/test_http_e2e_bench.py --benchmark-only (see bench/README.md).
"""

import argparse
import datetime
import shlex
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import machine
from bench.e2e import wrk as bench_wrk
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
    ServerProcess,
    baseline_description,
    command_for_report,
    start_server,
)
from bench.e2e.wrk import WRK_INSTALL, WrkMissing, WrkResult, require_wrk, run_wrk
from bench.exclusive import exclusive_machine
from bench.options import REPORTS, HttpBenchConfig, add_options, from_options, report_path

# Imported from here by bench/conftest.py and the pytest entry point.
__all__ = ["WRK_INSTALL", "AppResult", "HttpBenchConfig", "WrkMissing", "WrkResult", "run_app"]

def wrk_command(url: str, config: HttpBenchConfig, duration: int, cpu: int | None) -> list[str]:
    return bench_wrk.wrk_command(url, config.threads, config.connections, duration, cpu)


@dataclass
class AppResult:
    """Every wrk run of one app, per server in the configured order."""

    app: str
    runs: dict[str, list[WrkResult]]
    commands: dict[str, list[str]]

    def median_rps(self, server: str) -> float:
        return statistics.median(r.requests_per_s for r in self.runs[server])

    def median_cpu_us(self, server: str) -> float | None:
        known = [r.server_cpu_us for r in self.runs[server] if r.server_cpu_us is not None]
        return statistics.median(known) if known else None

    def median_p99_ms(self, server: str) -> float:
        return statistics.median(r.latency_p99_ms for r in self.runs[server])

    def spread(self, server: str) -> float:
        return spread([r.requests_per_s for r in self.runs[server]])

    def others_cpu(self, server: str) -> str:
        return others_cpu_text([r.others_cpu for r in self.runs[server]])

    def errors(self, server: str) -> int:
        return sum(r.non_2xx + r.socket_errors for r in self.runs[server])


def run_app(
    app: str, config: HttpBenchConfig, progress: Callable[[str], None] = lambda line: None
) -> AppResult:
    """Run every configured server on ``app``; every server is stopped before this returns.

    Holds the machine-wide benchmark lock meanwhile (bench/exclusive.py)."""
    config.validate()
    require_wrk()
    with exclusive_machine(progress=progress):
        return _run_app_exclusive(app, config, progress)


def _run_app_exclusive(
    app: str, config: HttpBenchConfig, progress: Callable[[str], None]
) -> AppResult:
    server_cpu, wrk_cpu = config.cpus()
    started: list[ServerProcess] = []
    logs = tempfile.TemporaryDirectory(prefix="fastasgi-bench-")
    try:
        for name in config.servers:
            started.append(start_server(name, app, server_cpu, Path(logs.name)))
        for server in started:
            server.wait_ready()
            if config.warmup:
                run_wrk(wrk_command(server.url, config, config.warmup, wrk_cpu), config.warmup)
        runs: dict[str, list[WrkResult]] = {s.name: [] for s in started}
        groups = {s.process.pid for s in started}  # each server leads its own process group
        for round_index in range(config.rounds):
            for server in round_order(started, round_index):
                command = wrk_command(server.url, config, config.duration, wrk_cpu)
                result = bench_wrk.measured_wrk(server, command, config.duration, groups)
                runs[server.name].append(result)
                failures = (
                    ""
                    if result.clean
                    else f", {result.non_2xx} non-2xx, {result.socket_errors} socket errors"
                )
                progress(
                    f"{app} round {round_index + 1}/{config.rounds} {server.name}: "
                    f"{result.requests_per_s:,.0f} req/s, "
                    f"{cpu_us_text(result.server_cpu_us)} µs CPU/request, "
                    f"p99 {result.latency_p99_ms:.2f} ms{failures}"
                )
        return AppResult(app, runs, {s.name: s.command for s in started})
    finally:
        for server in started:
            server.stop()
        logs.cleanup()


def results_table(results: list[AppResult], servers: list[str], label: str = "app") -> str:
    """A Markdown table: median req/s per server and app, and the ratios."""
    pairs = ratio_pairs(servers)
    header = [label, *(f"{s} req/s" for s in servers), *(f"{a}/{b}" for a, b in pairs)]
    rows = [header, ["---"] + ["---:"] * (len(header) - 1)]
    for result in results:
        row = [result.app, *(f"{result.median_rps(s):,.0f}" for s in servers)]
        row += [f"{result.median_rps(a) / result.median_rps(b):.2f}" for a, b in pairs]
        rows.append(row)
    return markdown_table(rows)


def cpu_table(results: list[AppResult], servers: list[str], label: str = "app") -> str:
    """Median server CPU µs per request, and how many times the first server's each other's is
    (above 1: the first spends less)."""
    pairs = ratio_pairs(servers)
    header = [label, *(f"{s} µs" for s in servers), *(f"{b}/{a}" for a, b in pairs)]
    rows = [header, ["---"] + ["---:"] * (len(header) - 1)]
    for result in results:
        row = [result.app, *(cpu_us_text(result.median_cpu_us(s)) for s in servers)]
        row += [ratio_text(result.median_cpu_us(b), result.median_cpu_us(a)) for a, b in pairs]
        rows.append(row)
    return markdown_table(rows)


def detail_table(results: list[AppResult], servers: list[str], label: str = "app") -> str:
    rows = [
        [label, "server", "req/s (CPU µs/request) per round", "spread", "median p99 latency",
         "errors", "others"],
        ["---", "---", "---", "---:", "---:", "---:", "---"],
    ]
    for result in results:
        for server in servers:
            per_round = ", ".join(
                f"{r.requests_per_s:,.0f} ({cpu_us_text(r.server_cpu_us)})"
                for r in result.runs[server]
            )
            rows.append(
                [
                    result.app,
                    server,
                    per_round,
                    f"{result.spread(server):.0%}",
                    f"{result.median_p99_ms(server):.2f} ms",
                    str(result.errors(server)),
                    result.others_cpu(server),
                ]
            )
    return markdown_table(rows)


def render_report(
    results: list[AppResult], config: HttpBenchConfig, when: datetime.datetime
) -> str:
    server_cpu, wrk_cpu = config.cpus()
    facts = machine.describe()
    lines = [
        f"# HTTP/1.1 throughput, {when:%Y-%m-%d %H:%M} UTC",
        "",
        (
            f"Median requests/s over {config.rounds} interleaved rounds of {config.duration} s "
            f"(after a {config.warmup} s warm-up per server); wrk with {config.threads} "
            f"thread(s) and {config.connections} keep-alive connections, `GET /` over 127.0.0.1."
        ),
        "Servers: one worker each, access log off, uvloop.",
        (
            f"Server pinned to CPU {server_cpu}, wrk to CPU {wrk_cpu} (taskset)."
            if server_cpu is not None
            else "No CPU pinning (taskset missing, fewer than two CPUs, or pinning turned off)."
        ),
        *baseline_description(config.servers),
        "",
        results_table(results, config.servers),
        "",
        (
            "Server CPU time (user + system, all its processes) per request, in µs, over each "
            "wrk run; each other server's over the first's (above 1: the first spends less):"
        ),
        "",
        cpu_table(results, config.servers),
        "",
        "## Per round",
        "",
        "Spread is (max - min) / median over the rounds. Others is the share of the machine's",
        "CPUs used by other processes during the rounds, median (max); a few percent is the",
        "kernel's own loopback work. Anything else running lowers every server's figure; the",
        "interleaving spreads that over all servers, so ratios hold up better than absolute figures.",
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
        for server in config.servers:
            lines.append(command_for_report(result.commands[server]))
    lines.append(
        shlex.join(wrk_command("http://127.0.0.1:PORT/", config, config.duration, wrk_cpu))
    )
    lines += ["```", ""]
    return "\n".join(lines)


def write_report(text: str, when: datetime.datetime, directory: Path = REPORTS) -> Path:
    """Write ``<date>T<time>-http.md``; a report already there is never overwritten."""
    path = report_path("http", when, directory)
    path.write_text(text)
    return path


def _parse_args(argv: list[str] | None) -> HttpBenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(HttpBenchConfig, parser.add_argument)
    return from_options(HttpBenchConfig, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    config = _parse_args(argv)
    try:
        config.validate()
        require_wrk()
    except (ValueError, WrkMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    when = datetime.datetime.now(datetime.timezone.utc)
    results = [run_app(app, config, progress=print) for app in config.apps]
    print()
    print(results_table(results, config.servers))
    print()
    print(cpu_table(results, config.servers))
    if config.report:
        path = write_report(render_report(results, config, when), when)
        print(f"\nreport: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

