"""Types of fastasgi/protocols/h2stream.pyx: one HTTP/2 stream's request (fields in h2stream.pxd)."""

from collections.abc import Awaitable
from typing import Any

from fastasgi._parser import RequestHead
from fastasgi.protocols.connection import Connection

CONNECTION_SPECIFIC: frozenset[bytes]

def request_head(fields: list[tuple[bytes, bytes]]) -> tuple[RequestHead, int | None]: ...
def open_stream(protocol: Connection, stream_id: int, head: RequestHead, end_stream: bool,
                content_length: int | None) -> None: ...

class H2Stream:
    """One request on an HTTP/2 connection; made only by open_stream."""

    protocol: Connection
    stream_id: int
    head: RequestHead
    body_complete: bool
    disconnected: bool
    status_sent: int
    headers: list[tuple[bytes, bytes]] | None
    bytes_sent: int
    receive_waiter: Any
    receive_since: int
    window_waiter: Any
    window_since: int
    task: Any
    started_at: float
    def add_body(self, data: bytes, flow_controlled_length: int, end_stream: bool) -> None: ...
    def end_body(self) -> None: ...
    def disconnect(self) -> None: ...
    def window_opened(self) -> None: ...
    def respond_error(self, status: int) -> None: ...
    async def receive(self) -> dict[str, Any]: ...
    def send(self, message: dict[str, Any]) -> Awaitable[None]: ...
