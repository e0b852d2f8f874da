"""An asyncio transport that records what a protocol writes to it, without a socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class RecordingTransport(asyncio.Transport):
    def __init__(self, turn: Callable[[], int] | None = None) -> None:
        super().__init__()
        self.turn = turn
        self.turns: list[int] = []  # with ``turn``: the loop turn of each write, as it tells
        self.writes: list[bytes] = []
        self.pieces: list[tuple[Any, ...]] = []  # what each writelines() was given, as given
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self.record_turn()

    def writelines(self, list_of_data: Any) -> None:
        self.pieces.append(tuple(list_of_data))
        self.writes.append(b"".join(list_of_data))
        self.record_turn()

    def record_turn(self) -> None:
        if self.turn is not None:
            self.turns.append(self.turn())

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.protocol = protocol  # the HTTP/1.1 connection hands over to HTTP/2

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        # It sends nothing: all it was given stays with it. So the server's write budget,
        # which times what a kernel accepts, keeps its pace (write_budget.pyx).
        return sum(len(data) for data in self.writes)

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def http_connection(state: Any, transport: RecordingTransport) -> Any:
    """An HTTP/1.1 connection of ``state`` on ``transport``, as a listener makes one: the
    transport knows its protocol (``transport.protocol``, until the connection hands it over to
    HTTP/2 or WebSocket) and the connection has been made."""
    from fastasgi.protocols.http import HTTPProtocol

    protocol = HTTPProtocol(state)
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    return protocol
