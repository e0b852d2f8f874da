"""Expect: 100-continue both ways, and real frameworks served through fastasgi."""

from __future__ import annotations

import time
from typing import Any

import httpx
from pydantic import BaseModel

from tests.support import apps
from tests.support.server import read_response, recv_until_closed, serve


def test_100_continue_is_sent_when_the_app_reads_the_body() -> None:
    with serve(apps.echo_body) as srv, srv.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        sock.settimeout(5)
        interim = sock.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        status, _, body = read_response(sock)
    assert status == 200 and b'"size": 5' in body


def test_100_continue_is_not_sent_when_the_app_answers_first() -> None:
    with serve(apps.hello) as srv, srv.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        sock.settimeout(5)
        data = recv_until_closed(sock)
    assert b"100 Continue" not in data
    assert data.startswith(b"HTTP/1.1 200")
    # The body was never sent, so the connection cannot be reused.
    assert b"connection: close" in data.lower()


def test_starlette_app_answers_through_fastasgi() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"len": len(body), "q": request.query_params.get("q")})

    async def stream(request: Request) -> StreamingResponse:
        async def gen():
            for n in range(5):
                yield b"%d," % n
        return StreamingResponse(gen())

    app = Starlette(routes=[Route("/", home), Route("/echo", echo, methods=["POST"]),
                            Route("/stream", stream)])
    with serve(app) as srv:
        assert httpx.get(srv.url).text == "home"
        assert httpx.post(srv.url + "/echo?q=x", content=b"a" * 3000).json() == {"len": 3000, "q": "x"}
        assert httpx.get(srv.url + "/stream").text == "0,1,2,3,4,"
        assert httpx.get(srv.url + "/missing").status_code == 404


class Item(BaseModel):
    name: str
    price: float


def test_fastapi_app_answers_through_fastasgi() -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    def create_item(item: Item) -> dict[str, Any]:  # a sync endpoint runs in the thread pool
        return {"name": item.name, "double": item.price * 2}

    with serve(app) as srv:
        assert httpx.get(srv.url + "/items/3?q=z").json() == {"item_id": 3, "q": "z"}
        response = httpx.post(srv.url + "/items", json={"name": "n", "price": 2.5})
        assert response.json() == {"name": "n", "double": 5.0}
        assert httpx.post(srv.url + "/items", json={"name": "n"}).status_code == 422
        started = time.monotonic()
        assert httpx.get(srv.url + "/openapi.json").status_code == 200
        assert time.monotonic() - started < 10
