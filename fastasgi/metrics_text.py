"""The Prometheus text exposition format (version 0.0.4) of fastasgi's metrics.

Written here rather than by a client library: the format is a few lines per family, and the
server then needs no package at run time. Every name starts with ``fastasgi_``; counters end
in ``_total``; the request-duration histogram has cumulative ``_bucket{le=...}`` series, then
``_sum`` and ``_count``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastasgi.protocols.metrics import DURATION_BUCKETS

__all__ = ["CONTENT_TYPE", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render(
    totals: Mapping[str, Any],
    restarts: Mapping[str, int] | None = None,
    workers: Mapping[str, int] | None = None,
) -> str:
    """The exposition of ``totals`` (a snapshot, or a sum of them: see ``fastasgi.metrics``),
    with the supervisor's worker ``restarts`` by reason and ``workers`` by phase when given."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    def sample(name: str, value: float, **labels: str) -> None:
        if labels:
            inner = ",".join(f'{key}="{_escape(text)}"' for key, text in labels.items())
            lines.append(f"{name}{{{inner}}} {_number(value)}")
        else:
            lines.append(f"{name} {_number(value)}")

    family("fastasgi_requests_total", "counter",
           "Requests that ended, by method and status class (none: no response went out).")
    for key, count in sorted(totals["requests"].items()):
        method, _, status_class = key.partition(" ")
        sample("fastasgi_requests_total", count, method=method, status_class=status_class)

    family("fastasgi_requests_in_flight", "gauge", "Requests begun and not yet ended.")
    sample("fastasgi_requests_in_flight", totals["in_flight"])

    family("fastasgi_connections_open", "gauge", "Open client connections, by protocol.")
    for protocol, count in sorted(totals["connections"].items()):
        sample("fastasgi_connections_open", count, protocol=protocol)

    family("fastasgi_received_bytes_total", "counter", "Bytes read from clients.")
    sample("fastasgi_received_bytes_total", totals["received_bytes"])
    family("fastasgi_sent_bytes_total", "counter", "Bytes written to clients.")
    sample("fastasgi_sent_bytes_total", totals["sent_bytes"])

    family("fastasgi_request_duration_seconds", "histogram",
           "Seconds from a request's head to the end of its response.")
    cumulative = 0
    counts = totals["duration_buckets"]
    for bound, count in zip(DURATION_BUCKETS, counts):
        cumulative += count
        sample("fastasgi_request_duration_seconds_bucket", cumulative, le=_number(bound))
    cumulative += counts[len(DURATION_BUCKETS)]
    sample("fastasgi_request_duration_seconds_bucket", cumulative, le="+Inf")
    sample("fastasgi_request_duration_seconds_sum", totals["duration_sum"])
    sample("fastasgi_request_duration_seconds_count", cumulative)

    if restarts is not None:
        family("fastasgi_worker_restarts_total", "counter",
               "Workers the supervisor replaced, by reason.")
        for reason, count in sorted(restarts.items()):
            sample("fastasgi_worker_restarts_total", count, reason=reason)
    if workers is not None:
        family("fastasgi_workers", "gauge", "Worker processes, by phase.")
        for phase, count in sorted(workers.items()):
            sample("fastasgi_workers", count, phase=phase)
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _escape(text: str) -> str:
    # The format's three escapes in label values.
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
