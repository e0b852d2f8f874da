"""A small in-process ASGI "server" for the adapter tests: real coroutines, no sockets.

``call()`` runs an ASGI app for one HTTP request the way a server would: ``receive()`` hands out
the request body in the given pieces, then blocks until the response is complete (or the client
is made to leave) and answers ``http.disconnect``; ``send()`` records every message and can be
slowed down or gated to play a slow client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass
class Client:
    """The client's side of one request: what it sends, and what it has received so far."""

    body: Iterable[bytes] = ()
    # Called by receive() before handing out each body piece (to measure what the app holds).
    before_piece: Callable[[], None] | None = None
    # While set to a not-yet-set Event, send() waits for it before taking each body message.
    gate: asyncio.Event | None = None
    # Leave (disconnect) once this many body messages were received.
    leave_after_body_messages: int | None = None
    messages: list[Message] = field(default_factory=list)
    receive_calls: int = 0
    body_bytes_handed_out: int = 0
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def leave(self) -> None:
        self.gone.set()

    @property
    def start(self) -> Message:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.messages
        return starts[0]

    @property
    def status(self) -> int:
        return self.start["status"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return {bytes(name).lower(): bytes(value) for name, value in self.start["headers"]}

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def response_body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)


def http_scope(path: str = "/", *, method: str = "GET", query_string: bytes = b"",
               headers: Iterable[tuple[bytes, bytes]] = (), root_path: str = "",
               server: tuple[str, int | None] | None = ("127.0.0.1", 8000),
               client: tuple[str, int] | None = ("127.0.0.1", 50123),
               scheme: str = "http", http_version: str = "1.1") -> dict[str, Any]:
    """An ASGI http scope as fastasgi builds it: ``path`` includes ``root_path``."""
    full_path = root_path + path
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": http_version,
        "method": method,
        "scheme": scheme,
        "path": full_path,
        "raw_path": full_path.encode("utf-8"),
        "query_string": query_string,
        "root_path": root_path,
        "headers": list(headers),
        "server": server,
        "client": client,
        "state": {},
    }


async def call(app: Callable[..., Awaitable[None]], scope: dict[str, Any],
               client: Client | None = None, *, timeout: float = 10.0) -> Client:
    """Run ``app`` for ``scope`` against ``client`` and return the client once the app is done."""
    client = client if client is not None else Client()
    pieces = iter(client.body)
    pending: list[bytes | None] = [next(pieces, None)]
    body_messages_received = 0

    async def receive() -> Message:
        client.receive_calls += 1
        if not client.gone.is_set() and pending[0] is not None:
            if client.before_piece is not None:
                client.before_piece()
            piece = pending[0]
            pending[0] = next(pieces, None)
            client.body_bytes_handed_out += len(piece)
            return {"type": "http.request", "body": piece, "more_body": pending[0] is not None}
        if client.receive_calls == 1 and not client.gone.is_set():
            return {"type": "http.request", "body": b"", "more_body": False}
        # Like a server: nothing more to say until the client leaves or the response is done.
        gone = asyncio.ensure_future(client.gone.wait())
        done = asyncio.ensure_future(client.complete.wait())
        try:
            await asyncio.wait({gone, done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            done.cancel()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal body_messages_received
        if client.gone.is_set():
            return
        if message["type"] == "http.response.body" and client.gate is not None:
            await client.gate.wait()
        client.messages.append(message)
        if message["type"] == "http.response.body":
            body_messages_received += 1
            if not message.get("more_body", False):
                client.complete.set()
            if body_messages_received == client.leave_after_body_messages:
                client.leave()

    await asyncio.wait_for(app(scope, receive, send), timeout)
    return client


def run(coro: Awaitable[Any], *, timeout: float = 20.0, loop: str = "asyncio") -> Any:
    """Run ``coro`` on a fresh event loop ("asyncio" or "uvloop"), bounded in time."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    if loop == "asyncio":
        return asyncio.run(bounded())
    import uvloop

    event_loop = uvloop.new_event_loop()
    try:
        return event_loop.run_until_complete(bounded())
    finally:
        event_loop.close()
