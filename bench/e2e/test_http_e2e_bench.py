"""End-to-end HTTP/1.1 throughput: every server of --http-servers on one app, side by side.

One test per app runs the whole interleaved matrix of bench/e2e/run_http.py once (pytest-benchmark's
time for it is only the wall time of the matrix); the figures are requests/s per server, kept in
``extra_info`` (so ``--benchmark-json`` carries them) and summarized at the end of the session,
where bench/conftest.py also writes bench/reports/<date>T<time>-http.md.
"""

from typing import Any

from bench.e2e.rounds import ratio_pairs
from bench.e2e.run_http import AppResult, HttpBenchConfig, run_app


def test_http_throughput(
    benchmark: Any,
    http_bench: HttpBenchConfig,
    http_results: list[AppResult],
    http_app: str,
    capsys: Any,
) -> None:
    def progress(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    benchmark.group = "http: wall time of the whole matrix (figures in extra_info)"
    result: AppResult = benchmark.pedantic(
        run_app,
        args=(http_app, http_bench),
        kwargs={"progress": progress},
        rounds=1,
        iterations=1,
        warmup_rounds=0,
    )
    http_results.append(result)

    for server in http_bench.servers:
        benchmark.extra_info[f"{server} req/s"] = round(result.median_rps(server))
        benchmark.extra_info[f"{server} req/s per round"] = [
            round(r.requests_per_s) for r in result.runs[server]
        ]
    for a, b in ratio_pairs(http_bench.servers):
        benchmark.extra_info[f"{a}/{b}"] = round(result.median_rps(a) / result.median_rps(b), 3)

    for server in http_bench.servers:
        assert len(result.runs[server]) == http_bench.rounds
        # A run with failed requests measures errors, not throughput.
        assert result.errors(server) == 0, f"{server}: {result.errors(server)} failed requests"
        assert result.median_rps(server) > 0
