"""Framework WebSocket routes served by fastasgi: Starlette and FastAPI, through a real client."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.support.server import serve


def starlette_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute

    async def chat(websocket: WebSocket) -> None:  # FastAPI's WebSocket is Starlette's
        if websocket.query_params.get("token") != "secret":
            await websocket.send_denial_response(PlainTextResponse("no token", status_code=401))
            return
        await websocket.accept(subprotocol="chat")
        await websocket.send_json({"room": websocket.path_params["room"]})
        try:
            async for text in websocket.iter_text():
                if text == "bye":
                    await websocket.close(code=4000, reason="see you")
                    return
                await websocket.send_text(text.upper())
        except WebSocketDisconnect:
            pass

    async def home(request: object) -> PlainTextResponse:
        return PlainTextResponse("home")

    app = Starlette(routes=[Route("/", home), WebSocketRoute("/chat/{room}", chat)])
    return app


def test_starlette_websocket_route_works_end_to_end() -> None:
    with serve(starlette_app()) as running:
        base = f"ws://127.0.0.1:{running.port}"
        with connect(f"{base}/chat/lobby?token=secret", subprotocols=["chat"]) as ws:
            assert ws.subprotocol == "chat"
            assert ws.recv() == '{"room":"lobby"}'
            ws.send("hello")
            assert ws.recv() == "HELLO"
            ws.send("bye")
            with pytest.raises(ConnectionClosed):
                ws.recv()
            assert (ws.close_code, ws.close_reason) == (4000, "see you")


def test_starlette_denial_response_reaches_the_client() -> None:
    with serve(starlette_app()) as running, pytest.raises(InvalidStatus) as caught:
        connect(f"ws://127.0.0.1:{running.port}/chat/lobby")
    assert caught.value.response.status_code == 401
    assert caught.value.response.body == b"no token"


def test_starlette_unknown_websocket_path_is_refused_with_403() -> None:
    with serve(starlette_app()) as running, pytest.raises(InvalidStatus) as caught:
        connect(f"ws://127.0.0.1:{running.port}/nowhere")
    assert caught.value.response.status_code == 403


def test_fastapi_websocket_endpoint_and_http_route_share_the_server() -> None:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.websocket("/sum")
    async def total(websocket: WebSocket) -> None:
        await websocket.accept()
        running_total = 0
        try:
            while True:
                numbers = await websocket.receive_json()
                running_total += sum(numbers)
                await websocket.send_json({"total": running_total})
        except WebSocketDisconnect:
            pass

    with serve(app) as running:
        assert httpx.get(f"{running.url}/health").json() == {"status": "ok"}
        with connect(f"ws://127.0.0.1:{running.port}/sum") as ws:
            ws.send("[1, 2, 3]")
            assert ws.recv() == '{"total":6}'
            ws.send("[10]")
            assert ws.recv() == '{"total":16}'
