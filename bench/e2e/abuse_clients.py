"""The misbehaving clients of ``run_abuse.py``, each one asyncio process on 127.0.0.1.

    python -m bench.e2e.abuse_clients KIND --port PORT --count N --seconds S [--size BYTES]

KIND is one of ATTACKS. The process prints ``READY`` on a line of its own once the attack is in
full swing (every connection open, or the flood started), then one JSON object with what it saw,
and exits. Everything is bounded: ``--count`` connections or frames, and ``--seconds`` of wall
time from READY, after which every socket is closed. Only 127.0.0.1 is ever a target.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

HOST = "127.0.0.1"
CONNECT_CONCURRENCY = 256  # connections being opened at once: the listen backlog stays short
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
MASK = b"\x5a\x13\xc7\x2e"


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def ready() -> None:
    print("READY", flush=True)


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """One response with a Content-Length body; raises on EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return head


async def until_closed(reader: asyncio.StreamReader, deadline: float) -> float | None:
    """Read and drop whatever comes until the server closes; the time it did, None at the
    deadline."""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not await asyncio.wait_for(reader.read(65536), left):
                return time.monotonic()
    except (asyncio.TimeoutError, TimeoutError):
        return None
    except OSError:  # reset by the server: closed as well
        return time.monotonic()


async def open_all(count: int, opener: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Open ``count`` connections, CONNECT_CONCURRENCY at a time; failed ones are left out."""
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> Any:
        async with limit:
            try:
                return await asyncio.wait_for(opener(), 30)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [c for c in opened if c is not None]


def delays(started: float, times: list[float | None]) -> dict[str, Any]:
    closed = [t - started for t in times if t is not None]
    return {
        "closed": len(closed),
        "close_after_s_min": round(min(closed), 2) if closed else None,
        "close_after_s_median": round(statistics.median(closed), 2) if closed else None,
        "close_after_s_max": round(max(closed), 2) if closed else None,
    }


# -- HTTP --------------------------------------------------------------------------------------


async def idle(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """Open ``count`` connections, then send one request on each and read its response: all
    become idle keep-alive connections at about the same moment. Wait for the server to close
    them."""
    conns = await open_all(count, lambda: asyncio.open_connection(HOST, port))
    for _, writer in conns:
        writer.write(REQUEST)

    async def answered(reader: asyncio.StreamReader) -> bool:
        try:
            await asyncio.wait_for(read_response(reader), 30)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            return False
        return True

    ok = await asyncio.gather(*(answered(r) for r, _ in conns))
    idle_since = time.monotonic()
    ready()
    deadline = idle_since + seconds
    times = await asyncio.gather(*(until_closed(r, deadline) for (r, _), good in zip(conns, ok)
                                   if good))
    for _, writer in conns:
        writer.close()
    return {"opened": len(conns), "answered": sum(ok), **delays(idle_since, list(times))}


async def slowloris(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """Connections that send a request head one byte a second and never finish it."""
    conns = await open_all(count, lambda: asyncio.open_connection(HOST, port))
    started = time.monotonic()
    ready()
    deadline = started + seconds
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100_000

    async def drip(writer: asyncio.StreamWriter) -> int:
        sent = 0
        while time.monotonic() < deadline and not writer.is_closing():
            try:
                writer.write(head[sent:sent + 1])
            except OSError:
                break
            sent += 1
            await asyncio.sleep(1.0)
        return sent

    drips = [asyncio.ensure_future(drip(w)) for _, w in conns]
    times = await asyncio.gather(*(until_closed(r, deadline) for r, _ in conns))
    for task in drips:
        task.cancel()
    for _, writer in conns:
        writer.close()
    return {"opened": len(conns), **delays(started, list(times))}


async def connect_small_buffer(port: int, size: int) -> socket.socket:
    """A non-blocking socket connected to the server with a ``size``-byte receive buffer.

    A small receive buffer keeps the kernel from taking the whole response off the server's
    hands: what is left must wait in the server (or the app must wait)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


async def slow_reader(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """Clients that ask for ``GET /mib`` with a tiny receive window and never read."""
    loop = asyncio.get_running_loop()

    async def opener() -> socket.socket:
        sock = await connect_small_buffer(port, size)
        try:
            await loop.sock_sendall(sock, b"GET /mib HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        except OSError:
            sock.close()
            raise
        return sock

    socks = await open_all(count, opener)
    ready()
    await asyncio.sleep(seconds)
    for sock in socks:
        sock.close()
    return {"opened": len(socks)}


async def pipelined(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """One connection that sends ``count`` pipelined requests as fast as the server takes them
    and reads the responses."""
    reader, writer = await asyncio.open_connection(HOST, port)
    started = time.monotonic()
    ready()
    deadline = started + seconds
    marker = b"HTTP/1.1 200 "

    async def send() -> int:
        sent = 0
        batch = 1000
        while sent < count and time.monotonic() < deadline:
            n = min(batch, count - sent)
            writer.write(REQUEST * n)
            await writer.drain()
            sent += n
        return sent

    async def receive() -> int:
        seen = 0
        tail = b""
        while seen < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(1 << 16), left)
            except (asyncio.TimeoutError, OSError):
                break
            if not chunk:
                break
            data = tail + chunk
            seen += data.count(marker)
            # A marker cut by the read boundary is counted in the next round.
            tail = data[-(len(marker) - 1):] if not data.endswith(marker) else b""
        return seen

    sent, answered = await asyncio.gather(send(), receive())
    elapsed = time.monotonic() - started
    writer.close()
    return {"sent": sent, "answered": answered, "seconds": round(elapsed, 2)}


# -- WebSocket ---------------------------------------------------------------------------------


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One client frame (RFC 6455 §5.2) of fewer than 126 payload bytes."""
    assert len(payload) < 126
    body = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + MASK + body


async def ws_open(port: int, path: bytes = b"/ws", receive_buffer: int = 0,
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket connection to ``path``, once the server's 101 came; with ``receive_buffer``,
    the socket's receive buffer set that small first."""
    if receive_buffer:
        sock = await connect_small_buffer(port, receive_buffer)
        reader, writer = await asyncio.open_connection(sock=sock)
    else:
        reader, writer = await asyncio.open_connection(HOST, port)
    key = base64.b64encode(os.urandom(16))
    writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                 b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        writer.close()
        raise OSError(f"no upgrade: {head[:60]!r}")
    return reader, writer


async def flood(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]], frame: bytes,
                frames: int, deadline: float) -> int:
    """Write ``frames`` copies of ``frame`` on each connection, never reading; frames sent."""
    batch = 500

    async def one(writer: asyncio.StreamWriter) -> int:
        sent = 0
        try:
            while sent < frames:
                n = min(batch, frames - sent)
                writer.write(frame * n)
                # NOTE: drain() waits once the transport holds 64 KiB: the client's memory stays
                # bounded, and a server that stops reading stops this writer (until the deadline).
                await asyncio.wait_for(writer.drain(), max(deadline - time.monotonic(), 0.001))
                sent += n
        except (asyncio.TimeoutError, OSError):
            pass
        return sent

    return sum(await asyncio.gather(*(one(w) for _, w in conns)))


async def hold(deadline: float) -> None:
    """Keep the connections open until ``deadline``.

    NOTE: the kernel's socket buffers take a whole flood in well under a second, long before the
    server has read it; closing then (with unread pongs or echoes, so with a reset) would throw
    the rest away and end the attack early. Holding makes the server work through it."""
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))


async def ws_ping_flood(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """``count`` connections, each sending ``size`` pings of 125 bytes without reading, held
    open until ``seconds`` have passed."""
    conns = await open_all(count, lambda: ws_open(port))
    started = time.monotonic()
    ready()
    sent = await flood(conns, masked_frame(0x9, b"p" * 125), size, started + seconds)
    elapsed = time.monotonic() - started
    await hold(started + seconds)
    for _, writer in conns:
        writer.close()
    return {"opened": len(conns), "frames_sent": sent, "seconds": round(elapsed, 2)}


async def ws_frame_flood(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """One connection sending ``count`` text messages of ``size`` bytes without reading (the
    app echoes each one), held open until ``seconds`` have passed."""
    conns = await open_all(1, lambda: ws_open(port))
    started = time.monotonic()
    ready()
    sent = await flood(conns, masked_frame(0x1, b"m" * size), count, started + seconds)
    elapsed = time.monotonic() - started
    await hold(started + seconds)
    for _, writer in conns:
        writer.close()
    return {"opened": len(conns), "frames_sent": sent, "seconds": round(elapsed, 2)}


async def ws_slow_reader(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """``count`` WebSocket clients with a ``size``-byte receive buffer, each asking the app for
    a 1 MiB message once and never reading, held open until ``seconds`` have passed."""
    async def opener() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await ws_open(port, b"/ws-mib", size)
        writer.write(masked_frame(0x1, b"send 1 MiB"))
        return reader, writer

    conns = await open_all(count, opener)
    started = time.monotonic()
    ready()
    await hold(started + seconds)
    for _, writer in conns:
        writer.close()
    return {"opened": len(conns)}


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    """One HTTP/2 frame (RFC 9113 §4.1)."""
    return (len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big")
            + payload)


async def h2_open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A cleartext HTTP/2 connection with prior knowledge, once the server's SETTINGS came."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(H2_PREFACE + h2_frame(0x4, 0, 0, b""))
    head = await reader.readexactly(9)
    if head[3] != 0x4:
        writer.close()
        raise OSError(f"no HTTP/2 SETTINGS: {head!r}")
    return reader, writer


async def h2_window_flood(port: int, count: int, seconds: float, size: int) -> dict[str, Any]:
    """``count`` HTTP/2 connections, each sending ``size`` WINDOW_UPDATE frames of the
    connection's window (13 bytes each, increment 1: the frame no flood bound counts) without
    reading, held open until ``seconds`` have passed."""
    conns = await open_all(count, lambda: h2_open(port))
    started = time.monotonic()
    ready()
    sent = await flood(conns, h2_frame(0x8, 0, 0, (1).to_bytes(4, "big")), size,
                       started + seconds)
    elapsed = time.monotonic() - started
    await hold(started + seconds)
    for _, writer in conns:
        writer.close()
    return {"opened": len(conns), "frames_sent": sent, "seconds": round(elapsed, 2)}


ATTACKS: dict[str, Callable[[int, int, float, int], Coroutine[Any, Any, dict[str, Any]]]] = {
    "idle": idle,
    "slowloris": slowloris,
    "slow-reader": slow_reader,
    "pipelined": pipelined,
    "ws-ping-flood": ws_ping_flood,
    "ws-frame-flood": ws_frame_flood,
    "ws-slow-reader": ws_slow_reader,
    "h2-window-flood": h2_window_flood,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(ATTACKS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True,
                        help="how long the attack may last once READY")
    parser.add_argument("--size", type=int, default=0, help="per-attack size parameter")
    args = parser.parse_args(argv)
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    result = runner(ATTACKS[args.kind](args.port, args.count, args.seconds, args.size))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
