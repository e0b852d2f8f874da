"""The metrics of --metrics-port as plain data: a worker's snapshot, how it travels to the
supervisor, and the sum over workers.

A snapshot is what ``RequestMetrics.snapshot`` returns (fastasgi/protocols/metrics.pyx): a small
dict of numbers. Counters in it (requests, bytes, the duration histogram) only grow while the
worker lives; gauges (requests in flight, open connections) are its state now. The supervisor
keeps each worker's latest snapshot, and when a worker exits, adds its counters to those of the
workers gone before, so that a sum over workers never goes down (what a worker counted after its
last snapshot, at most a second's worth, is lost with it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "EMPTY_SNAPSHOT",
    "MAX_SNAPSHOT_BYTES",
    "MetricsTotals",
    "decode_snapshot",
    "encode_snapshot",
    "sum_snapshots",
]

# A snapshot travels in one pipe write, which the kernel keeps whole up to PIPE_BUF (4096 bytes
# on Linux) with room for the framing. The label values are bounded (10 methods x 6 status
# classes, 3 protocols), so a real snapshot stays near 1 KiB.
MAX_SNAPSHOT_BYTES = 4000

N_BUCKETS = 12

EMPTY_SNAPSHOT: Mapping[str, Any] = {
    "requests": {},
    "in_flight": 0,
    "connections": {"http": 0, "websocket": 0, "h2": 0},
    "received_bytes": 0,
    "sent_bytes": 0,
    "duration_buckets": [0] * N_BUCKETS,
    "duration_sum": 0.0,
}
# The parts of a snapshot that are counters (kept after a worker exits) and gauges (dropped).
COUNTERS = ("requests", "received_bytes", "sent_bytes", "duration_buckets", "duration_sum")
GAUGES = ("in_flight", "connections")


def encode_snapshot(snapshot: Mapping[str, Any]) -> bytes | None:
    """The snapshot as bytes for the pipe; None if it would not fit in one message."""
    data = json.dumps(snapshot, separators=(",", ":")).encode("ascii")
    return data if len(data) <= MAX_SNAPSHOT_BYTES else None


def decode_snapshot(data: bytes) -> dict[str, Any] | None:
    """A snapshot from the pipe, or None if it is not one (it is then ignored, not trusted)."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    snapshot: dict[str, Any] = {}
    for key, empty in EMPTY_SNAPSHOT.items():
        item = value.get(key, empty)
        if isinstance(empty, dict):
            if not isinstance(item, dict) or not all(
                isinstance(k, str) and _is_count(v) for k, v in item.items()
            ):
                return None
            snapshot[key] = dict(item)
        elif isinstance(empty, list):
            if (not isinstance(item, list) or len(item) != N_BUCKETS
                    or not all(_is_count(v) for v in item)):
                return None
            snapshot[key] = list(item)
        elif isinstance(empty, float):
            if not isinstance(item, (int, float)) or item < 0:
                return None
            snapshot[key] = float(item)
        else:
            if not _is_count(item):
                return None
            snapshot[key] = item
    return snapshot


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def sum_snapshots(snapshots: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The sum of ``snapshots``, key by key (label by label, bucket by bucket)."""
    total = _copy(EMPTY_SNAPSHOT)
    for snapshot in snapshots:
        _add(total, snapshot, EMPTY_SNAPSHOT.keys())
    return total


def _copy(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    return {key: (dict(value) if isinstance(value, dict)
                  else list(value) if isinstance(value, list) else value)
            for key, value in snapshot.items()}


def _add(total: dict[str, Any], snapshot: Mapping[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        value = snapshot[key]
        if isinstance(value, dict):
            into = total[key]
            for label, count in value.items():
                into[label] = into.get(label, 0) + count
        elif isinstance(value, list):
            total[key] = [a + b for a, b in zip(total[key], value)]
        else:
            total[key] += value


class MetricsTotals:
    """The supervisor's sums: the counters of the workers gone, and its restart counts. The
    workers alive keep their own latest snapshot (``WorkerProcess.snapshot``)."""

    def __init__(self) -> None:
        self.retired = _copy(EMPTY_SNAPSHOT)
        # Why workers were replaced: a label value (died, heartbeat, ...) -> how many times.
        self.restarts: dict[str, int] = {}

    def retire(self, snapshot: Mapping[str, Any] | None) -> None:
        """A worker exited: its counters stay in the sums, its gauges leave them."""
        if snapshot is not None:
            _add(self.retired, snapshot, COUNTERS)

    def count_restart(self, reason: str) -> None:
        self.restarts[reason] = self.restarts.get(reason, 0) + 1

    def total(self, live: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The sum over the workers gone and ``live``, the latest snapshots of those alive."""
        return sum_snapshots([self.retired, *live])
