"""A client that reads nothing of a large body leaves most of it with the server's transport, not
in the kernel: before a connection's first large write the server bounds what the kernel may
hold unsent (TCP_NOTSENT_LOWAT, fastasgi/protocols/connection.pyx), so copying the body of
hundreds of such clients into the kernel does not hold the event loop.

A real server in a thread of this process, a real TCP client over 127.0.0.1. On the loopback
the kernel would otherwise take a few MiB of a body whatever the client reads."""

from __future__ import annotations

import fcntl
import socket
import struct
import sys
import termios
from typing import Any

import pytest

from fastasgi.protocols.connection import UNSENT_LOW_WATER
from tests.support.server import read_response, serve
from tests.support.websocket import on_loop, wait_for

pytestmark = pytest.mark.skipif(not hasattr(socket, "TCP_NOTSENT_LOWAT")
                                or not sys.platform.startswith("linux"),
                                reason="TCP_NOTSENT_LOWAT and SIOCOUTQ are Linux's")

BODY = bytes(range(256)) * (16 * 1024)  # 4 MiB
# What the kernel may hold besides the unsent bound: the bytes in flight to a client whose
# window is a few KiB, and the segment that crossed the bound (64 KiB on the loopback).
IN_FLIGHT_AND_ONE_SEGMENT = 256 * 1024


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = BODY if scope["path"] == "/big" else b"small"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def kernel_holds(connection: Any) -> tuple[int, int]:
    """The bytes in the kernel's send queue of the server's socket (SIOCOUTQ: unsent and
    unacknowledged), and the socket's TCP_NOTSENT_LOWAT."""
    sock = connection.transport.get_extra_info("socket")
    queued = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    return queued, sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT)


def test_a_client_that_reads_nothing_finds_little_of_a_large_body_in_the_kernel() -> None:
    with serve(app, access_log=False) as srv, socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.settimeout(10)
        client.connect(("127.0.0.1", srv.port))
        client.sendall(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        connections = srv.server.state.connections
        # The kernel took what it would; the rest waits in the transport.
        wait_for(srv, lambda: any(c.transport.get_write_buffer_size() for c in connections))
        [connection] = on_loop(srv, lambda: list(connections))
        queued, low_water = on_loop(srv, lambda: kernel_holds(connection))
        assert queued <= UNSENT_LOW_WATER + IN_FLIGHT_AND_ONE_SEGMENT, queued
        assert low_water == UNSENT_LOW_WATER
        # Read at last, the body comes whole.
        status, _, body = read_response(client)
        assert status == 200 and body == BODY


def test_a_connection_with_only_small_responses_keeps_the_kernels_default() -> None:
    with serve(app, access_log=False) as srv, srv.connect() as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = read_response(client)
        assert status == 200 and body == b"small"
        [connection] = on_loop(srv, lambda: list(srv.server.state.connections))
        _, low_water = on_loop(srv, lambda: kernel_holds(connection))
        assert low_water != UNSENT_LOW_WATER
