"""The opening handshake over a real socket: what is upgraded, what is refused with 400 or 426,
and what stays plain HTTP (RFC 6455 §4.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.server import read_response, serve
from tests.support.websocket import ACCEPT, RawClient, echo, upgrade_request


async def echo_or_describe(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """WebSocket: echo. HTTP: the scope's type and the request headers as JSON."""
    if scope["type"] == "websocket":
        await echo(scope, receive, send)
        return
    body = json.dumps({"type": scope["type"], "method": scope["method"],
                       "upgrade": dict(scope["headers"]).get(b"upgrade", b"").decode()})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})


def exchange(port: int, request: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    with RawClient.connect_raw(port) as client:
        client.send(request)
        return read_response(client.sock, client.buffer)


def test_valid_upgrade_gets_101_with_the_accept_key() -> None:
    with serve(echo) as running:
        client, status, headers = RawClient.connect(running.port)
        assert status == 101
        assert headers[b"upgrade"].lower() == b"websocket"
        assert headers[b"connection"].lower() == b"upgrade"
        assert headers[b"sec-websocket-accept"] == ACCEPT
        assert b"content-length" not in headers
        assert b"sec-websocket-protocol" not in headers
        client.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (upgrade_request(omit=("Sec-WebSocket-Version",)), 426),
        (upgrade_request(omit=("Sec-WebSocket-Version",),
                         headers=[("Sec-WebSocket-Version", "8")]), 426),
        (upgrade_request(method="POST"), 400),
        (upgrade_request(omit=("Sec-WebSocket-Key",)), 400),
        (upgrade_request(key=b"not base64!"), 400),
        (upgrade_request(key=b"c2hvcnQ="), 400),  # decodes to 5 bytes, not 16
        (upgrade_request(headers=[("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]), 400),
        (upgrade_request(version="1.0"), 400),
        (upgrade_request(headers=[("Sec-WebSocket-Protocol", "bad protocol")]), 400),
    ],
    ids=["no-version", "version-8", "post", "no-key", "key-not-base64", "short-key",
         "two-keys", "http-1.0", "bad-subprotocol"],
)
def test_invalid_upgrade_is_refused(request_bytes: bytes, status: int) -> None:
    with serve(echo_or_describe) as running:
        got, headers, body = exchange(running.port, request_bytes)
    assert got == status
    assert headers[b"connection"] == b"close"
    assert body.endswith(b"\n") and len(body) > 1  # a message saying why
    if status == 426:
        assert headers[b"sec-websocket-version"] == b"13"


def test_426_names_the_reason_phrase() -> None:
    request = upgrade_request(omit=("Sec-WebSocket-Version",))
    with serve(echo) as running, RawClient.connect_raw(running.port) as client:
        client.send(request)
        assert client.read_to_eof().startswith(b"HTTP/1.1 426 Upgrade Required\r\n")


def test_upgrade_to_another_protocol_is_plain_http() -> None:
    request = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
               b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
    with serve(echo_or_describe) as running:
        status, _, body = exchange(running.port, request)
    assert status == 200
    assert json.loads(body) == {"type": "http", "method": "GET", "upgrade": "h2c"}


def test_upgrade_header_without_connection_upgrade_is_plain_http() -> None:
    request = upgrade_request(omit=("Connection",))
    with serve(echo_or_describe) as running:
        status, _, body = exchange(running.port, request)
    assert status == 200
    assert json.loads(body)["type"] == "http"


def test_with_ws_none_an_upgrade_request_is_served_as_http() -> None:
    with serve(echo_or_describe, ws="none") as running:
        status, _, body = exchange(running.port, upgrade_request())
    assert status == 200
    assert json.loads(body) == {"type": "http", "method": "GET", "upgrade": "websocket"}


def test_http_keeps_working_on_a_connection_before_an_upgrade() -> None:
    with serve(echo_or_describe) as running, RawClient.connect_raw(running.port) as client:
        client.send(b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = read_response(client.sock, client.buffer)
        assert status == 200
        assert json.loads(body)["type"] == "http"
        client.send(upgrade_request())
        status, _ = client.read_head()
        assert status == 101
        client.send_frame(0x1, b"after http")
        assert client.recv_frame().payload == b"after http"


def test_frames_sent_right_behind_the_upgrade_request_are_not_lost() -> None:
    from tests.support.websocket_frames import TEXT, client_frame

    with serve(echo) as running, RawClient.connect_raw(running.port) as client:
        client.send(upgrade_request() + client_frame(TEXT, b"eager") + client_frame(TEXT, b"2"))
        status, _ = client.read_head()
        assert status == 101
        assert client.recv_frame().payload == b"eager"
        assert client.recv_frame().payload == b"2"


def test_subprotocols_in_several_headers_are_one_list() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "mqtt"})
        await send({"type": "websocket.send", "text": json.dumps(scope["subprotocols"])})
        await receive()

    headers = [("Sec-WebSocket-Protocol", "wamp, soap"), ("Sec-WebSocket-Protocol", "mqtt")]
    with serve(app) as running:
        client, status, response = RawClient.connect(running.port, headers=headers)
        assert status == 101
        assert response[b"sec-websocket-protocol"] == b"mqtt"
        assert json.loads(client.recv_frame().payload) == ["wamp", "soap", "mqtt"]
        client.close()


def test_proxy_headers_give_wss_and_the_forwarded_client() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send",
                    "text": json.dumps([scope["scheme"], scope["client"][0]])})
        await receive()

    forwarded = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.9")]
    with serve(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as running:
        client = RawClient.open(running.port, headers=forwarded)
        assert json.loads(client.recv_frame().payload) == ["wss", "203.0.113.9"]
        client.close()


def test_limit_concurrency_refuses_upgrades_with_503() -> None:
    with serve(echo, limit_concurrency=1) as running:
        first = RawClient.open(running.port)
        second, status, _ = RawClient.connect(running.port)
        assert status == 503
        first.send_frame(0x1, b"still served")
        assert first.recv_frame().payload == b"still served"
        first.close()
        second.close()
