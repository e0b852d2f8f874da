"""Every HTTP/1.1 scenario (bench/e2e/scenarios.py) for fastasgi, uvicorn, granian and the raw
uvloop ceiling, side by side in one run, and the memory each server holds at rest.

First the memory: every server is started alone and its RSS read at rest and with
``--idle-connections`` idle keep-alive connections (bench/e2e/memory.py). Then, for each app the
scenarios need, every server is started once (one worker, pinned to CPU 0) and checked to answer
exactly, and each scenario of that app runs: a warm-up per server, then rounds of wrk (pinned to
CPU 1), each round loading every server once, starting from a different server each round
(bench/e2e/rounds.py). The figures per server and scenario are the median requests/s, the spread,
the median p99 latency and the median server CPU time per request. fastasgi-py312 and
fastasgi-py313 are this checkout built for those Pythons (bench/e2e/pythons.py), left out with a
note when that Python is not installed. The report and its chart go to bench/reports/.

Run directly:  python -m bench.e2e.run_scenarios
or through pytest: pytest bench/e2e/test_scenarios_e2e_bench.py --benchmark-only
"""

import argparse
import datetime
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.e2e import memory, pythons
from bench.e2e.app_cost import app_cost_us
from bench.e2e.rounds import cpu_us_text, round_order
from bench.e2e.run_http import AppResult
from bench.e2e.scenarios import SCENARIOS, Scenario
from bench.e2e.servers import ServerProcess, start_server
from bench.e2e.wrk import WrkMissing, measured_wrk, require_wrk, run_wrk, wrk_command
from bench.exclusive import exclusive_machine
from bench.options import ScenariosBenchConfig, add_options, from_options

Progress = Callable[[str], None]


@dataclass
class ScenariosResult:
    servers: list[str]  # those that ran, in the configured order
    left_out: dict[str, str]  # server -> why it did not run
    results: list[AppResult]  # one per scenario (its name in ``app``), in the configured order
    memory: dict[str, memory.MemoryResult]
    interpreters: dict[str, str]  # fastasgi-py3XX -> its Python and uvloop versions
    # app (a key of bench.apps.APPS) -> µs per call with no server (bench/e2e/app_cost.py)
    app_costs: dict[str, float] = field(default_factory=dict)

    def errors(self) -> list[str]:
        """The runs that had non-2xx responses or socket errors: they measured errors."""
        return [
            f"{result.app} {server}: {result.errors(server)} errors"
            for result in self.results
            for server in self.servers
            if result.errors(server)
        ]


def scenario_wrk(scenario: Scenario, url: str, config: ScenariosBenchConfig, duration: int,
                 cpu: int | None) -> list[str]:
    options, script_args = scenario.wrk_options()
    connections = config.connections or scenario.connections
    return wrk_command(url, config.threads, connections, duration, cpu, options, script_args)


def runnable_servers(config: ScenariosBenchConfig, progress: Progress) -> tuple[
        list[str], dict[str, str], dict[str, str]]:
    """(the servers that can run, why each other one cannot, the other Pythons' versions); builds
    fastasgi for the other Pythons first."""
    servers, left_out, interpreters = [], {}, {}
    for name in config.servers:
        if name in pythons.OTHER_PYTHONS:
            progress(f"building {name} (bench/e2e/pythons.py)")
            try:
                pythons.prepare(name)
            except pythons.PythonMissing as exc:
                progress(f"leaving out {name}: {exc}")
                left_out[name] = str(exc)
                continue
            interpreters[name] = pythons.describe(name)
        servers.append(name)
    return servers, left_out, interpreters


def run(config: ScenariosBenchConfig, progress: Progress = lambda line: None) -> ScenariosResult:
    """The whole run; every server is stopped before this returns. Holds the machine-wide
    benchmark lock meanwhile (bench/exclusive.py)."""
    config.validate()
    require_wrk()
    servers, left_out, interpreters = runnable_servers(config, progress)
    with exclusive_machine(progress=progress):
        server_cpu, _ = config.cpus()
        memory_results = {}
        if config.idle_connections:
            for name in servers:
                memory_results[name] = _memory(name, config.idle_connections, server_cpu)
                progress(f"memory {name}: {memory_results[name].text()}")
        results: dict[str, AppResult] = {}
        for app in dict.fromkeys(SCENARIOS[name].app for name in config.scenarios):
            scenarios = [SCENARIOS[n] for n in config.scenarios if SCENARIOS[n].app == app]
            results.update(_run_app(app, scenarios, servers, config, progress))
        # Measured after the load, on the servers' CPU, with nothing else running.
        app_costs = {app: app_cost_us(app, server_cpu)
                     for app in dict.fromkeys(SCENARIOS[name].app for name in config.scenarios)}
    ordered = [results[name] for name in config.scenarios]
    return ScenariosResult(servers, left_out, ordered, memory_results, interpreters, app_costs)


def _memory(name: str, connections: int, cpu: int | None) -> memory.MemoryResult:
    with tempfile.TemporaryDirectory(prefix="fastasgi-bench-") as logs:
        server = start_server(name, "plaintext", cpu, Path(logs))
        try:
            server.wait_ready()
            return memory.measure(server, connections)
        finally:
            server.stop()


def _run_app(app: str, scenarios: list[Scenario], servers: list[str],
             config: ScenariosBenchConfig, progress: Progress) -> dict[str, AppResult]:
    server_cpu, wrk_cpu = config.cpus()
    started: list[ServerProcess] = []
    logs = tempfile.TemporaryDirectory(prefix="fastasgi-bench-")
    try:
        for name in servers:
            started.append(start_server(name, app, server_cpu, Path(logs.name)))
        for server in started:
            server.wait_ready()
        groups = {s.process.pid for s in started}  # each server leads its own process group
        commands = {s.name: s.command for s in started}
        results = {}
        for scenario in scenarios:
            result = AppResult(scenario.name, {s.name: [] for s in started}, commands)
            if config.warmup:
                for server in started:
                    command = scenario_wrk(scenario, server.url, config, config.warmup, wrk_cpu)
                    run_wrk(command, config.warmup)
            for round_index in range(config.rounds):
                for server in round_order(started, round_index):
                    command = scenario_wrk(scenario, server.url, config, config.duration, wrk_cpu)
                    run = measured_wrk(server, command, config.duration, groups)
                    result.runs[server.name].append(run)
                    failures = "" if run.clean else (
                        f", {run.non_2xx} non-2xx, {run.socket_errors} socket errors "
                        f"({run.socket_error_kinds or 'none'})")
                    progress(
                        f"{scenario.name} round {round_index + 1}/{config.rounds} "
                        f"{server.name}: {run.requests_per_s:,.0f} req/s, "
                        f"{cpu_us_text(run.server_cpu_us)} µs CPU/request, "
                        f"p99 {run.latency_p99_ms:.2f} ms{failures}"
                    )
            results[scenario.name] = result
        return results
    finally:
        for server in started:
            server.stop()
        logs.cleanup()


def _parse_args(argv: list[str] | None) -> ScenariosBenchConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(ScenariosBenchConfig, parser.add_argument)
    return from_options(ScenariosBenchConfig, parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    # Imported here: the report imports this module.
    from bench.e2e import scenarios_report

    config = _parse_args(argv)
    try:
        config.validate()
        require_wrk()
    except (ValueError, WrkMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    when = datetime.datetime.now(datetime.timezone.utc)
    result = run(config, progress=print)
    print()
    print(scenarios_report.summary(result))
    if config.report:
        path = scenarios_report.write_report(result, config, when)
        print(f"\nreport: {path} (chart: {path.with_suffix('.png').name})")
    for line in result.errors():
        print(f"error: {line}", file=sys.stderr)
    return 1 if result.errors() else 0


if __name__ == "__main__":
    raise SystemExit(main())
