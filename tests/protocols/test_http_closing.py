"""How the server ends a connection after its last response.

A client that said its request was its last (``Connection: close``, or HTTP/1.0 without
keep-alive) sends nothing more (RFC 9112 §9.6): the server closes at once, without the half-close
and the wait for the client's FIN that guard a response against a reset while a client may still
be sending. Where the client may still send, the server half-closes and waits. Real sockets, an
in-process server whose connections the test can see."""

from __future__ import annotations

import socket
import time

from tests.support import apps
from tests.support.server import Running, read_response, serve, until


def answered_then_eof(srv: Running, request: bytes) -> socket.socket:
    """Send ``request``, read its 200 and the end of the stream; the socket stays open."""
    sock = srv.connect()
    sock.sendall(request)
    status, _, body = read_response(sock)
    assert (status, body) == (200, b"Hello, world!")
    sock.settimeout(5)
    assert sock.recv(100) == b""
    return sock


def reset_by_the_server(sock: socket.socket, seconds: float) -> bool:
    """Whether bytes sent within ``seconds`` are answered with a reset: the server's socket is
    closed, not half-closed and still reading."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"x")
            time.sleep(0.05)
            sock.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def test_a_client_that_sent_its_last_request_is_let_go_without_waiting_for_its_fin() -> None:
    for request in (b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                    b"GET / HTTP/1.0\r\n\r\n"):
        with serve(apps.hello) as srv:
            sock = answered_then_eof(srv, request)
            # The client has not closed; the server's socket is closed already.
            assert reset_by_the_server(sock, 3)
            until(lambda: not srv.server.state.connections, "the server to release it")
            sock.close()


def test_a_client_that_may_still_send_is_half_closed_and_waited_for() -> None:
    # The server ends a keep-alive connection itself (a body it will not read): the client
    # did not say it was done, so the server sends its FIN and keeps reading until the
    # client closes, lest a reset destroy the response.
    with serve(apps.hello) as srv:
        sock = srv.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert read_response(sock)[0] == 200
        sock.settimeout(5)
        assert sock.recv(100) == b""
        assert srv.server.state.connections, "released before the client closed"
        # What it sends meanwhile is read and dropped (for LINGER_TICKS, far longer than this).
        assert not reset_by_the_server(sock, 0.5)
        sock.close()
        until(lambda: not srv.server.state.connections, "the server to release it")
