"""One abusive connection must not stall everyone else: while a connection floods the server
(WebSocket pings it never reads the pongs of, or pipelined requests it never reads the answers
to), another client is still answered.

Latency during such floods is measured by bench/run_abuse.py; here only that the answers come.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx

from tests.protocols import apps
from tests.support.server import serve
from tests.websocket.frames import client_frame
from tests.websocket.protocol_support import RawClient, echo

PING = 0x9
FLOOD_SECONDS = 3.0


async def websocket_or_hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await echo(scope, receive, send)
    else:
        await apps.hello(scope, receive, send)


def flood(sock: socket.socket, piece: bytes, stop: threading.Event) -> None:
    """Send ``piece`` again and again, reading nothing, until told to stop or the server stops
    reading (a full socket is fine: the point is that the server stays fair meanwhile)."""
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            sock.sendall(piece)
        except TimeoutError:
            continue
        except OSError:
            return


def answered_while(sock: socket.socket, piece: bytes, url: str) -> int:
    """GETs answered 200 on a second connection while ``sock`` floods with ``piece``."""
    stop = threading.Event()
    flooder = threading.Thread(target=flood, args=(sock, piece, stop), daemon=True)
    flooder.start()
    ok = 0
    try:
        deadline = time.monotonic() + FLOOD_SECONDS
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < deadline:
                ok += client.get(url).status_code == 200
    finally:
        stop.set()
        flooder.join(5)
    return ok


def test_a_websocket_ping_flood_does_not_stop_other_clients_being_served() -> None:
    with serve(websocket_or_hello) as srv, RawClient.open(srv.port) as flooder:
        pings = client_frame(PING, b"p") * 2000
        assert answered_while(flooder.sock, pings, srv.url) > 0


def test_a_pipelined_request_flood_does_not_stop_other_clients_being_served() -> None:
    with serve(apps.hello) as srv, srv.connect() as flooder:
        requests = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 2000
        assert answered_while(flooder, requests, srv.url) > 0


def test_pipelined_requests_beyond_one_turn_are_all_answered_in_order() -> None:
    """The per-turn budget defers requests, never drops or reorders them."""
    count = 500
    requests = b"".join(b"GET /r%d HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in range(count))
    with serve(apps.path_echo) as srv, srv.connect(timeout=10) as sock:
        sock.sendall(requests)
        data = b""
        while data.count(b"HTTP/1.1 200 ") < count:
            chunk = sock.recv(65536)
            assert chunk, "closed before every response came"
            data += chunk
    bodies = [part.split(b"\r\n\r\n", 1)[1][: len(b"/r%d?" % n)]
              for n, part in enumerate(data.split(b"HTTP/1.1 200 ")[1:])]
    assert bodies == [b"/r%d?" % n for n in range(count)]


def test_websocket_messages_beyond_one_turn_are_all_delivered_in_order() -> None:
    count = 1000
    frames = b"".join(client_frame(0x1, b"m%d" % n) for n in range(count))
    with serve(websocket_or_hello) as srv, RawClient.open(srv.port) as client:
        client.send(frames)
        echoed = [client.recv_frame().payload for _ in range(count)]
    assert echoed == [b"m%d" % n for n in range(count)]
