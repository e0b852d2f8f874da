"""HTTP/2 with real clients and a real framework: curl over TLS (h2 by ALPN), and Starlette and
FastAPI apps served to httpx with HTTP/2 (prior knowledge)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from tests.support import apps
from tests.support.server import serve
from tests.support.tls import self_signed_certificate

MIB = 1 << 20
class Item(BaseModel):
    name: str
    quantity: int


PARTS = [f"part {n:02d};".encode() * (n + 1) for n in range(12)]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls-h2-curl"))


def h2_client() -> httpx.Client:
    """An httpx client that speaks HTTP/2 from the first byte (no upgrade, no ALPN)."""
    return httpx.Client(http1=False, http2=True, timeout=60.0)


def curl(body: Path, *args: str) -> str:
    """Run curl asking for HTTP/2 over TLS (the test certificate is self-signed: -k), the
    response body into ``body``; return the HTTP version and status curl reports."""
    done = subprocess.run(
        ["curl", "-sS", "-k", "--http2", "-o", str(body),
         "-w", "%{http_version} %{response_code}", *args],
        check=True, capture_output=True, text=True, timeout=60,
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_chooses_http2_over_tls(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = certificate
    body = tmp_path / "body"
    with serve(apps.hello, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        reported = curl(body, f"https://127.0.0.1:{srv.port}/")
    assert reported == "2 200"
    assert body.read_bytes() == b"Hello, world!"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_uploads_over_http2_and_tls(certificate: tuple[Path, Path],
                                         tmp_path: Path) -> None:
    cert, key = certificate
    payload = bytes(range(256)) * (4 * MIB // 256)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(payload)
    body = tmp_path / "body"
    with serve(apps.echo_body, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        reported = curl(body, "--data-binary", f"@{upload}", f"https://127.0.0.1:{srv.port}/")
    assert reported == "2 200"
    assert json.loads(body.read_bytes())["sha256"] == hashlib.sha256(payload).hexdigest()


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    async def parts() -> Any:
        for part in PARTS:
            yield part
            await asyncio.sleep(0.005)          # each part leaves on its own

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(parts(), media_type="application/octet-stream")

    async def upload(request: Request) -> JSONResponse:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        return JSONResponse({"size": size, "sha256": digest.hexdigest(),
                             "http_version": request.scope["http_version"]})

    return Starlette(routes=[Route("/stream", stream), Route("/upload", upload,
                                                                methods=["POST"])])


def test_starlette_streaming_response_arrives_whole_and_in_order() -> None:
    with serve(starlette_app()) as srv, h2_client() as client, \
            client.stream("GET", f"{srv.url}/stream") as response:
        assert response.http_version == "HTTP/2"
        assert response.status_code == 200
        body = b"".join(response.iter_bytes())
    assert body == b"".join(PARTS)


def test_starlette_receives_a_10_mib_upload_intact() -> None:
    payload = hashlib.sha256(b"seed").digest() * (10 * MIB // 32)
    with serve(starlette_app()) as srv, h2_client() as client:
        response = client.post(f"{srv.url}/upload", content=payload)
    assert response.http_version == "HTTP/2"
    assert response.json() == {"size": len(payload),
                               "sha256": hashlib.sha256(payload).hexdigest(),
                               "http_version": "2"}


def test_fastapi_validates_a_json_body_over_http2() -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/items")
    async def create(item: Item) -> dict[str, Any]:
        return {"name": item.name.upper(), "total": item.quantity * 2}

    with serve(app) as srv, h2_client() as client:
        good = client.post(f"{srv.url}/items", json={"name": "bolt", "quantity": 21})
        bad = client.post(f"{srv.url}/items", json={"name": "bolt", "quantity": "many"})
    assert good.http_version == "HTTP/2"
    assert (good.status_code, good.json()) == (200, {"name": "BOLT", "total": 42})
    assert bad.status_code == 422
