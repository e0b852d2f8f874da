"""Types of fastasgi/protocols/state.pyx: what every connection of one server shares."""

import asyncio
from typing import Any

from fastasgi.protocols.metrics import RequestMetrics
from fastasgi.protocols.turn_share import TurnShare
from fastasgi.protocols.write_budget import LargeWriteBudget
from fastasgi.settings import ConnectionSettings

TICK_SECONDS: float
WEBSOCKET_FRAMES_PER_CONNECTION: int
WEBSOCKET_FRAMES_PER_TURN: int
HTTP_REQUESTS_PER_TURN: int
HTTP_REQUESTS_RENEW_AFTER: int
H2_BYTES_PER_CONNECTION: int
H2_BYTES_PER_TURN: int

class ServerState:
    loop: asyncio.AbstractEventLoop
    app: Any
    settings: ConnectionSettings
    connections: set[Any]
    tasks: set[asyncio.Task[Any]]
    tick: int
    lifespan_state: dict[str, Any]
    shutting_down: bool
    total_requests: int
    large_writes: LargeWriteBudget
    websocket_frames: TurnShare
    http_requests: TurnShare
    h2_input: TurnShare
    keep_alive_ticks: int
    header_read_ticks: int
    access_format: Any
    access_timed: bool
    requests_timed: bool
    metrics: RequestMetrics | None
    log_trace: bool
    def __init__(
        self, loop: asyncio.AbstractEventLoop, app: Any, settings: ConnectionSettings
    ) -> None: ...
    def forwarded(
        self, headers: list[tuple[bytes, bytes]], client: tuple[str, int] | None, scheme: str
    ) -> tuple[tuple[str, int] | None, str]: ...
    def is_trusted(self, host: str) -> bool: ...
    def log_access(
        self, client: tuple[str, int] | None, head: Any, status: int, disconnected: bool = ...,
        encoder: Any = ..., started: float = ...,
    ) -> None: ...
