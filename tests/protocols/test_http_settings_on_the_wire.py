"""Settings whose effect is seen on the wire: request limits per worker, timeouts, proxy headers
on a UNIX socket, connection tracing."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from fastasgi.logging import TRACE
from tests.support import apps
from tests.support.server import read_response, recv_until_closed, serve


def test_the_nth_request_is_the_last_one_served_under_limit_max_requests() -> None:
    served: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        served.append(scope["path"])
        await apps.hello(scope, receive, send)

    with serve(app, limit_max_requests=3) as srv:
        with srv.connect() as first, srv.connect() as second:
            buffer = bytearray()
            for n in range(2):
                first.sendall(b"GET /first%d HTTP/1.1\r\nHost: t\r\n\r\n" % n)
                status, headers, _ = read_response(first, buffer)
                assert status == 200 and headers.get(b"connection") != b"close"
            second.sendall(b"GET /third HTTP/1.1\r\nHost: t\r\n\r\n")
            status, headers, _ = read_response(second)
            assert (status, headers[b"connection"]) == (200, b"close")
            # The first connection, idle since, was closed when the last request came.
            first.settimeout(5)
            assert first.recv(100) == b""
        deadline = time.monotonic() + 5
        while not srv.server.should_exit and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.server.should_exit, "the worker did not stop after its last request"
    assert served == ["/first0", "/first1", "/third"]


def test_keep_alive_timeout_never_fires_early() -> None:
    with serve(apps.hello, timeout_keep_alive=1) as srv, srv.connect(timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(sock)[0] == 200
        idle_from = time.monotonic()
        assert recv_until_closed(sock) == b""
        # Load can only make the close later; anything under a second would be a bug.
        assert time.monotonic() - idle_from >= 1.0


def test_header_read_timeout_never_fires_early() -> None:
    with serve(apps.hello, timeout_header_read=1) as srv, srv.connect(timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        response = recv_until_closed(sock)
        assert time.monotonic() - started >= 1.0
    assert response.startswith(b"HTTP/1.1 408 ")


def scope_over_a_unix_socket(path: str, forwarded: bytes, **settings: Any) -> bytes:
    """The echoed scope of one request with ``forwarded`` header lines, over --uds ``path``."""
    with serve(apps.echo_scope, uds=path, **settings), socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n" + forwarded + b"Connection: close\r\n\r\n")
        return read_response(sock)[2]


FORWARDED = b"X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n"


def test_proxy_headers_apply_on_a_unix_socket_when_every_proxy_is_trusted(tmp_path: Path) -> None:
    body = scope_over_a_unix_socket(str(tmp_path / "app.sock"), FORWARDED, proxy_headers=True,
                                    forwarded_allow_ips="*")
    assert b'"client": ["203.0.113.7", 0]' in body
    assert b'"scheme": "https"' in body


def test_proxy_headers_are_ignored_on_a_unix_socket_by_default(tmp_path: Path) -> None:
    body = scope_over_a_unix_socket(str(tmp_path / "app.sock"), FORWARDED, proxy_headers=True)
    assert b'"client": null' in body
    assert b'"scheme": "http"' in body


def test_trace_level_logs_connections_made_and_lost(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(TRACE, logger="fastasgi.error"), serve(apps.hello) as srv:
        with srv.connect() as sock:
            port = sock.getsockname()[1]
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            recv_until_closed(sock)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
                "connection lost" in r.getMessage() for r in caplog.records):
            time.sleep(0.02)
    lines = [r.getMessage() for r in caplog.records if r.levelno == TRACE]
    assert f"127.0.0.1:{port} - HTTP connection made" in lines
    assert f"127.0.0.1:{port} - HTTP connection lost" in lines


def test_connections_are_not_traced_at_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.DEBUG, logger="fastasgi.error"),
        serve(apps.hello) as srv, srv.connect() as sock,
    ):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        recv_until_closed(sock)
    assert not [r for r in caplog.records if "HTTP connection" in r.getMessage()]
