"""Options, shared state and the end-of-session summary of the benchmarks.

The summary turns pytest-benchmark's per-test tables into the comparisons we care about: ns per
request and ours/httptools for the parser, median req/s and ratios for the servers. Timings are
reported, never asserted: a slower run is information, not a failure.
"""

import datetime
import shutil
from typing import Any

import pytest

from bench.e2e.run_h2 import H2LOAD_INSTALL
from bench.e2e.run_http import (
    WRK_INSTALL,
    AppResult,
    render_report,
    results_table,
    write_report,
)
from bench.options import (
    H2BenchConfig,
    HttpBenchConfig,
    ScenariosBenchConfig,
    WebSocketBenchConfig,
    add_options,
    from_options,
)

PARSER_TIMINGS = pytest.StashKey[dict[tuple[str, str], float]]()
HTTP_RESULTS = pytest.StashKey[list[AppResult]]()
# Prefixes of the end-to-end options on pytest's command line: --http-rounds, --h2-rounds,
# --ws-rounds, --scenarios-rounds.
HTTP = "http-"
H2 = "h2-"
WEBSOCKET = "ws-"
SCENARIOS = "scenarios-"
# ours / httptools on the browser GET we aim for.
PARSER_GOAL = 0.3


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(
        HttpBenchConfig,
        parser.getgroup(
            "fastasgi-http", "end-to-end HTTP benchmark (bench/e2e/run_http.py)"
        ).addoption,
        prefix=HTTP,
    )
    add_options(
        H2BenchConfig,
        parser.getgroup(
            "fastasgi-h2", "end-to-end HTTP/2 benchmark (bench/e2e/run_h2.py)"
        ).addoption,
        prefix=H2,
    )
    add_options(
        WebSocketBenchConfig,
        parser.getgroup(
            "fastasgi-websocket", "end-to-end WebSocket benchmark (bench/e2e/run_websocket.py)"
        ).addoption,
        prefix=WEBSOCKET,
    )
    add_options(
        ScenariosBenchConfig,
        parser.getgroup(
            "fastasgi-scenarios", "HTTP/1.1 scenarios benchmark (bench/e2e/run_scenarios.py)"
        ).addoption,
        prefix=SCENARIOS,
    )


def http_config(config: pytest.Config) -> HttpBenchConfig:
    bench_config = from_options(HttpBenchConfig, config.option, prefix=HTTP)
    try:
        bench_config.validate()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return bench_config


def h2_config(config: pytest.Config) -> H2BenchConfig:
    bench_config = from_options(H2BenchConfig, config.option, prefix=H2)
    try:
        bench_config.validate()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return bench_config


def websocket_config(config: pytest.Config) -> WebSocketBenchConfig:
    bench_config = from_options(WebSocketBenchConfig, config.option, prefix=WEBSOCKET)
    try:
        bench_config.validate()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return bench_config


def scenarios_config(config: pytest.Config) -> ScenariosBenchConfig:
    bench_config = from_options(ScenariosBenchConfig, config.option, prefix=SCENARIOS)
    try:
        bench_config.validate()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return bench_config


def pytest_configure(config: pytest.Config) -> None:
    config.stash[PARSER_TIMINGS] = {}
    config.stash[HTTP_RESULTS] = []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "http_app" in metafunc.fixturenames:
        metafunc.parametrize("http_app", http_config(metafunc.config).apps)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # One end-to-end test runs every server for one app: its time limit follows the options.
    bench_config = http_config(config)
    one_app = HttpBenchConfig(**{**vars(bench_config), "apps": bench_config.apps[:1]})
    websocket_bound = websocket_config(config).wall_time_bound()
    h2_bound = h2_config(config).wall_time_bound()
    scenarios_bound = scenarios_config(config).wall_time_bound()
    for item in items:
        if "http_app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(one_app.wall_time_bound()))
        if "websocket_bench" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(websocket_bound))
        if "h2_bench" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(h2_bound))
        if "scenarios_bench" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(scenarios_bound))


@pytest.fixture
def parser_timings(request: pytest.FixtureRequest) -> dict[tuple[str, str], float]:
    """(input, parser) -> median seconds per request, filled by test_parser_bench."""
    return request.config.stash[PARSER_TIMINGS]


@pytest.fixture
def http_bench(request: pytest.FixtureRequest) -> HttpBenchConfig:
    """The end-to-end configuration from the --http-* options; fails when wrk is missing."""
    if shutil.which("wrk") is None:
        pytest.fail(
            f"the end-to-end benchmark needs wrk on PATH; install it with: {WRK_INSTALL}",
            pytrace=False,
        )
    return http_config(request.config)


@pytest.fixture
def h2_bench(request: pytest.FixtureRequest) -> H2BenchConfig:
    """The end-to-end HTTP/2 configuration from the --h2-* options; fails when h2load or nghttp
    is missing."""
    if shutil.which("h2load") is None or shutil.which("nghttp") is None:
        pytest.fail(
            f"the HTTP/2 benchmark needs h2load and nghttp on PATH; install with: "
            f"{H2LOAD_INSTALL}",
            pytrace=False,
        )
    return h2_config(request.config)


@pytest.fixture
def websocket_bench(request: pytest.FixtureRequest) -> WebSocketBenchConfig:
    """The end-to-end WebSocket configuration from the --ws-* options."""
    return websocket_config(request.config)


@pytest.fixture
def scenarios_bench(request: pytest.FixtureRequest) -> ScenariosBenchConfig:
    """The scenarios configuration from the --scenarios-* options; fails when wrk is missing."""
    if shutil.which("wrk") is None:
        pytest.fail(
            f"the scenarios benchmark needs wrk on PATH; install it with: {WRK_INSTALL}",
            pytrace=False,
        )
    return scenarios_config(request.config)


@pytest.fixture
def http_results(request: pytest.FixtureRequest) -> list[AppResult]:
    return request.config.stash[HTTP_RESULTS]


def _parser_summary(timings: dict[tuple[str, str], float]) -> list[str]:
    inputs = list(dict.fromkeys(name for name, _ in timings))
    parsers = list(dict.fromkeys(parser for _, parser in timings))
    header = f"{'input':<10}" + "".join(f"{p + ' ns':>14}" for p in parsers)
    comparisons = [p for p in ("httptools", "h11") if p in parsers and "ours" in parsers]
    header += "".join(f"{'ours/' + p:>16}" for p in comparisons)
    lines = [header]
    for name in inputs:
        line = f"{name:<10}"
        for parser in parsers:
            seconds = timings.get((name, parser))
            line += f"{seconds * 1e9:>14,.0f}" if seconds is not None else f"{'-':>14}"
        for other in comparisons:
            if (name, "ours") in timings and (name, other) in timings:
                line += f"{timings[name, 'ours'] / timings[name, other]:>16.2f}"
            else:
                line += f"{'-':>16}"
        lines.append(line)
    if ("get", "ours") in timings and ("get", "httptools") in timings:
        ratio = timings["get", "ours"] / timings["get", "httptools"]
        verdict = "met" if ratio <= PARSER_GOAL else "NOT met"
        lines.append(f"goal ours/httptools <= {PARSER_GOAL} on the GET: {verdict} ({ratio:.2f})")
    return lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    timings = config.stash[PARSER_TIMINGS]
    if timings:
        terminalreporter.section("parser: median ns per request")
        for line in _parser_summary(timings):
            terminalreporter.write_line(line)
    results = config.stash[HTTP_RESULTS]
    if results:
        bench_config = http_config(config)
        terminalreporter.section("http: median requests/s")
        for line in results_table(results, bench_config.servers).splitlines():
            terminalreporter.write_line(line)
        if bench_config.report:
            when = datetime.datetime.now(datetime.timezone.utc)
            bench_config.apps = [r.app for r in results]
            path = write_report(render_report(results, bench_config, when), when)
            terminalreporter.write_line(f"report: {path}")
