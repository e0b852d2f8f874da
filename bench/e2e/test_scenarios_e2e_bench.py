"""Every HTTP/1.1 scenario and the memory at rest, every server of --scenarios-servers side by
side (bench/e2e/run_scenarios.py).

One test runs the whole interleaved matrix once; pytest-benchmark's time for it is only its wall
time. The figures (median requests/s and server CPU per request per scenario and server, the
ratios, the memory) are kept in ``extra_info`` and printed; a report and its chart go to
bench/reports/ unless --scenarios-no-report. The settings are the --scenarios-* options
(bench/options.py defines them).
"""

import datetime
from typing import Any

from bench.e2e.rounds import ratio_pairs
from bench.e2e.run_scenarios import ScenariosResult, run
from bench.e2e.scenarios_report import summary, write_report
from bench.options import ScenariosBenchConfig


def test_scenarios(benchmark: Any, scenarios_bench: ScenariosBenchConfig, capsys: Any) -> None:
    config = scenarios_bench

    def progress(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    when = datetime.datetime.now(datetime.timezone.utc)
    benchmark.group = "scenarios: wall time of the whole matrix (figures in extra_info)"
    result: ScenariosResult = benchmark.pedantic(
        run, args=(config, progress), rounds=1, iterations=1, warmup_rounds=0
    )
    for scenario in result.results:
        for server in result.servers:
            benchmark.extra_info[f"{scenario.app} {server} req/s"] = round(
                scenario.median_rps(server))
            cpu_us = scenario.median_cpu_us(server)
            if cpu_us is not None:
                benchmark.extra_info[f"{scenario.app} {server} server CPU us/request"] = round(
                    cpu_us, 1)
        for a, b in ratio_pairs(result.servers):
            benchmark.extra_info[f"{scenario.app} {a}/{b}"] = round(
                scenario.median_rps(a) / scenario.median_rps(b), 3)
    for server, figures in result.memory.items():
        benchmark.extra_info[f"{server} worker RSS bytes"] = figures.worker_rss
        benchmark.extra_info[f"{server} RSS bytes per idle connection"] = round(
            figures.per_connection)
    progress("\n" + summary(result))
    if config.report:
        progress(f"report: {write_report(result, config, when)}")

    # A run with failed or non-2xx requests measured errors, not throughput.
    assert not result.errors(), result.errors()
    for scenario in result.results:
        for server in result.servers:
            assert len(scenario.runs[server]) == config.rounds
            assert scenario.median_rps(server) > 0
