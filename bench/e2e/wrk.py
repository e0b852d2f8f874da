"""wrk, the HTTP/1.1 load generator every HTTP/1.1 runner uses: its command line, its output, and
one measured run (the server's CPU time and the rest of the machine's over it)."""

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from bench.e2e.cpu_usage import CpuSample, others_share, servers_cpu_seconds
from bench.e2e.servers import ServerProcess, pinned

WRK_INSTALL = "apt-get update && apt-get install -y wrk  (Debian/Ubuntu; macOS: brew install wrk)"


class WrkMissing(RuntimeError):
    pass


@dataclass
class WrkResult:
    requests_per_s: float
    requests: int
    latency_p50_ms: float
    latency_p99_ms: float
    non_2xx: int
    socket_errors: int
    # wrk's own breakdown, "connect 0, read 0, write 0, timeout 3" ("" when there were none).
    socket_error_kinds: str = ""
    # Share of the machine's CPUs other processes used during the run (None: not measurable).
    others_cpu: float | None = None
    # Server CPU time (user + system, all its processes) per request over the run, in µs: on a
    # shared machine it moves less than requests/s, which a neighbour's load lowers directly.
    server_cpu_us: float | None = None

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """The figures of one ``wrk --latency`` run from its standard output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and total and p50 and p99):
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        requests=int(total.group(1)),
        latency_p50_ms=_ms(p50.group(1)),
        latency_p99_ms=_ms(p99.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
        socket_error_kinds=errors.group(0).removeprefix("Socket errors: ") if errors else "",
    )


def wrk_command(
    url: str,
    threads: int,
    connections: int,
    duration: int,
    cpu: int | None,
    options: Sequence[str] = (),
    script_args: Sequence[str] = (),
) -> list[str]:
    """``wrk --latency`` on ``url``; ``options`` go before the URL (``-H``, ``-s``), and
    ``script_args`` after ``--``, to the Lua script."""
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
               *options, url]
    if script_args:
        command += ["--", *script_args]
    return pinned(command, cpu)


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise WrkMissing(
            f"the end-to-end benchmark needs wrk on PATH; install it with: {WRK_INSTALL}"
        )


def run_wrk(command: list[str], duration: int) -> WrkResult:
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=duration + 30
    )
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited with {done.returncode}:\n{done.stderr}")
    return parse_wrk(done.stdout)


def measured_wrk(
    server: ServerProcess, command: list[str], duration: int, all_servers: set[int]
) -> WrkResult:
    """One wrk run against ``server`` with what it cost: the server's CPU time per request and
    the share of the CPUs that processes other than ``all_servers`` (the process ids of every
    server started, each leading its own group), wrk and this one used meanwhile."""
    before = CpuSample.take(all_servers)
    server_before = servers_cpu_seconds({server.process.pid})
    result = run_wrk(command, duration)
    server_after = servers_cpu_seconds({server.process.pid})
    result.others_cpu = others_share(before, CpuSample.take(all_servers), os.cpu_count() or 1)
    if result.requests:
        result.server_cpu_us = (server_after - server_before) / result.requests * 1e6
    if server.process.poll() is not None:
        raise RuntimeError(f"{server.name} died during the run:\n{server.log_tail()}")
    return result
