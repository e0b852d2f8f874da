"""The HTTP/1.1 protocol over real sockets: scope, keep-alive, pipelining, bodies, framing."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx

from fastasgi import ClientDisconnected
from tests.support import apps
from tests.support.server import read_response, recv_until_closed, serve


def test_scope_has_every_asgi_http_field() -> None:
    with serve(apps.echo_scope) as srv:
        response = httpx.get(srv.url + "/caf%C3%A9/x?a=1&b=%20", headers={"X-Test": "yes"})
    scope = response.json()
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["asgi"]["spec_version"]
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/café/x"
    assert scope["raw_path"] == "/caf%C3%A9/x"
    assert scope["query_string"] == "a=1&b=%20"
    assert scope["root_path"] == ""
    assert ["x-test", "yes"] in scope["headers"]
    assert scope["client"][0] == "127.0.0.1" and isinstance(scope["client"][1], int)
    assert scope["server"] == ["127.0.0.1", srv.port]
    assert scope["state"] == {}
    assert isinstance(scope["extensions"], dict)


def test_root_path_prefixes_path_and_raw_path() -> None:
    with serve(apps.echo_scope, root_path="/api") as srv:
        scope = httpx.get(srv.url + "/items").json()
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/items"
    assert scope["raw_path"] == "/api/items"


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with serve(apps.path_echo) as srv, srv.connect() as sock:
        buf = bytearray()
        for n in range(3):
            sock.sendall(b"GET /n%d HTTP/1.1\r\nHost: t\r\n\r\n" % n)
            status, headers, body = read_response(sock, buf)
            assert (status, body) == (200, b"/n%d?" % n)
            assert headers.get(b"connection") != b"close"


def test_pipelined_requests_answered_in_order() -> None:
    requests = b"".join(b"GET /r%d HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in range(10))
    with serve(apps.path_echo) as srv, srv.connect() as sock:
        sock.sendall(requests)
        buf = bytearray()
        bodies = [read_response(sock, buf)[2] for _ in range(10)]
    assert bodies == [b"/r%d?" % n for n in range(10)]


def test_pipelined_requests_with_bodies_answered_in_order() -> None:
    requests = b"".join(
        b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (n, b"a" * n)
        for n in range(10)
    )
    with serve(apps.echo_body) as srv, srv.connect() as sock:
        sock.sendall(requests)
        buf = bytearray()
        sizes = [json.loads(read_response(sock, buf)[2])["size"] for _ in range(10)]
    assert sizes == list(range(10))


def test_ten_mib_upload_is_streamed_in_pieces() -> None:
    payload = bytes(range(256)) * (10 * 4096)
    with serve(apps.echo_body) as srv:
        response = httpx.post(srv.url, content=payload, timeout=30)
    result = response.json()
    assert result["size"] == len(payload)
    import hashlib

    assert result["sha256"] == hashlib.sha256(payload).hexdigest()
    assert result["messages"] > 1


def test_chunked_upload_is_decoded() -> None:
    def chunks():
        for n in range(50):
            yield b"z" * (1000 + n)

    with serve(apps.echo_body) as srv:
        response = httpx.post(srv.url, content=chunks(), timeout=30)
    assert response.json()["size"] == sum(1000 + n for n in range(50))


def test_ten_mib_download_with_chunked_framing() -> None:
    with serve(apps.streaming(160, 65536)) as srv:
        response = httpx.get(srv.url, timeout=30)
    assert response.headers["transfer-encoding"] == "chunked"
    assert len(response.content) == 160 * 65536


def test_single_body_message_gets_content_length() -> None:
    with serve(apps.hello) as srv:
        response = httpx.get(srv.url)
    assert response.headers["content-length"] == "13"
    assert "transfer-encoding" not in response.headers
    assert response.text == "Hello, world!"


def test_date_and_server_headers_and_extra_headers() -> None:
    with serve(apps.hello, headers=["X-Powered-By: fastasgi-tests"]) as srv:
        response = httpx.get(srv.url)
    assert response.headers["server"] == "fastasgi"
    assert response.headers["date"].endswith("GMT")
    assert response.headers["x-powered-by"] == "fastasgi-tests"
    with serve(apps.hello, server_header=False, date_header=False) as srv:
        response = httpx.get(srv.url)
    assert "server" not in response.headers
    assert "date" not in response.headers


def test_head_response_has_no_body() -> None:
    with serve(apps.hello) as srv, srv.connect() as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        buf = bytearray()
        status, headers, body = read_response(sock, buf, head_request=True)
        # A HEAD response carries no body: the next bytes are the GET's response.
        status2, _, body2 = read_response(sock, buf)
    assert status == 200 and body == b""
    assert headers[b"content-type"] == b"text/plain"
    assert status2 == 200 and body2 == b"Hello, world!"


def _status_app(status: int) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    return app


def test_204_and_304_carry_no_body_and_keep_the_connection() -> None:
    for status in (204, 304):
        with serve(_status_app(status)) as srv, srv.connect() as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
            sock.settimeout(2)
            data = b""
            deadline = time.monotonic() + 2
            while data.count(b"HTTP/1.1 %d" % status) < 2 and time.monotonic() < deadline:
                data += sock.recv(65536)
        assert data.count(b"HTTP/1.1 %d" % status) == 2
        assert b"content-length" not in data.lower() and b"transfer-encoding" not in data.lower()


def test_http10_client_without_keep_alive_gets_close() -> None:
    with serve(apps.streaming(3, 10)) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = recv_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert b"connection: close" in head.lower()
    assert body == b"x" * 30


def test_http10_keep_alive_is_honoured() -> None:
    with serve(apps.hello) as srv, srv.connect() as sock:
        buf = bytearray()
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body = read_response(sock, buf)
            assert status == 200 and body == b"Hello, world!"
            assert headers[b"connection"] == b"keep-alive"


def test_connection_close_request_closes_after_response() -> None:
    with serve(apps.hello) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                     b"GET /never HTTP/1.1\r\nHost: t\r\n\r\n")
        data = recv_until_closed(sock)
    assert data.count(b"HTTP/1.1 200") == 1
    assert b"connection: close" in data.lower()


def test_disconnect_is_received_after_the_response() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        seen.append((await asyncio.wait_for(receive(), 5))["type"])

    with serve(app) as srv:
        assert httpx.get(srv.url).text == "done"
        time.sleep(0.2)
    assert seen == ["http.disconnect"]


def test_client_disconnect_mid_body_reaches_the_app() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await asyncio.wait_for(receive(), 5)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                seen.append(message["type"])
                return

    with serve(app) as srv:
        with srv.connect() as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"a" * 1000)
            time.sleep(0.2)
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
    assert seen == ["http.disconnect"]


def test_send_after_client_left_raises_client_disconnected() -> None:
    """ASGI spec 2.4: send() on a closed connection raises an OSError subclass."""
    outcome: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await asyncio.sleep(0.5)
        try:
            for _ in range(5):
                await send({"type": "http.response.body", "body": b"y" * 1000, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            outcome.append("ok")
        except ClientDisconnected as exc:
            outcome.append(f"raised {type(exc).__name__}, an OSError: {isinstance(exc, OSError)}")

    with serve(app) as srv:
        with srv.connect() as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            sock.recv(100)
        deadline = time.monotonic() + 5
        while not outcome and time.monotonic() < deadline:
            time.sleep(0.05)
    assert outcome == ["raised ClientDisconnected, an OSError: True"]


def test_slow_reader_makes_send_wait() -> None:
    progress = {"sent": 0}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        piece = b"s" * (1 << 20)
        for _ in range(64):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            progress["sent"] += 1
        await send({"type": "http.response.body", "body": b""})

    with serve(app) as srv, srv.connect(timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(1.0)
        stalled_at = progress["sent"]
        status, _, body = read_response(sock)
    assert stalled_at < 16, "send() did not wait for a client that does not read"
    assert status == 200 and len(body) == 64 << 20


def test_app_that_does_not_consume_the_body_pauses_reading() -> None:
    holder: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        holder["loop"] = asyncio.get_running_loop()
        holder["gate"] = asyncio.Event()
        await asyncio.wait_for(holder["gate"].wait(), 10)
        total = 0
        while True:
            message = await receive()
            total += len(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})

    size = 32 << 20
    with serve(app) as srv, srv.connect(timeout=30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size)
        sock.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 2
        chunk = b"b" * 65536
        while time.monotonic() < deadline:
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
        # The server stopped reading: far less than the body went through the kernel buffers.
        assert sent < size // 2
        holder["loop"].call_soon_threadsafe(holder["gate"].set)
        sock.setblocking(True)
        rest = size - sent
        while rest > 0:
            n = sock.send(chunk[: min(rest, len(chunk))])
            rest -= n
        status, _, body = read_response(sock)
    assert status == 200 and int(body) == size


def test_proxy_headers_from_a_trusted_peer_set_client_and_scheme() -> None:
    headers = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2", "X-Forwarded-Proto": "https"}
    with serve(apps.echo_scope, forwarded_allow_ips="127.0.0.1,10.0.0.0/8") as srv:
        scope = httpx.get(srv.url, headers=headers).json()
    assert scope["client"][0] == "203.0.113.7"
    assert scope["scheme"] == "https"


def test_proxy_headers_from_an_untrusted_peer_are_ignored() -> None:
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with serve(apps.echo_scope, forwarded_allow_ips="10.1.1.1") as srv:
        scope = httpx.get(srv.url, headers=headers).json()
    assert scope["client"][0] == "127.0.0.1"
    assert scope["scheme"] == "http"
    with serve(apps.echo_scope, proxy_headers=False) as srv:
        scope = httpx.get(srv.url, headers=headers).json()
    assert scope["client"][0] == "127.0.0.1"


def test_lifespan_state_is_shallow_copied_into_each_request() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["counter"] = 41
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        scope["state"]["counter"] += 1  # must not leak into the next request
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(scope["state"]["counter"]).encode()})

    with serve(app, lifespan="on") as srv:
        assert [httpx.get(srv.url).text for _ in range(2)] == ["42", "42"]
