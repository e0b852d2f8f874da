"""What the load runners share about interleaved rounds and how their figures are reported.

Each round loads every server once, starting from a different server each round, so that drift on
the machine (other load, thermal state) affects all servers alike; the figure per server is the
median over the rounds, shown with its spread and with the ratios of the first server listed to
each of the others.
"""

import statistics
from collections.abc import Sequence
from typing import TypeVar

Item = TypeVar("Item")


def round_order(items: Sequence[Item], round_index: int) -> list[Item]:
    """``items`` rotated so that round ``round_index`` starts from a different one each round."""
    first = round_index % len(items)
    return [*items[first:], *items[:first]]


def spread(values: Sequence[float]) -> float:
    """(max - min) / median of the rounds: how much the machine moved under one server."""
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle else 0.0


def ratio_pairs(servers: list[str]) -> list[tuple[str, str]]:
    """The ratios a report shows: the first server listed against each of the others."""
    return [(servers[0], other) for other in servers[1:]]


def others_cpu_text(shares: Sequence[float | None]) -> str:
    """Median and max share of the CPUs that other processes used during the rounds."""
    known = [share for share in shares if share is not None]
    if not known:
        return "n/a"
    return f"{statistics.median(known):.0%} ({max(known):.0%})"


def cpu_us_text(value: float | None) -> str:
    """A server's CPU time per request in µs, or n/a where /proc could not tell."""
    return f"{value:.0f}" if value is not None else "n/a"


def ratio_text(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "n/a"


def markdown_table(rows: list[list[str]]) -> str:
    """A Markdown table: the first row is the header, the second the alignment row."""
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
