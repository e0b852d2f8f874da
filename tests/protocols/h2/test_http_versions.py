"""--http: which HTTP versions a port serves. `2` serves HTTP/2 only (a plain socket expects the
preface, ALPN offers only h2), `1` HTTP/1.1 only, `auto` both; over real sockets."""

from __future__ import annotations

import socket
import ssl
import struct
from pathlib import Path

import httpx
import pytest

from fastasgi._h2frames import PREFACE
from fastasgi.config import Config, ConfigError
from tests.support import apps
from tests.support.server import read_response, serve
from tests.support.tls import self_signed_certificate

GOAWAY = 0x7
PROTOCOL_ERROR = 0x1
HTTP11_GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls-versions"))


def tls_client(cert: Path, *alpn: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def read_until_closed(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """(type, payload) of each whole HTTP/2 frame in ``data``."""
    found = []
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        found.append((data[3], data[9:9 + length]))
        data = data[9 + length:]
    return found


def goaway_error(data: bytes) -> int | None:
    """The error code of the GOAWAY among ``data``'s frames, or None."""
    for kind, payload in frames(data):
        if kind == GOAWAY:
            return int(struct.unpack(">I", payload[4:8])[0])
    return None


def test_http2_only_serves_prior_knowledge_clients() -> None:
    with serve(apps.echo_scope, http="2") as srv, \
            httpx.Client(http1=False, http2=True, timeout=10) as client:
        response = client.get(f"http://127.0.0.1:{srv.port}/only")
    assert response.http_version == "HTTP/2"
    assert response.json()["http_version"] == "2"


def test_http2_only_answers_an_http11_request_with_goaway() -> None:
    with serve(apps.hello, http="2") as srv, srv.connect() as sock:
        sock.sendall(HTTP11_GET)
        answer = read_until_closed(sock)
    assert not answer.startswith(b"HTTP/1.1")
    assert goaway_error(answer) == PROTOCOL_ERROR


def test_http2_only_over_tls_offers_only_h2(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with serve(apps.hello, http="2", ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw, \
                tls_client(cert, "http/1.1").wrap_socket(raw) as sock:
            assert sock.selected_alpn_protocol() is None
            sock.sendall(HTTP11_GET)
            answer = read_until_closed(sock)
        with httpx.Client(http2=True, verify=tls_client(cert), timeout=10) as client:
            response = client.get(f"https://127.0.0.1:{srv.port}/")
    assert goaway_error(answer) == PROTOCOL_ERROR
    assert (response.http_version, response.text) == ("HTTP/2", "Hello, world!")


def test_http1_only_answers_the_preface_with_505() -> None:
    with serve(apps.hello, http="1") as srv, srv.connect() as sock:
        sock.sendall(PREFACE)
        status, _, _ = read_response(sock)
    assert status == 505


def test_http1_only_over_tls_offers_only_http11(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with serve(apps.hello, http="1", ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv, \
            httpx.Client(http2=True, verify=tls_client(cert), timeout=10) as client:
        response = client.get(f"https://127.0.0.1:{srv.port}/")
    assert response.http_version == "HTTP/1.1"


def test_http2_only_without_http2_is_refused() -> None:
    with pytest.raises(ConfigError, match="^--http 2 serves HTTP/2 only, which --no-http2 turns off$"):
        Config(app="main:app", http="2", http2=False)
