"""HTTP/2 over TLS: a client that offers h2 by ALPN gets it (RFC 9113 §3.2); one that offers
only http/1.1, or a server run with --no-http2, stays on HTTP/1.1."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import httpx
import pytest

from tests.support import apps
from tests.support.server import serve
from tests.support.tls import self_signed_certificate


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls-h2"))


def client_context(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    return context


def test_alpn_h2_serves_http2_with_https_scheme(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with serve(apps.echo_scope, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv, \
            httpx.Client(http2=True, verify=client_context(cert), timeout=10) as client:
        response = client.get(f"https://127.0.0.1:{srv.port}/secure")
    assert response.http_version == "HTTP/2"
    scope = response.json()
    assert scope["http_version"] == "2"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/secure"


def test_alpn_h2_upload_round_trips(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    payload = b"z" * (3 << 20)
    with serve(apps.echo_body, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv, \
            httpx.Client(http2=True, verify=client_context(cert), timeout=20) as client:
        response = client.post(f"https://127.0.0.1:{srv.port}/", content=payload)
    assert response.http_version == "HTTP/2"
    assert response.json()["sha256"] == hashlib.sha256(payload).hexdigest()


def test_client_offering_only_http11_gets_http11(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with serve(apps.hello, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv, \
            httpx.Client(verify=client_context(cert), timeout=10) as client:
        response = client.get(f"https://127.0.0.1:{srv.port}/")
    assert response.http_version == "HTTP/1.1"
    assert response.text == "Hello, world!"


def test_without_http2_alpn_offers_only_http11(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with serve(apps.hello, ssl_certfile=str(cert), ssl_keyfile=str(key), http2=False) as srv, \
            httpx.Client(http2=True, verify=client_context(cert), timeout=10) as client:
        response = client.get(f"https://127.0.0.1:{srv.port}/")
    assert response.http_version == "HTTP/1.1"
