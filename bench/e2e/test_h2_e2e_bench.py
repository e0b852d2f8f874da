"""End-to-end HTTP/2 (h2c) throughput: every server of --h2-servers on every app and scenario,
side by side (bench/e2e/run_h2.py).

One test runs the whole interleaved matrix once; pytest-benchmark's time for it is only its wall
time. The figures (median requests/s and server CPU per request, per app, scenario and server,
and the ratios) are kept in ``extra_info`` and printed; a report goes to bench/reports/ unless
--h2-no-report. The settings are the --h2-* options (bench/options.py defines them).
"""

import datetime
from typing import Any

from bench.e2e.rounds import ratio_pairs
from bench.e2e.run_h2 import (
    AppResult,
    cpu_table,
    failure_lines,
    render_report,
    results_table,
    run_app,
    write_report,
)
from bench.options import H2BenchConfig


def test_h2_throughput(benchmark: Any, h2_bench: H2BenchConfig, capsys: Any) -> None:
    config = h2_bench

    def progress(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    def run_all() -> list[AppResult]:
        return [run_app(app, config, progress) for app in config.apps]

    when = datetime.datetime.now(datetime.timezone.utc)
    benchmark.group = "h2: wall time of the whole matrix (figures in extra_info)"
    results: list[AppResult] = benchmark.pedantic(
        run_all, rounds=1, iterations=1, warmup_rounds=0
    )
    for result in results:
        for scenario in config.scenarios:
            key = f"{result.app} {scenario}"
            for server in config.servers:
                benchmark.extra_info[f"{key} {server} req/s"] = round(
                    result.median_rps(scenario, server))
                cpu_us = result.median_cpu_us(scenario, server)
                if cpu_us is not None:
                    benchmark.extra_info[f"{key} {server} server CPU us/request"] = round(
                        cpu_us, 1)
            for a, b in ratio_pairs(config.servers):
                benchmark.extra_info[f"{key} {a}/{b}"] = round(
                    result.median_rps(scenario, a) / result.median_rps(scenario, b), 3)
    progress("\n" + results_table(results, config.servers))
    progress("\n" + cpu_table(results, config.servers))
    if config.report:
        progress(f"report: {write_report(render_report(results, config, when), when)}")

    # A run with failed or non-2xx requests measured errors, not throughput.
    assert not failure_lines(results, config.servers), failure_lines(results, config.servers)
    for result in results:
        for scenario in config.scenarios:
            for server in config.servers:
                assert len(result.runs[scenario][server]) == config.rounds
                assert result.median_rps(scenario, server) > 0
