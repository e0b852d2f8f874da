"""Where a keep-alive request's CPU time goes: fastasgi beside the raw uvloop ceiling, by perf.

    python -m bench.e2e.profile_request                       # plaintext, 64 connections
    python -m bench.e2e.profile_request --app json --seconds 10

Each server runs one worker pinned to CPU 0 and wrk runs on CPU 1 (64 keep-alive connections),
as in ``run_scenarios``. After a warm-up, ``perf record`` samples the worker (kernel and user
space, no call graphs) while wrk runs; the worker's CPU seconds per second over the same span,
divided by wrk's requests per second, give the microseconds per request, and each sample's share
of them is charged to where it fell:

- kernel: system calls, the loopback TCP stack, the scheduler (``[kernel.kallsyms]``);
- interpreter: CPython itself (libpython or the ``python`` binary): bytecode, object allocation,
  reference counting, dictionaries;
- uvloop and libuv (``loop.*.so``);
- each of fastasgi's compiled modules by name;
- libc (memcpy, malloc) and the rest.

Python code has no symbols of its own on 3.11: what the interpreter runs for us (the ASGI app,
the few pure-Python paths) shows as interpreter time. The report names the machine and versions,
lists the groups side by side with their difference, and the symbols that cost the most.
Needs perf (``linux-perf`` / ``linux-tools``) and the right to profile one's own processes
(``/proc/sys/kernel/perf_event_paranoid`` at most 2).
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench import machine
from bench.apps import APPS
from bench.e2e.abuse_measure import worker_pid
from bench.e2e.cpu_usage import servers_cpu_seconds
from bench.e2e.servers import REPO, SERVERS, command_for_report, free_port, launch, pinned
from bench.e2e.wrk import parse_wrk, require_wrk, run_wrk, wrk_command
from bench.options import REPORTS, report_path

SERVER_CPU, CLIENT_CPU = 0, 1
CONNECTIONS = 64
SAMPLE_HZ = 2999  # not a multiple of the timer tick, so samples do not beat against it
TOP_SYMBOLS = 25
PROFILED_APPS = ("plaintext", "json")


@dataclass
class Profile:
    server: str
    rate: float = 0.0  # requests per second (wrk's average over its run)
    busy: float = 0.0  # the worker's CPU seconds per second meanwhile
    groups: dict[str, float] = field(default_factory=dict)  # group -> share of samples
    symbols: list[tuple[float, str, str]] = field(default_factory=list)  # (share, group, symbol)
    command: list[str] = field(default_factory=list)

    @property
    def us_per_request(self) -> float:
        return self.busy / self.rate * 1e6 if self.rate else float("nan")


# The stems of fastasgi's compiled modules ("_parser", "http"): perf names a DSO by its file name.
OUR_MODULES = {path.name.split(".")[0] for path in (REPO / "fastasgi").rglob("*.so")}


def group_of(dso: str) -> str:
    """The group a sample's DSO (as perf names it: its file name) belongs to."""
    if dso.startswith("[kernel"):
        return "kernel"
    stem = dso.split(".")[0]
    if stem.startswith("libpython") or re.fullmatch(r"python3(\.\d+)?", dso):
        return "interpreter"
    if stem in ("loop", "libuv"):  # uvloop's one extension module, which holds libuv
        return "uvloop"
    if ".cpython-" in dso and stem in OUR_MODULES:
        return f"fastasgi {stem}"
    if stem in ("libc", "ld-linux-x86-64"):
        return "libc"
    return "other"


def parse_perf_report(text: str) -> tuple[dict[str, float], list[tuple[float, str, str]]]:
    """Shares per group and per symbol from ``perf report --sort dso,sym`` (percent lines)."""
    groups: dict[str, float] = defaultdict(float)
    symbols: list[tuple[float, str, str]] = []
    for line in text.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$", line)
        if not match:
            continue
        share = float(match.group(1)) / 100
        group = group_of(match.group(2))
        groups[group] += share
        symbols.append((share, group, match.group(3)))
    return dict(groups), sorted(symbols, reverse=True)


def profile(name: str, app: str, seconds: int, work: Path) -> Profile:
    """Serve ``app`` (a name of ``bench.apps.APPS``) with server ``name`` and profile it."""
    port = free_port()
    command = pinned(SERVERS[name](f"bench.apps:{APPS[app][0]}", port), SERVER_CPU)
    server = launch(name, app, port, command, work / f"{name}.log")
    try:
        server.wait_ready()
        pid = worker_pid(server)
        run_wrk(wrk_command(server.url, 1, CONNECTIONS, 2, CLIENT_CPU), 2)  # warm-up
        data = work / f"{name}.perf"
        wrk = subprocess.Popen(wrk_command(server.url, 1, CONNECTIONS, seconds + 2, CLIENT_CPU),
                               stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        started, before = time.monotonic(), servers_cpu_seconds({server.process.pid})
        subprocess.run(["perf", "record", "-q", "-F", str(SAMPLE_HZ), "-p", str(pid),
                        "-o", str(data), "--", "sleep", str(seconds)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The worker's share of a CPU while perf ran (perf's own start and end included).
        busy = ((servers_cpu_seconds({server.process.pid}) - before)
                / (time.monotonic() - started))
        out, _ = wrk.communicate(timeout=60)
        rate = parse_wrk(out).requests_per_s
        report = subprocess.run(
            ["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "dso,sym",
             "--percent-limit", "0.05"],
            check=True, capture_output=True, text=True).stdout
        groups, symbols = parse_perf_report(report)
        return Profile(name, rate, busy, groups, symbols, command)
    finally:
        server.stop()


def render(profiles: list[Profile], app: str, seconds: int, argv: list[str],
           when: datetime.datetime) -> str:
    facts = machine.describe()
    facts["Python"] = facts["Python"].split(" (")[0]
    first, rest = profiles[0], profiles[1:]
    names = [p.server for p in profiles]
    lines = [
        f"# Where a keep-alive request's CPU goes, {when:%Y-%m-%d %H:%M} UTC",
        "",
        (f"`{app}`, {CONNECTIONS} keep-alive connections (wrk on CPU {CLIENT_CPU}), one worker "
         f"pinned to CPU {SERVER_CPU}, {seconds} s of `perf record -F {SAMPLE_HZ}` on the worker "
         "after a warm-up. µs per request = the worker's CPU seconds per second over the span / "
         "the requests per second wrk counted, shared out by where perf's samples fell "
         "(`bench/e2e/profile_request.py` says what each group holds)."),
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        "| requests/s | " + " | ".join(f"{p.rate:,.0f}" for p in profiles) + " |",
        "| worker's CPU use | " + " | ".join(f"{p.busy:.0%}" for p in profiles) + " |",
        "| CPU µs per request | " + " | ".join(f"{p.us_per_request:.2f}" for p in profiles)
        + " |",
        "",
        "## By group, µs per request",
        "",
        "| group | " + " | ".join(names) + (f" | {first.server} − {rest[0].server}" if rest else "")
        + " |",
        "|---|" + "---:|" * (len(names) + (1 if rest else 0)),
    ]
    all_groups = sorted({g for p in profiles for g in p.groups},
                        key=lambda g: -first.groups.get(g, 0) * first.us_per_request)
    for group in all_groups:
        cells = [p.groups.get(group, 0) * p.us_per_request for p in profiles]
        row = f"| {group} | " + " | ".join(f"{c:.2f}" for c in cells)
        if rest:
            row += f" | {cells[0] - cells[1]:+.2f}"
        lines.append(row + " |")
    for p in profiles:
        lines += ["", f"## {p.server}: the {TOP_SYMBOLS} dearest symbols", "",
                  "| µs per request | share | group | symbol |", "|---:|---:|---|---|"]
        for share, group, symbol in p.symbols[:TOP_SYMBOLS]:
            lines.append(f"| {share * p.us_per_request:.3f} | {share:.1%} | {group} | "
                         f"`{symbol}` |")
    lines += ["", "## Machine", "", *(f"- {k}: {v}" for k, v in facts.items()), "",
              "## Command lines", "", "```",
              "python -m bench.e2e.profile_request " + " ".join(argv),
              *(command_for_report(p.command) for p in profiles), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=PROFILED_APPS, default="plaintext")
    parser.add_argument("--seconds", type=int, default=8, help="sampled seconds per server")
    parser.add_argument("--servers", default="fastasgi,ceiling",
                        help="the first is compared with the second")
    parser.add_argument("--no-report", action="store_true", help=f"do not write {REPORTS}/")
    args = parser.parse_args(argv)
    if shutil.which("perf") is None:
        print("error: perf is not on PATH (apt-get install linux-perf)", file=sys.stderr)
        return 2
    require_wrk()
    when = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="fastasgi-profile-") as tmp:
        profiles = [profile(name, args.app, args.seconds, Path(tmp))
                    for name in args.servers.split(",")]
    text = render(profiles, f"bench.apps:{APPS[args.app][0]}", args.seconds, argv, when)
    print(text)
    if not args.no_report:
        path = report_path(f"profile-{args.app}", when)
        path.write_text(text)
        print(f"report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
