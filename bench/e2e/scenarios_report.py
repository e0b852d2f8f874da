"""The report of run_scenarios.py: Markdown in bench/reports/ with its chart beside it."""

import datetime
from pathlib import Path

from bench import machine
from bench.e2e.memory import MIB
from bench.e2e.rounds import markdown_table, ratio_text
from bench.e2e.run_http import cpu_table, detail_table, results_table
from bench.e2e.run_scenarios import ScenariosResult, scenario_wrk
from bench.e2e.scenarios import SCENARIOS
from bench.e2e.servers import baseline_description, command_for_report
from bench.options import REPORTS, ScenariosBenchConfig, report_path

CEILING = "ceiling"


def p99_table(result: ScenariosResult) -> str:
    rows = [["scenario", *(f"{s} p99 ms" for s in result.servers)],
            ["---"] + ["---:"] * len(result.servers)]
    for scenario in result.results:
        rows.append([scenario.app,
                     *(f"{scenario.median_p99_ms(s):.2f}" for s in result.servers)])
    return markdown_table(rows)


def memory_table(result: ScenariosResult) -> str:
    rows = [["server", "worker RSS at rest", "all processes", "added per idle connection",
             "connections still open"],
            ["---", "---:", "---:", "---:", "---:"]]
    for server, figures in result.memory.items():
        rows.append([server, f"{figures.worker_rss / MIB:.1f} MiB",
                     f"{figures.total_rss / MIB:.1f} MiB",
                     f"{figures.per_connection:,.0f} B",
                     f"{figures.still_open}/{figures.connections}"])
    return markdown_table(rows)


def floor_table(result: ScenariosResult) -> str | None:
    """Per scenario: the app's own µs per call, the ceiling's CPU per request plus that (the
    floor), and each server's CPU per request over the floor. None without the ceiling."""
    if CEILING not in result.servers or not result.app_costs:
        return None
    servers = [s for s in result.servers if s != CEILING]
    rows = [["scenario", "app alone µs", "ceiling + app µs", *(f"{s} / floor" for s in servers)],
            ["---"] + ["---:"] * (2 + len(servers))]
    for scenario in result.results:
        app = result.app_costs.get(SCENARIOS[scenario.app].app)
        ceiling = scenario.median_cpu_us(CEILING)
        if app is None or ceiling is None:
            continue
        floor = ceiling + app
        rows.append([scenario.app, f"{app:.2f}", f"{floor:.1f}",
                     *(ratio_text(scenario.median_cpu_us(s), floor) for s in servers)])
    return markdown_table(rows)


def summary(result: ScenariosResult) -> str:
    """What the terminal shows at the end: requests/s, CPU per request and memory."""
    parts = [results_table(result.results, result.servers, "scenario"),
             cpu_table(result.results, result.servers, "scenario")]
    floors = floor_table(result)
    if floors:
        parts.append(floors)
    if result.memory:
        parts.append(memory_table(result))
    return "\n\n".join(parts)


def _floor_section(result: ScenariosResult) -> list[str]:
    table = floor_table(result)
    if table is None:
        return []
    return [
        "## The floor: the ceiling plus the app's own work",
        "",
        ("The ceiling runs no app. The app alone is its µs per call with no server around it "
         "(bench/e2e/app_cost.py, in a hot loop: a lower bound). The ceiling's CPU per request "
         "plus that is the least any server running the app could spend; each server's CPU per "
         "request over it follows. One server's lead over another in CPU per request can be at "
         "most that other's figure here."),
        "",
        table,
        "",
    ]


def render_report(result: ScenariosResult, config: ScenariosBenchConfig,
                  when: datetime.datetime, chart: str) -> str:
    server_cpu, wrk_cpu = config.cpus()
    servers = result.servers
    lines = [
        f"# HTTP/1.1 scenarios, {when:%Y-%m-%d %H:%M} UTC",
        "",
        (f"Median over {config.rounds} interleaved rounds of {config.duration} s of wrk with "
         f"{config.threads} thread(s) (after a {config.warmup} s warm-up per server and "
         "scenario), over 127.0.0.1. Servers: one worker each, access log off, uvloop. "
         "`ceiling` is no server: uvloop answering fixed bytes per request head "
         "(bench/e2e/ceiling.py), the bound of the others."),
        (f"Server pinned to CPU {server_cpu}, wrk to CPU {wrk_cpu} (taskset)."
         if server_cpu is not None
         else "No CPU pinning (taskset missing, fewer than two CPUs, or pinning turned off)."),
        *baseline_description(servers),
        *(f"{name}: this checkout built for {version} (bench/e2e/pythons.py)."
          for name, version in result.interpreters.items()),
        *(f"Left out: {name} ({why})." for name, why in result.left_out.items()),
        "",
        "| scenario | what |",
        "| --- | --- |",
        *(f"| {r.app} | {SCENARIOS[r.app].description} |" for r in result.results),
        "",
        "## Requests per second",
        "",
        f"![ratios per scenario]({chart})",
        "",
        results_table(result.results, servers, "scenario"),
        "",
        "## Server CPU per request",
        "",
        ("User + system time of all the server's processes over each wrk run, per request, in "
         "µs; each other server's over the first's (above 1: the first spends less). A "
         "neighbour's load lowers requests/s directly but this much less."),
        "",
        cpu_table(result.results, servers, "scenario"),
        "",
        *_floor_section(result),
        "## Latency",
        "",
        "Median over the rounds of wrk's p99 latency.",
        "",
        p99_table(result),
        "",
    ]
    if result.memory:
        lines += [
            "## Memory",
            "",
            (f"RSS of each server started alone, at rest 1 s after it first answered "
             "(the worker: its largest process), and what "
             f"{config.idle_connections} idle keep-alive connections add to all its processes, "
             "per connection (each made one `GET /` of the plaintext app; the RSS is read 1 s "
             "after the last one was served). A server that closed some meanwhile (its "
             "keep-alive timeout) shows it in the last column."),
            "",
            memory_table(result),
            "",
        ]
    lines += [
        "## Per round",
        "",
        "Spread is (max - min) / median over the rounds. Others is the share of the machine's",
        "CPUs used by other processes during the rounds, median (max); a few percent is the",
        "kernel's own loopback work.",
        "",
        detail_table(result.results, servers, "scenario"),
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in machine.describe().items()),
        "",
        "## Command lines",
        "",
        "```",
    ]
    apps_done: set[str] = set()
    for scenario_result in result.results:
        app = SCENARIOS[scenario_result.app].app
        if app not in apps_done:
            apps_done.add(app)
            lines += [command_for_report(scenario_result.commands[s]) for s in servers]
    for scenario_result in result.results:
        wrk = scenario_wrk(SCENARIOS[scenario_result.app], "http://127.0.0.1:PORT/", config,
                           config.duration, wrk_cpu)
        lines.append(f"{command_for_report(wrk)}  # {scenario_result.app}")
    lines += ["```", ""]
    return "\n".join(lines)


def write_report(result: ScenariosResult, config: ScenariosBenchConfig,
                 when: datetime.datetime, directory: Path = REPORTS) -> Path:
    """Write ``<date>T<time>-scenarios.md`` and its chart ``...-scenarios.png``; a report already
    there is never overwritten."""
    # matplotlib (the bench extra) is needed for the chart only, not to run or summarize.
    from bench.e2e.scenarios_chart import write_chart

    path = report_path("scenarios", when, directory)
    chart = path.with_suffix(".png")
    write_chart(result.results, result.servers, chart,
                f"HTTP/1.1 scenarios, {when:%Y-%m-%d %H:%M} UTC")
    path.write_text(render_report(result, config, when, chart.name))
    return path



