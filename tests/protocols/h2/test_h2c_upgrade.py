"""Upgrade: h2c (RFC 7540 §3.2): a request without a body that asks to upgrade, with a valid
HTTP2-Settings named in Connection, gets 101 and its response on stream 1 over HTTP/2; any
other upgrade request is served as HTTP/1.1, as RFC 9113 allows. The h2 library is the client."""

from __future__ import annotations

import json
import socket
from typing import Any

import h2.config
import h2.connection
import h2.events

from tests.support import apps
from tests.support.server import read_response, serve

DEADLINE = 10.0


def upgrade_request(settings: bytes, connection: bytes = b"Upgrade, HTTP2-Settings",
                    extra: bytes = b"") -> bytes:
    return (b"GET /up?x=1 HTTP/1.1\r\nHost: t\r\nConnection: " + connection +
            b"\r\nUpgrade: h2c\r\nHTTP2-Settings: " + settings + b"\r\n" + extra + b"\r\n")


def read_101(sock: socket.socket) -> bytes:
    """The 101 head; returns the bytes after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "closed before the 101"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    assert b"upgrade: h2c" in head.lower()
    return rest


def stream_one(sock: socket.socket, client: h2.connection.H2Connection,
               data: bytes) -> tuple[dict[bytes, bytes], bytes]:
    headers: dict[bytes, bytes] = {}
    body = bytearray()
    while True:
        for event in client.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == 1:
                headers = dict(event.headers)
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == 1:
                body += event.data
                client.acknowledge_received_data(event.flow_controlled_length, 1)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == 1:
                return headers, bytes(body)
        sock.sendall(client.data_to_send())
        data = sock.recv(65536)
        assert data, "the server closed the connection"


def test_upgrade_answers_on_stream_one_over_http2_and_serves_more_streams() -> None:
    with serve(apps.echo_scope) as srv, srv.connect(timeout=DEADLINE) as sock:
        client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        settings = client.initiate_upgrade_connection()
        sock.sendall(upgrade_request(settings))
        rest = read_101(sock)
        sock.sendall(client.data_to_send())          # the preface, after the 101
        headers, body = stream_one(sock, client, rest)
        assert headers[b":status"] == b"200"
        scope = json.loads(body)
        # A new stream on the upgraded connection.
        client.send_headers(3, [(":method", "GET"), (":scheme", "http"), (":path", "/next"),
                                (":authority", "t")], end_stream=True)
        sock.sendall(client.data_to_send())
        assert read_stream(sock, client, 3)["path"] == "/next"
    assert scope["http_version"] == "2"
    assert scope["path"] == "/up"
    assert scope["query_string"] == "x=1"
    names = [name for name, _ in scope["headers"]]
    assert "host" in names
    assert "upgrade" not in names
    assert "http2-settings" not in names
    assert "connection" not in names


def read_stream(sock: socket.socket, client: h2.connection.H2Connection,
                stream_id: int) -> Any:
    body = bytearray()
    while True:
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        for event in client.receive_data(data):
            if isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                body += event.data
                client.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                return json.loads(body)
        sock.sendall(client.data_to_send())


def test_upgrade_without_http2_settings_in_connection_is_served_as_http11() -> None:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = client.initiate_upgrade_connection()
    with serve(apps.hello) as srv, srv.connect(timeout=DEADLINE) as sock:
        sock.sendall(upgrade_request(settings, connection=b"Upgrade"))
        status, _, body = read_response(sock)
    assert (status, body) == (200, b"Hello, world!")


def test_upgrade_with_invalid_http2_settings_is_served_as_http11() -> None:
    with serve(apps.hello) as srv, srv.connect(timeout=DEADLINE) as sock:
        sock.sendall(upgrade_request(b"not*base64"))
        status, _, body = read_response(sock)
        # a SETTINGS payload whose length is not a multiple of 6
        sock.sendall(upgrade_request(b"AAMAAABkAA"))
        second, _, _ = read_response(sock)
    assert (status, body, second) == (200, b"Hello, world!", 200)


def test_upgrade_request_with_a_body_is_served_as_http11() -> None:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = client.initiate_upgrade_connection()
    with serve(apps.echo_body) as srv, srv.connect(timeout=DEADLINE) as sock:
        sock.sendall(upgrade_request(settings, extra=b"Content-Length: 4\r\n") + b"body")
        status, _, body = read_response(sock)
    assert status == 200
    assert json.loads(body)["size"] == 4


def test_upgrade_is_not_offered_without_http2() -> None:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = client.initiate_upgrade_connection()
    with serve(apps.hello, http2=False) as srv, srv.connect(timeout=DEADLINE) as sock:
        sock.sendall(upgrade_request(settings))
        status, _, _ = read_response(sock)
    assert status == 200
