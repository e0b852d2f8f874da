"""Per-request cost of the protocol layer alone: no sockets, no kernel, no load generator.

Each server's asyncio Protocol is driven on a uvloop loop through an in-memory transport: a whole
request goes into data_received, the loop turns until the response has been written. What is
measured is everything Python does per request (parse, scope, task, app, send, serialize) minus
the system calls, which the end-to-end benchmark adds back. The same app, the same bytes and the
same driver run for every server, in the same run:

- fastasgi: fastasgi.protocols.http.HTTPProtocol
- uvicorn: uvicorn.protocols.http.httptools_impl.HttpToolsProtocol (httptools), access log off

Run: pytest bench/micro/test_protocol_bench.py --benchmark-only
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench.apps import PLAINTEXT_BODY, plaintext

REQUEST = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\nAccept: */*\r\n"
    b"Connection: keep-alive\r\n\r\n"
)
REQUESTS_PER_ROUND = 500


class MemoryTransport(asyncio.Transport):
    """Collects what the protocol writes; answers the questions servers ask a transport."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0
        self.sent = 0  # bytes
        self.closed = False
        self.protocol: Any = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: Any) -> None:
        self.written += 1
        self.sent += len(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol

    def get_write_buffer_size(self) -> int:
        return 0


def _fastasgi_protocol(loop: asyncio.AbstractEventLoop) -> Any:
    from fastasgi._serializer import set_date
    from fastasgi.config import Config
    from fastasgi.protocols.http import HTTPProtocol
    from fastasgi.protocols.state import ServerState
    from fastasgi.settings import ConnectionSettings

    set_date(b"Sat, 21 Nov 2026 12:00:00 GMT")
    # As the fastasgi command runs it with --no-access-log, like uvicorn's below (both with
    # proxy headers on, as both default).
    settings = ConnectionSettings.from_config(Config(app="bench.apps:plaintext", access_log=False))
    return HTTPProtocol(ServerState(loop, plaintext, settings))


def _uvicorn_protocol(loop: asyncio.AbstractEventLoop) -> Any:
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    config = Config(plaintext, http="httptools", loop="none", access_log=False, log_level="warning",
                    lifespan="off")
    config.load()
    return HttpToolsProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)


FACTORIES = {"fastasgi": _fastasgi_protocol, "uvicorn": _uvicorn_protocol}


@pytest.mark.parametrize("server", list(FACTORIES))
def test_protocol_per_request(benchmark: Any, server: Any) -> None:
    import uvloop

    loop = uvloop.new_event_loop()
    transport = MemoryTransport()

    async def setup() -> Any:
        protocol = FACTORIES[server](loop)
        protocol.connection_made(transport)
        return protocol

    protocol = loop.run_until_complete(setup())

    async def serve(count: int) -> None:
        for _ in range(count):
            before = transport.written
            protocol.data_received(REQUEST)
            while transport.written == before:
                await asyncio.sleep(0)

    # Check the answer before timing it.
    captured: list[bytes] = []
    write = transport.write
    transport.write = captured.append  # type: ignore[method-assign]
    loop.run_until_complete(_first_response(protocol, captured))
    transport.write = write  # type: ignore[method-assign]
    response = b"".join(captured)
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(PLAINTEXT_BODY), response

    benchmark.group = f"protocol: {REQUESTS_PER_ROUND} keep-alive GETs, plaintext app"
    benchmark.extra_info["requests_per_round"] = REQUESTS_PER_ROUND
    benchmark.pedantic(lambda: loop.run_until_complete(serve(REQUESTS_PER_ROUND)),
                       rounds=20, warmup_rounds=2)
    protocol.connection_lost(None)
    loop.close()


async def _first_response(protocol: Any, captured: list[bytes]) -> None:
    protocol.data_received(REQUEST)
    for _ in range(100):
        if captured and captured[-1].endswith(PLAINTEXT_BODY):
            return
        await asyncio.sleep(0)
