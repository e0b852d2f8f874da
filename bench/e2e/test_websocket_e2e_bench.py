"""End-to-end WebSocket echo throughput: fastasgi and uvicorn side by side (bench/run_websocket.py).

One test runs the whole interleaved matrix once; pytest-benchmark's time for it is only its wall
time. The figures (median messages/s and server CPU per message, per server, and the ratios) are
kept in ``extra_info`` and printed; a report goes to bench/reports/<date>-websocket.md unless
FASTASGI_BENCH_NO_REPORT=1. Settings come from the environment, defaults in brackets:
FASTASGI_WS_BENCH_ROUNDS [3], FASTASGI_WS_BENCH_DURATION [5], FASTASGI_WS_BENCH_CONNECTIONS [16].
"""

import datetime
import os
from typing import Any

import pytest

from bench.run_websocket import (
    BenchResult,
    WebSocketBenchConfig,
    render_report,
    results_table,
    run_bench,
    write_report,
)


def bench_config() -> WebSocketBenchConfig:
    config = WebSocketBenchConfig(
        rounds=int(os.environ.get("FASTASGI_WS_BENCH_ROUNDS", "3")),
        duration=int(os.environ.get("FASTASGI_WS_BENCH_DURATION", "5")),
        connections=int(os.environ.get("FASTASGI_WS_BENCH_CONNECTIONS", "16")),
    )
    config.validate()
    return config


CONFIG = bench_config()


@pytest.mark.timeout(CONFIG.wall_time_bound())
def test_websocket_echo_throughput(benchmark: Any, capsys: Any) -> None:
    def progress(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    when = datetime.datetime.now(datetime.timezone.utc)
    benchmark.group = "websocket: wall time of the whole matrix (figures in extra_info)"
    result: BenchResult = benchmark.pedantic(
        run_bench, args=(CONFIG,), kwargs={"progress": progress},
        rounds=1, iterations=1, warmup_rounds=0,
    )
    first = CONFIG.servers[0]
    for server in CONFIG.servers:
        benchmark.extra_info[f"{server} messages/s"] = round(result.median(server))
        benchmark.extra_info[f"{server} server CPU us/message"] = round(
            result.median_cpu_us(server), 2)
    for other in CONFIG.servers[1:]:
        benchmark.extra_info[f"{first}/{other}"] = round(
            result.median(first) / result.median(other), 3)
    progress("\n" + results_table(result, CONFIG.servers))
    if os.environ.get("FASTASGI_BENCH_NO_REPORT", "") in ("", "0"):
        progress(f"report: {write_report(render_report(result, CONFIG, when), when)}")

    for server in CONFIG.servers:
        assert len(result.runs[server]) == CONFIG.rounds
        # A run with a wrong echo or a refused connection measured errors, not throughput.
        assert result.errors(server) == 0, f"{server}: {result.errors(server)} errors"
        assert result.median(server) > 0
