"""End-to-end WebSocket echo throughput: fastasgi and uvicorn side by side
(bench/e2e/run_websocket.py).

One test runs the whole interleaved matrix once; pytest-benchmark's time for it is only its wall
time. The figures (median messages/s and server CPU per message, per server, and the ratios) are
kept in ``extra_info`` and printed; a report goes to bench/reports/ unless --ws-no-report. The
settings are the --ws-* options (``pytest bench --help``; bench/options.py defines them).
"""

import datetime
from typing import Any

from bench.e2e.run_websocket import (
    BenchResult,
    render_report,
    results_table,
    run_bench,
    write_report,
)
from bench.options import WebSocketBenchConfig


def test_websocket_echo_throughput(
    benchmark: Any, websocket_bench: WebSocketBenchConfig, capsys: Any
) -> None:
    config = websocket_bench

    def progress(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    when = datetime.datetime.now(datetime.timezone.utc)
    benchmark.group = "websocket: wall time of the whole matrix (figures in extra_info)"
    result: BenchResult = benchmark.pedantic(
        run_bench, args=(config,), kwargs={"progress": progress},
        rounds=1, iterations=1, warmup_rounds=0,
    )
    first = config.servers[0]
    for server in config.servers:
        benchmark.extra_info[f"{server} messages/s"] = round(result.median(server))
        benchmark.extra_info[f"{server} server CPU us/message"] = round(
            result.median_cpu_us(server), 2)
    for other in config.servers[1:]:
        benchmark.extra_info[f"{first}/{other}"] = round(
            result.median(first) / result.median(other), 3)
    progress("\n" + results_table(result, config.servers))
    if config.report:
        progress(f"report: {write_report(render_report(result, config, when), when)}")

    for server in config.servers:
        assert len(result.runs[server]) == config.rounds
        # A run with a wrong echo or a refused connection measured errors, not throughput.
        assert result.errors(server) == 0, f"{server}: {result.errors(server)} errors"
        assert result.median(server) > 0
