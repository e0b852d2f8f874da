"""HTTP/2 with prior knowledge on the plain port (h2c, RFC 9113 §3.3), over real sockets with
real clients: httpx (with the h2 package) and curl. The scope, bodies both ways, flow control
over multi-MiB bodies, concurrent streams on one connection, and what --no-http2 changes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fastasgi._h2frames import PREFACE
from fastasgi._serializer import current_date
from tests.support import apps
from tests.support.server import read_response, serve

MIB = 1 << 20


def h2_client(**kwargs: Any) -> httpx.Client:
    """An httpx client that speaks HTTP/2 from the first byte (no upgrade, no ALPN)."""
    return httpx.Client(http1=False, http2=True, timeout=10.0, **kwargs)


def test_get_has_an_http2_scope() -> None:
    with serve(apps.echo_scope) as srv, h2_client() as client:
        response = client.get(f"{srv.url}/some%20path?x=1", headers={"X-Custom": "Yes"})
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    scope = response.json()
    assert scope["type"] == "http"
    assert scope["http_version"] == "2"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/some path"
    assert scope["raw_path"] == "/some%20path"
    assert scope["query_string"] == "x=1"
    headers = dict(scope["headers"])
    assert headers["host"] == f"127.0.0.1:{srv.port}"   # from :authority
    assert headers["x-custom"] == "Yes"
    assert not any(name.startswith(":") for name, _ in scope["headers"])
    assert scope["server"] == ["127.0.0.1", srv.port]
    assert scope["client"][0] == "127.0.0.1"


def test_response_carries_date_and_server_and_app_headers() -> None:
    with serve(apps.hello) as srv, h2_client() as client:
        # The server (in this process) refreshes the Date value once a second; the response
        # carries the one HTTP/1.1 responses carry, from before the request or after it.
        before = current_date().decode()
        response = client.get(srv.url)
        after = current_date().decode()
    assert response.http_version == "HTTP/2"
    assert response.text == "Hello, world!"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["server"] == "fastasgi"
    assert response.headers["date"] in (before, after)


def test_connection_specific_response_headers_are_dropped() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"Connection", b"keep-alive"), (b"Keep-Alive", b"timeout=5"),
            (b"Transfer-Encoding", b"chunked"), (b"X-Kept", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    # The h2 client refuses a response with these fields (§8.2.2): it must not see them.
    with serve(app) as srv, h2_client() as client:
        response = client.get(srv.url)
    assert response.text == "ok"
    assert response.headers["x-kept"] == "1"
    assert "connection" not in response.headers
    assert "transfer-encoding" not in response.headers


def test_cookies_are_joined_into_one_header() -> None:
    import h2.config
    import h2.connection

    with serve(apps.echo_scope) as srv, srv.connect() as sock:
        client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        client.initiate_connection()
        # Sent as separate fields, as §8.2.3 lets a client do for compression's sake.
        client.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/"),
                                (":authority", "example"), ("cookie", "a=1"), ("cookie", "b=2")],
                            end_stream=True)
        sock.sendall(client.data_to_send())
        body = read_h2_body(sock, client, 1)
    headers = json.loads(body)["headers"]
    assert ["cookie", "a=1; b=2"] in headers
    assert ["host", "example"] in headers


def read_h2_body(sock: socket.socket, client: Any, stream_id: int) -> bytes:
    """Read frames until ``stream_id`` ends; return its body."""
    import h2.events

    body = bytearray()
    while True:
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        for event in client.receive_data(data):
            if isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                body += event.data
                client.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                return bytes(body)
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                raise AssertionError(f"stream reset: {event.error_code!r}")
        sock.sendall(client.data_to_send())


def test_post_body_reaches_the_app() -> None:
    with serve(apps.echo_body) as srv, h2_client() as client:
        response = client.post(srv.url, content=b"hello body")
    result = response.json()
    assert result["size"] == 10
    assert result["sha256"] == hashlib.sha256(b"hello body").hexdigest()


def test_multi_mib_upload_arrives_intact_through_flow_control() -> None:
    # Far beyond the 64 KiB window: arrives only if the window reopens as the app reads.
    payload = bytes(range(256)) * (12 * MIB // 256)
    with serve(apps.echo_body) as srv, h2_client() as client:
        response = client.post(srv.url, content=payload)
    result = response.json()
    assert result["size"] == len(payload)
    assert result["sha256"] == hashlib.sha256(payload).hexdigest()
    assert result["messages"] > 1


def test_multi_mib_download_is_sent_within_the_client_windows() -> None:
    with serve(apps.streaming(chunks=40, size=256 * 1024)) as srv, h2_client() as client:
        response = client.get(srv.url)
    assert response.status_code == 200
    assert len(response.content) == 40 * 256 * 1024


def test_one_large_body_message_waits_for_window_updates() -> None:
    payload = b"y" * (5 * MIB)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": payload})

    with serve(app) as srv, h2_client() as client:
        response = client.get(srv.url)
    assert response.content == payload


def test_streaming_response_arrives_in_pieces() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(5):
            await send({"type": "http.response.body", "body": b"piece %d\n" % n,
                        "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})

    with serve(app) as srv, h2_client() as client, client.stream("GET", srv.url) as response:
        text = b"".join(response.iter_bytes())
    assert text == b"".join(b"piece %d\n" % n for n in range(5))


def test_head_response_has_no_body() -> None:
    with serve(apps.hello) as srv, h2_client() as client:
        response = client.head(srv.url)
    assert response.status_code == 200
    assert response.content == b""


def test_concurrent_streams_share_one_connection() -> None:
    """Ten requests at once on one connection; each app waits until all ten are running, so
    they can only all finish if the streams are served concurrently."""
    running: set[str] = set()
    all_running = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        running.add(scope["path"])
        if len(running) == 10:
            all_running.set()
        await asyncio.wait_for(all_running.wait(), 10)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    async def main(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=15.0) as client:
            return await asyncio.gather(*(client.get(f"{url}/{n}") for n in range(10)))

    with serve(app) as srv:
        responses = asyncio.run(main(srv.url))
    assert [r.text for r in responses] == [f"/{n}" for n in range(10)]
    assert {r.http_version for r in responses} == {"HTTP/2"}


def test_app_failure_before_the_body_is_a_500() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("boom")

    with serve(app) as srv, h2_client() as client:
        first = client.get(srv.url)
        second = client.get(srv.url)   # the connection still serves
    assert first.status_code == 500
    assert second.status_code == 500


def test_limit_concurrency_answers_503_on_the_stream() -> None:
    holding, release = threading.Event(), threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/hold":
            holding.set()
            for _ in range(1000):
                if release.is_set():
                    break
                await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main(url: str) -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(http1=False, http2=True, timeout=15.0) as client:
            hold = asyncio.ensure_future(client.get(f"{url}/hold"))
            assert await asyncio.to_thread(holding.wait, 10)
            refused = await client.get(f"{url}/other")
            release.set()
            return refused, await hold

    with serve(app, limit_concurrency=1) as srv:
        refused, held = asyncio.run(main(srv.url))
    assert refused.status_code == 503
    assert held.status_code == 200


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_http2_prior_knowledge() -> None:
    with serve(apps.echo_body) as srv:
        result = subprocess.run(
            ["curl", "-sS", "--http2-prior-knowledge", "--data-binary", "curl body",
             "-w", "\\n%{http_version}", f"{srv.url}/"],
            capture_output=True, timeout=30, check=True, text=True)
    body, version = result.stdout.rsplit("\n", 1)
    assert version == "2"
    assert json.loads(body)["size"] == len("curl body")


def preface_in_pieces(sizes: list[int]) -> Iterator[bytes]:
    start = 0
    for size in sizes:
        yield PREFACE[start:start + size]
        start += size
    yield PREFACE[start:]


def test_preface_split_across_reads_is_still_recognised() -> None:
    import h2.config
    import h2.connection

    with serve(apps.hello) as srv, srv.connect() as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        client.initiate_connection()
        start = client.data_to_send()
        assert start.startswith(PREFACE)
        for piece in preface_in_pieces([3, 10]):
            sock.sendall(piece)
            time.sleep(0.05)   # separate reads on the server's side (not asserted on)
        sock.sendall(start[len(PREFACE):])
        client.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/"),
                                (":authority", "x")], end_stream=True)
        sock.sendall(client.data_to_send())
        assert read_h2_body(sock, client, 1) == b"Hello, world!"


def test_http11_request_starting_like_the_preface_is_still_http11() -> None:
    with serve(apps.hello) as srv, srv.connect() as sock:
        sock.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        status, _, body = read_response(sock)
    assert (status, body) == (200, b"Hello, world!")


def test_without_http2_the_preface_gets_505() -> None:
    with serve(apps.hello, http2=False) as srv, srv.connect() as sock:
        sock.sendall(PREFACE)
        status, _, _ = read_response(sock)
    assert status == 505
