"""Types of fastasgi/protocols/metrics.pyx: what one server counts for --metrics-port."""

from collections.abc import Iterable
from typing import Any

DURATION_BUCKETS: tuple[float, ...]
METHODS: tuple[str, ...]
STATUS_CLASSES: tuple[str, ...]
PROTOCOL_OF: dict[str, str]

class RequestMetrics:
    duration_sum: float
    finished: int
    received_bytes: int
    sent_bytes: int
    def request_finished(self, method: str, status: int, started: float) -> None: ...
    def snapshot(self, started_requests: int, connections: Iterable[Any]) -> dict[str, Any]: ...
