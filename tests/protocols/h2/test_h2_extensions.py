"""The ASGI extensions over HTTP/2, read by the h2 library as a client: early hints (a 103
field section before the response's), trailers (a field section that ends the stream, to
clients that sent "te: trailers"), and the tls extension over h2 by ALPN."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import h2.events
import httpx

from tests.protocols.h2.client import events_until, start_client
from tests.support import extension_apps
from tests.support.server import Running, serve
from tests.support.tls import self_signed_certificate


def get(server: Running, *, te_trailers: bool) -> list[Any]:
    """The events of one GET on a new connection, up to the end of its stream."""
    headers = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "t")]
    if te_trailers:
        headers.append(("te", "trailers"))
    with server.connect() as sock:
        client = start_client(sock)
        client.send_headers(1, headers, end_stream=True)
        sock.sendall(client.data_to_send())
        return events_until(sock, client, lambda seen: any(
            type(e) is h2.events.StreamEnded for e in seen))


def of_type(events: list[Any], kind: type) -> list[Any]:
    return [event for event in events if type(event) is kind]


def body_of(events: list[Any]) -> bytes:
    return b"".join(event.data for event in of_type(events, h2.events.DataReceived))


def test_early_hints_arrive_before_the_response() -> None:
    with serve(extension_apps.hints_then_page) as srv:
        events = get(srv, te_trailers=False)
    [hint] = of_type(events, h2.events.InformationalResponseReceived)
    assert (b":status", b"103") in hint.headers
    assert [value for name, value in hint.headers if name == b"link"] == extension_apps.LINKS
    assert events.index(hint) < events.index(of_type(events, h2.events.ResponseReceived)[0])
    assert body_of(events) == b"page"


def test_trailers_end_the_stream_when_the_client_asked() -> None:
    with serve(extension_apps.streamed_with_trailers) as srv:
        events = get(srv, te_trailers=True)
    [trailers] = of_type(events, h2.events.TrailersReceived)
    assert trailers.headers == extension_apps.TRAILERS
    assert body_of(events) == b"part one, part two"


def test_without_te_trailers_the_stream_ends_without_them() -> None:
    with serve(extension_apps.whole_body_with_trailers) as srv:
        events = get(srv, te_trailers=False)
    assert of_type(events, h2.events.TrailersReceived) == []
    assert body_of(events) == b"whole"


def test_tls_extension_over_h2(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    with serve(extension_apps.tls_scope, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv, \
            httpx.Client(http2=True, verify=context, timeout=10) as client:
        response = client.get(f"https://127.0.0.1:{srv.port}/")
    assert response.http_version == "HTTP/2"
    tls = response.json()
    assert tls["server_cert"] == cert.read_text()
    assert tls["tls_version"] == 0x0304
    assert tls["client_cert_chain"] == []
