"""http.response.pathsend over real sockets, with Starlette's FileResponse (which uses it when the
scope offers it): zero-copy (os.sendfile) on a plain socket, read in pieces under TLS and over
HTTP/2; HEAD; a client that leaves in the middle of the file."""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route

from fastasgi.errors import ClientDisconnected
from tests.support.server import read_response, serve
from tests.support.tls import self_signed_certificate

MIB = 1 << 20


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "data.bin"
    path.write_bytes(os.urandom(5 * MIB + 123))
    return path


def file_app(path: Path) -> Starlette:
    async def download(request: Any) -> FileResponse:
        return FileResponse(path)
    return Starlette(routes=[Route("/file", download, methods=["GET", "HEAD"])])


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The bytes each os.sendfile call of this process sent (the server runs in a thread)."""
    calls: list[int] = []
    real = os.sendfile

    def counting(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        sent = real(out_fd, in_fd, offset, count)
        calls.append(sent)
        return sent
    monkeypatch.setattr(os, "sendfile", counting)
    yield calls


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_file_response_goes_out_zero_copy(big_file: Path, sendfile_calls: list[int]) -> None:
    with serve(file_app(big_file)) as srv, httpx.Client(timeout=20) as client:
        url = f"http://127.0.0.1:{srv.port}/file"
        responses = [client.get(url) for _ in range(2)]  # one connection, kept alive
    expected = big_file.read_bytes()
    for response in responses:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(expected)
        assert sha256(response.content) == sha256(expected)
    assert sum(sendfile_calls) == 2 * len(expected)


def test_head_sends_the_length_and_no_body(big_file: Path, sendfile_calls: list[int]) -> None:
    with serve(file_app(big_file)) as srv, srv.connect() as sock:
        sock.sendall(b"HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = read_response(sock, head_request=True)
        sock.sendall(b"GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status_after, _, body_after = read_response(sock)
    assert (status, body) == (200, b"")
    assert int(headers[b"content-length"]) == big_file.stat().st_size
    assert (status_after, sha256(body_after)) == (200, sha256(big_file.read_bytes()))


def test_under_tls_the_file_is_read_in_pieces(big_file: Path, sendfile_calls: list[int],
                                               tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    with serve(file_app(big_file), ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv, \
            httpx.Client(verify=context, timeout=20) as client:
        response = client.get(f"https://127.0.0.1:{srv.port}/file")
    assert sha256(response.content) == sha256(big_file.read_bytes())
    assert sendfile_calls == []


def test_over_http2_the_file_fills_data_frames(big_file: Path) -> None:
    with serve(file_app(big_file)) as srv, \
            httpx.Client(http1=False, http2=True, timeout=20) as client:
        response = client.get(f"http://127.0.0.1:{srv.port}/file")
    assert response.http_version == "HTTP/2"
    assert int(response.headers["content-length"]) == big_file.stat().st_size
    assert sha256(response.content) == sha256(big_file.read_bytes())


def test_a_client_leaving_mid_file_makes_send_raise(tmp_path: Path) -> None:
    large = tmp_path / "sparse.bin"
    with open(large, "wb") as file:
        file.truncate(256 * MIB)  # more than any socket buffer holds; no disk used
    outcome: list[BaseException | None] = []
    finished = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.pathsend", "path": str(large)})
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)
            raise
        finally:
            finished.set()

    with serve(app) as srv:
        with srv.connect() as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
        assert finished.wait(20)
    [exc] = outcome
    assert isinstance(exc, ClientDisconnected) and isinstance(exc, OSError)


def test_pathsend_needs_an_absolute_path() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": "relative.txt"})

    with serve(app) as srv, srv.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = read_response(sock)
    assert status == 500


def test_pathsend_is_offered_in_the_scope() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["extensions"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with serve(app) as srv, httpx.Client(timeout=10) as client:
        client.get(f"http://127.0.0.1:{srv.port}/")
    assert {"http.response.pathsend", "http.response.trailers",
            "http.response.early_hint"} <= set(seen[0])


def test_bytes_sent_by_sendfile_count_in_the_metrics(big_file: Path,
                                                     sendfile_calls: list[int]) -> None:
    # An in-thread server counts under --metrics-port but does not listen on it (the port is
    # served by the process's entry point): its counters are read directly.
    with serve(file_app(big_file), metrics_port=9) as srv, srv.connect() as sock:
        request = b"GET /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        sock.sendall(request)
        status, _, body = read_response(sock)
        assert status == 200 and len(body) == big_file.stat().st_size
        metrics = srv.server.state.metrics
        # The client may read the last bytes before the server's thread counts the request.
        deadline = time.monotonic() + 10
        while metrics.finished < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert metrics.finished == 1
        assert sum(sendfile_calls) == len(body)
        # The body by sendfile, plus the head by the transport.
        assert len(body) < metrics.sent_bytes < len(body) + 1000
        assert metrics.received_bytes == len(request)
