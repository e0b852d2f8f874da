"""The ASGI extensions on HTTP/1.1, read by h11 as a client over a real socket: early hints
(103 before the response), trailers (after a chunked body, to clients that sent "TE: trailers"),
and the tls extension with a client certificate made by openssl."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import h11
import httpx
import pytest

from tests.support import extension_apps
from tests.support.server import read_response, serve


def exchange(port: int, *, te_trailers: bool, requests: int = 1) -> list[list[Any]]:
    """``requests`` GETs on one connection; each one's events, as h11 reads them."""
    client = h11.Connection(h11.CLIENT)
    headers = [("host", "127.0.0.1")] + ([("te", "trailers")] if te_trailers else [])
    responses = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(requests):
            sock.sendall(client.send(h11.Request(method="GET", target="/", headers=headers)))
            sock.sendall(client.send(h11.EndOfMessage()))
            events: list[Any] = []
            while not events or type(events[-1]) is not h11.EndOfMessage:
                event = client.next_event()
                if event is h11.NEED_DATA:
                    client.receive_data(sock.recv(65536))
                else:
                    events.append(event)
            responses.append(events)
            client.start_next_cycle()
    return responses


def body_of(events: list[Any]) -> bytes:
    return b"".join(bytes(event.data) for event in events if type(event) is h11.Data)


def test_early_hints_go_out_before_the_response_and_late_ones_are_dropped() -> None:
    with serve(extension_apps.hints_then_page) as srv:
        [events] = exchange(srv.port, te_trailers=False)
    hints = [e for e in events if type(e) is h11.InformationalResponse]
    assert [hint.status_code for hint in hints] == [103]
    assert [value for name, value in hints[0].headers if name == b"link"] == extension_apps.LINKS
    assert [type(e) for e in events][:2] == [h11.InformationalResponse, h11.Response]
    assert body_of(events) == b"page"


def test_no_early_hints_to_an_http10_client() -> None:
    with serve(extension_apps.hints_then_page) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        status, _, _ = read_response(sock)
    assert status == 200


def test_trailers_follow_the_chunked_body_when_the_client_asked() -> None:
    with serve(extension_apps.streamed_with_trailers) as srv:
        [events] = exchange(srv.port, te_trailers=True)
    assert body_of(events) == b"part one, part two"
    assert list(events[-1].headers) == extension_apps.TRAILERS


def test_a_whole_body_with_trailers_is_sent_chunked() -> None:
    with serve(extension_apps.whole_body_with_trailers) as srv:
        [events] = exchange(srv.port, te_trailers=True)
    [response] = [e for e in events if type(e) is h11.Response]
    assert (b"transfer-encoding", b"chunked") in list(response.headers)
    assert body_of(events) == b"whole"
    assert list(events[-1].headers) == extension_apps.TRAILERS


def test_without_te_trailers_the_body_ends_without_them_and_the_connection_goes_on() -> None:
    with serve(extension_apps.streamed_with_trailers) as srv:
        responses = exchange(srv.port, te_trailers=False, requests=2)
    for events in responses:
        assert body_of(events) == b"part one, part two"
        assert list(events[-1].headers) == []


# -- the tls extension --------------------------------------------------------------------------


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate and a client certificate it signed, made by openssl."""
    folder = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-subj", "/CN=Test CA", "-days", "2", cwd=folder)
    for name, subject in (("server", "/CN=127.0.0.1"),
                          ("client", "/C=DE/O=Example, Inc./CN=alice")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", subject, cwd=folder)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", cwd=folder)
    return folder


def client_context(pki: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    context.check_hostname = False  # the certificate names 127.0.0.1 as its CN only
    return context


def test_tls_extension_describes_the_session_and_the_client_certificate(pki: Path) -> None:
    context = client_context(pki)
    context.load_cert_chain(str(pki / "client.pem"), str(pki / "client.key"))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    with serve(extension_apps.tls_scope, ssl_certfile=str(pki / "server.pem"),
               ssl_keyfile=str(pki / "server.key"), ssl_ca_certs=str(pki / "ca.pem"),
               ssl_cert_reqs=int(ssl.CERT_REQUIRED)) as srv, \
            httpx.Client(verify=context, timeout=10) as client:
        tls = client.get(f"https://127.0.0.1:{srv.port}/").json()
    client_pem = (pki / "client.pem").read_text()
    assert tls["server_cert"] == (pki / "server.pem").read_text()
    assert ssl.PEM_cert_to_DER_cert(tls["client_cert_chain"][0]) == \
        ssl.PEM_cert_to_DER_cert(client_pem)
    assert tls["client_cert_name"] == "CN=alice,O=Example\\, Inc.,C=DE"
    assert tls["client_cert_error"] is None
    assert tls["tls_version"] == 0x0303
    assert tls["cipher_suite"] == 0xC02F  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289)


def test_tls_extension_without_a_client_certificate(pki: Path) -> None:
    context = client_context(pki)
    with serve(extension_apps.tls_scope, ssl_certfile=str(pki / "server.pem"),
               ssl_keyfile=str(pki / "server.key")) as srv, \
            httpx.Client(verify=context, timeout=10) as client:
        tls = client.get(f"https://127.0.0.1:{srv.port}/").json()
    assert tls["client_cert_chain"] == []
    assert tls["client_cert_name"] is None
    assert tls["tls_version"] == 0x0304
    assert tls["cipher_suite"] in (0x1301, 0x1302, 0x1303)  # the TLS 1.3 suites (RFC 8446)


def test_no_tls_extension_on_a_plain_connection() -> None:
    with serve(extension_apps.tls_scope) as srv, httpx.Client(timeout=10) as client:
        assert json.loads(client.get(f"http://127.0.0.1:{srv.port}/").content) is None
