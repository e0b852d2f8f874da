"""Instructions per operation of the Cython cores, counted by valgrind's callgrind.

Wall-clock figures move with whatever else the machine runs; instruction counts do not, so this is
the measure to compare two builds with (a refactoring must not make any case dearer). Each case is
run twice under callgrind in a fresh interpreter, once with 0 and once with ``--count``
operations after the same warm-up, and the difference is divided by the count: interpreter
start-up, imports and warm-up cancel out.

Cases (inputs from ``parser_inputs.py`` where it has them):

- get, small-get, post, chunked: one request fed whole to a ``RequestParser`` reused across
  requests (a keep-alive connection), then ``next_event`` until ``END_OF_MESSAGE``;
- get-changed: the browser GET and the same with the last byte of every field value changed,
  in turn: no field line repeats the one at its place in the request before (the parser's
  reuse of repeated field lines, _head.pyx, finds nothing to reuse);
- httptools-get, httptools-small-get: the same two requests through httptools, with the callbacks
  of ``test_parser_bench.py`` collecting what our parser's events carry (the yardstick);
- chunked-small: the same with 8 chunks of 16 bytes and an extension, where the chunk framing,
  not copying, is the work;
- response: ``ResponseEncoder`` ``reset``, ``start`` (200, four headers) and ``body`` (27 bytes);
- ws-text, ws-deflate: a ``WebSocketCodec`` decoding one masked text message and encoding one,
  plain and with permessage-deflate;
- request: the whole HTTP/1.1 request cycle of ``micro/test_protocol_bench.py`` (``HTTPProtocol``
  on an in-memory transport, the plaintext app, a turn of a uvloop loop per request);
- connection: the same cycle on a connection of its own, as a ``Connection: close`` client
  makes one per request: the protocol made, ``connection_made``, the request, the close and
  ``connection_lost``;
- pipelined: the same cycle with PIPELINE_DEPTH requests in one read (per request), as a
  pipelining client sends them;
- h2-request: the same over HTTP/2: one stream per request (a HEADERS frame with END_STREAM,
  its field block all indexed, as a client's repeated request is) on one connection;
- ws-echo: one WebSocket text message in, its echo out, through ``WebSocketProtocol`` (the echo
  app, a turn of the loop per message).

Needs valgrind on PATH. Usage:

    python -m bench.micro.instructions                   # every case
    python -m bench.micro.instructions get chunked -n 5000
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

WARMUP = 200
SMALL_GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
SMALL_CHUNKED = (
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"10;n=v\r\n" + bytes([0x61 + i]) * 16 + b"\r\n" for i in range(8))
    + b"0\r\n\r\n"
)
WS_TEXT = '{"type":"chat","user":"alice","text":"hello, world!"}'
PIPELINE_DEPTH = 16  # as wrk's pipelining benchmarks send


def _parse_case(*requests: bytes) -> Callable[[], None]:
    """One request, or two in turn, fed whole to one parser (a keep-alive connection) per
    operation."""
    from fastasgi._parser import END_OF_MESSAGE, RequestParser
    from fastasgi.config import Config
    from fastasgi.settings import HTTPLimits

    parser = RequestParser(HTTPLimits.from_config(Config(app="bench.apps:plaintext")))
    raw = requests[0]
    turn = [0]

    def run() -> None:
        parser.feed(raw)
        while parser.next_event() is not END_OF_MESSAGE:
            pass

    def run_in_turn() -> None:
        turn[0] ^= 1
        parser.feed(requests[turn[0]])
        while parser.next_event() is not END_OF_MESSAGE:
            pass

    return run if len(requests) == 1 else run_in_turn


def _other_values(raw: bytes) -> bytes:
    """raw with the last byte of each field value changed, and every length kept: a request
    whose field lines all differ from raw's, to the last byte."""
    head, _, body = raw.partition(b"\r\n\r\n")
    request_line, *fields = head.split(b"\r\n")
    changed = [field[:-1] + bytes([field[-1] ^ 1]) for field in fields]
    return b"\r\n".join([request_line, *changed]) + b"\r\n\r\n" + body


def _httptools_case(raw: bytes) -> Callable[[], None]:
    from bench.micro.test_parser_bench import httptools_

    parse, _ = httptools_()

    def run() -> None:
        parse(raw)

    return run


def _response_case() -> Callable[[], None]:
    from fastasgi._serializer import ResponseEncoder, set_date
    from fastasgi.config import Config
    from fastasgi.settings import ResponseDefaults

    set_date(b"Sat, 21 Nov 2026 19:40:00 GMT")
    encoder = ResponseEncoder(ResponseDefaults.from_config(Config(app="bench.apps:plaintext")))
    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"x-request-id", b"4bf92f3577b34da6a3ce929d0e0e4736"),
        (b"vary", b"accept-encoding"),
    ]

    def run() -> None:
        encoder.reset()
        encoder.start(200, headers)
        encoder.body(b'{"message":"Hello, world!"}')

    return run


def _request_case() -> Callable[[], None]:
    import asyncio

    import uvloop

    from bench.micro.test_protocol_bench import REQUEST, MemoryTransport, _fastasgi_protocol

    loop = uvloop.new_event_loop()
    transport = MemoryTransport()
    protocol = _fastasgi_protocol(loop)
    loop.run_until_complete(asyncio.sleep(0))
    protocol.connection_made(transport)

    async def one() -> None:
        before = transport.written
        protocol.data_received(REQUEST)
        while transport.written == before:
            await asyncio.sleep(0)

    def run() -> None:
        loop.run_until_complete(one())

    return run


def _connection_case() -> Callable[[], None]:
    """A connection per request, as a ``Connection: close`` client makes: the protocol made,
    connection_made, the request, its response, the close and connection_lost (the transport's
    own work, the system calls among it, is not counted)."""
    import asyncio

    import uvloop

    from bench.micro.test_protocol_bench import REQUEST, MemoryTransport, _fastasgi_protocol

    loop = uvloop.new_event_loop()
    first = _fastasgi_protocol(loop)
    state, factory = first.state, type(first)
    last_request = REQUEST.replace(b"keep-alive", b"close")

    async def one() -> None:
        transport = MemoryTransport()
        protocol = factory(state)
        protocol.connection_made(transport)
        protocol.data_received(last_request)
        while not transport.closed:
            await asyncio.sleep(0)
        protocol.connection_lost(None)

    def run() -> None:
        loop.run_until_complete(one())

    return run


def _pipelined_case() -> Callable[[], None]:
    """PIPELINE_DEPTH requests in one read; one operation is one request (the count is divided
    by the depth)."""
    import asyncio

    import uvloop

    from bench.micro.test_protocol_bench import REQUEST, MemoryTransport, _fastasgi_protocol

    loop = uvloop.new_event_loop()
    transport = MemoryTransport()
    protocol = _fastasgi_protocol(loop)
    loop.run_until_complete(asyncio.sleep(0))
    protocol.connection_made(transport)

    async def answered(data: bytes, size: int) -> None:
        before = transport.sent
        protocol.data_received(data)
        while transport.sent - before < size:
            await asyncio.sleep(0)

    # Bytes are counted, not writes, so that builds that write each response alone and builds
    # that write them together wait for the same thing.
    loop.run_until_complete(answered(REQUEST, 1))
    batch_size = PIPELINE_DEPTH * transport.sent
    batch = REQUEST * PIPELINE_DEPTH
    calls = [0]

    def run() -> None:
        # NOTE: a batch every PIPELINE_DEPTH operations, so that -n counts requests.
        if calls[0] % PIPELINE_DEPTH == 0:
            loop.run_until_complete(answered(batch, batch_size))
        calls[0] += 1

    return run


def _ws_echo_case() -> Callable[[], None]:
    import asyncio
    import base64

    import uvloop

    from bench.micro.test_protocol_bench import MemoryTransport
    from fastasgi._serializer import set_date
    from fastasgi.config import Config
    from fastasgi.protocols.http import HTTPProtocol
    from fastasgi.protocols.state import ServerState
    from fastasgi.settings import ConnectionSettings

    async def echo(scope: dict, receive: Callable, send: Callable) -> None:  # type: ignore[type-arg]
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text")})

    set_date(b"Sat, 21 Nov 2026 12:00:00 GMT")
    settings = ConnectionSettings.from_config(Config(app="bench.apps:plaintext", access_log=False,
                                                     ws_per_message_deflate=False))
    loop = uvloop.new_event_loop()
    transport = MemoryTransport()
    http = HTTPProtocol(ServerState(loop, echo, settings))
    loop.run_until_complete(asyncio.sleep(0))
    http.connection_made(transport)
    key = base64.b64encode(b"0123456789abcdef")
    upgrade = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key
               + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    frame = _client_frame(WS_TEXT.encode(), rsv1=False)

    async def one(data: bytes) -> None:
        before = transport.written
        (transport.protocol or http).data_received(data)
        while transport.written == before:
            await asyncio.sleep(0)

    loop.run_until_complete(one(upgrade))

    def run() -> None:
        loop.run_until_complete(one(frame))

    return run


def _h2_request_case() -> Callable[[], None]:
    import asyncio

    import h2.config
    import h2.connection
    import uvloop

    from bench.micro.test_protocol_bench import MemoryTransport, _fastasgi_protocol

    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    # A connection window that no run of responses uses up.
    client.increment_flow_control_window(2**31 - 1 - 65535)
    fields = [(":method", "GET"), (":scheme", "http"), (":path", "/"),
              (":authority", "127.0.0.1:8000"), ("user-agent", "bench"), ("accept", "*/*")]
    client.send_headers(1, fields, end_stream=True)
    opening = client.data_to_send()
    client.send_headers(3, fields, end_stream=True)
    repeated_block = client.data_to_send()[9:]  # every later request's block is the same

    loop = uvloop.new_event_loop()
    transport = MemoryTransport()
    http = _fastasgi_protocol(loop)
    loop.run_until_complete(asyncio.sleep(0))
    http.connection_made(transport)
    next_stream = [3]

    async def one(data: bytes) -> None:
        before = transport.written
        (transport.protocol or http).data_received(data)
        while transport.written == before:
            await asyncio.sleep(0)

    loop.run_until_complete(one(opening))

    def run() -> None:
        stream_id = next_stream[0]
        next_stream[0] += 2
        frame = (len(repeated_block).to_bytes(3, "big") + b"\x01\x05"
                 + stream_id.to_bytes(4, "big") + repeated_block)
        loop.run_until_complete(one(frame))

    return run


def _client_frame(payload: bytes, rsv1: bool) -> bytes:
    """A masked, final text frame of under 126 bytes, as a client sends it."""
    mask = b"\x9a\x4e\x13\xd7"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81 | (0x40 if rsv1 else 0), 0x80 | len(payload)]) + mask + masked


def _websocket_case(deflate: bool) -> Callable[[], None]:
    import zlib

    from fastasgi._websocket import DeflateParams, WebSocketCodec

    payload = WS_TEXT.encode()
    if deflate:
        # The client compresses each message afresh, so every message is the same frame.
        compressor = zlib.compressobj(wbits=-15)
        data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        frame = _client_frame(data[:-4], rsv1=True)
        codec = WebSocketCodec(deflate=DeflateParams(client_no_context_takeover=True))
    else:
        frame = _client_frame(payload, rsv1=False)
        codec = WebSocketCodec()

    def run() -> None:
        codec.feed(frame)
        assert codec.next_event() == WS_TEXT
        codec.encode_text(WS_TEXT)

    return run


def _cases() -> dict[str, Callable[[], Callable[[], None]]]:
    from bench.micro.parser_inputs import INPUTS

    return {
        "get": lambda: _parse_case(INPUTS["get"].raw),
        "get-changed": lambda: _parse_case(INPUTS["get"].raw, _other_values(INPUTS["get"].raw)),
        "small-get": lambda: _parse_case(SMALL_GET),
        "httptools-get": lambda: _httptools_case(INPUTS["get"].raw),
        "httptools-small-get": lambda: _httptools_case(SMALL_GET),
        "post": lambda: _parse_case(INPUTS["post"].raw),
        "chunked": lambda: _parse_case(INPUTS["chunked"].raw),
        "chunked-small": lambda: _parse_case(SMALL_CHUNKED),
        "response": _response_case,
        "ws-text": lambda: _websocket_case(False),
        "ws-deflate": lambda: _websocket_case(True),
        "request": _request_case,
        "connection": _connection_case,
        "pipelined": _pipelined_case,
        "h2-request": _h2_request_case,
        "ws-echo": _ws_echo_case,
    }


def _run_inside(case: str, count: int) -> None:
    """The measured process: warm up, then run the case count times."""
    run = _cases()[case]()
    for _ in range(WARMUP + count):
        run()


def _instructions(case: str, count: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        env = dict(os.environ, PYTHONHASHSEED="0")
        subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                sys.executable, "-m", "bench.micro.instructions", "--inside", case, "-n", str(count),
            ],
            check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        match = re.search(r"^summary:\s*(\d+)", out.read_text(), re.MULTILINE)
        assert match, "no summary line in the callgrind output"
        return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="cases to run (default: all)")
    parser.add_argument("-n", "--count", type=int, default=2000, help="operations per case")
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        _run_inside(args.inside, args.count)
        return
    names = args.cases or list(_cases())
    unknown = set(names) - set(_cases())
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    for name in names:
        base = _instructions(name, 0)
        total = _instructions(name, args.count)
        print(f"{name:14} {(total - base) / args.count:12.1f} instructions/op", flush=True)


if __name__ == "__main__":
    main()
