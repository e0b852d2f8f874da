"""Types of fastasgi/protocols/connection.pyx: what every connection shares."""

import asyncio
from typing import Any

from fastasgi._parser import RequestHead
from fastasgi.protocols.state import ServerState

ASGI_VERSION: dict[str, str]
WRITE_STALL_TICKS: int
LINGER_TICKS: int

def make_request_head(
    method: str, target: bytes, path: str, raw_path: bytes, query_string: bytes,
    http_version: str, headers: list[tuple[bytes, bytes]],
) -> RequestHead: ...

class Connection(asyncio.Protocol):
    state: ServerState
    loop: asyncio.AbstractEventLoop
    transport: Any
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    scheme: str
    client_label: str
    closed: bool
    peer_eof: bool
    reading_paused: bool
    writing_paused: bool
    write_paused_at: int
    lingering_since: int
    def __init__(self, state: ServerState) -> None: ...
    def admitted(self) -> bool: ...
    def request_scope(self, kind: str, head: RequestHead) -> dict[str, Any]: ...
    def pause_writing(self) -> None: ...
    def resume_writing(self) -> None: ...
    def drain(self) -> asyncio.Future[None]: ...
    def wake_writers(self) -> None: ...
    def write_stalled(self, tick: int) -> bool: ...
    def close_gracefully(self) -> None: ...
    def linger_over(self, tick: int) -> bool: ...
