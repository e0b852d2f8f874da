"""The raw uvloop ceiling: what one core can serve over HTTP/1.1 when no server does any work.

    python -m bench.e2e.ceiling --host 127.0.0.1 --port 8000 bench.apps:plaintext

An ``asyncio.Protocol`` on uvloop that parses nothing: it counts the request heads in what it
reads (``\\r\\n\\r\\n``) and answers them all with one write of the fixed bytes that the app of
bench/apps.py named on the command line would send (its status, content type, length and body),
so pipelined requests coalesce as in a server that batches its writes. A request asking for
``Connection: close`` is answered and the connection closed. Requests with a body are not served
correctly; the benchmarks send none. This is the bound a Python server on uvloop approaches, not a
server: it neither parses nor runs an app.
"""

import argparse
import asyncio
from typing import cast

import uvloop

from bench.apps import APPS

HEAD_END = b"\r\n\r\n"
CLOSE = (b"Connection: close", b"connection: close")


def response_for(target: str, close: bool = False) -> bytes:
    """The whole response of the bench.apps app ``target`` (``bench.apps:<attribute>``), saying
    ``connection: close`` when ``close`` (a client that is not told keeps sending)."""
    attribute = target.rpartition(":")[2]
    for name, content_type, body in APPS.values():
        if name == attribute:
            head = (
                b"HTTP/1.1 200 OK\r\ncontent-type: " + content_type
                + b"\r\ncontent-length: " + str(len(body)).encode()
                + (b"\r\nconnection: close" if close else b"") + HEAD_END
            )
            return head + body
    raise SystemExit(f"unknown app {target!r}; known: {', '.join(a for a, _, _ in APPS.values())}")


class Ceiling(asyncio.Protocol):
    def __init__(self, response: bytes, closing: bytes) -> None:
        self.response = response
        self.closing = closing
        # The bytes after the last head end seen, at most 3: a head end split over two reads.
        self.tail = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport is not a subclass of asyncio.Transport, but has its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        data = self.tail + data
        count = data.count(HEAD_END)
        last = data.rfind(HEAD_END)
        self.tail = (data[last + len(HEAD_END):] if count else data)[-3:]
        if not count or self.transport is None:
            return
        if any(close in data for close in CLOSE):
            self.transport.write(self.closing)
            self.transport.close()
            return
        self.transport.write(self.response * count if count > 1 else self.response)


async def serve(host: str, port: int, target: str) -> None:
    response, closing = response_for(target), response_for(target, close=True)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Ceiling(response, closing), host, port,
                                      backlog=2048)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("app", help="bench.apps:<attribute>, as the servers are given it")
    args = parser.parse_args(argv)
    response_for(args.app)  # an unknown app fails before the loop starts
    uvloop.run(serve(args.host, args.port, args.app))


if __name__ == "__main__":
    main()
