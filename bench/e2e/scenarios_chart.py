"""The chart of a scenarios report: per scenario, how the first server compares with each other.

Two panels of grouped bars: the first server's requests/s over each other's (above 1: the first
serves more) and each other's server CPU per request over the first's (above 1: the first spends
less), with a line at 1, on a logarithmic scale. A PNG beside the report; matplotlib's Figure
without pyplot needs no display and leaves no global state behind.
"""

import math
from pathlib import Path

from matplotlib.figure import Figure

from bench.e2e.rounds import ratio_pairs
from bench.e2e.run_http import AppResult


def write_chart(results: list[AppResult], servers: list[str], path: Path, title: str) -> None:
    pairs = ratio_pairs(servers)
    names = [result.app for result in results]
    figure = Figure(figsize=(max(8.0, 0.65 * len(names) * max(1, len(pairs)) + 3), 8))
    rps_axes, cpu_axes = figure.subplots(2, 1, sharex=True)
    width = 0.8 / max(1, len(pairs))
    for index, (first, other) in enumerate(pairs):
        offsets = [i - 0.4 + width * (index + 0.5) for i in range(len(names))]
        # NaN where a figure is missing: no bar rather than a misleading one.
        rps = [r.median_rps(first) / r.median_rps(other) if r.median_rps(other) else math.nan
               for r in results]
        cpu = []
        for result in results:
            mine, theirs = result.median_cpu_us(first), result.median_cpu_us(other)
            cpu.append(theirs / mine if mine and theirs else math.nan)
        # Bars grow from 1 (equal), up or down, not from the bottom of the axis.
        rps_axes.bar(offsets, [v - 1 for v in rps], width, bottom=1, label=f"{first}/{other}")
        cpu_axes.bar(offsets, [v - 1 for v in cpu], width, bottom=1, label=f"{other}/{first}")
    for axes, label in (
        (rps_axes, f"requests/s: {servers[0]} over each other server"),
        (cpu_axes, f"server CPU per request: each other server over {servers[0]}"),
    ):
        # Logarithmic: 2x better and 2x worse are the same distance from 1, and the ceiling's
        # large ratios do not flatten the servers' bars.
        axes.set_yscale("log")
        axes.axhline(1.0, color="black", linewidth=0.8)
        axes.set_title(label, fontsize=10)
        axes.set_ylabel("ratio (above 1: " + servers[0] + " better)")
        axes.legend(fontsize=8, ncols=min(3, max(1, len(pairs))))
        axes.grid(axis="y", alpha=0.3)
    cpu_axes.set_xticks(range(len(names)), names, rotation=20, ha="right")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
