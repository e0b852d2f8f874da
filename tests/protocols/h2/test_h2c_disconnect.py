"""A stream the client resets, or a connection it drops, ends the app's request: receive()
returns http.disconnect and send() raises ClientDisconnected, while the connection's other
streams go on. Driven by the h2 library as a client over a real socket."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events

from fastasgi.errors import ClientDisconnected
from tests.support.server import serve

DEADLINE = 10.0


def start_client(sock: socket.socket) -> h2.connection.H2Connection:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    sock.sendall(client.data_to_send())
    return client


def get(client: h2.connection.H2Connection, stream_id: int, path: str = "/") -> None:
    client.send_headers(stream_id, [(":method", "GET"), (":scheme", "http"), (":path", path),
                                    (":authority", "test")], end_stream=True)


def read_until(sock: socket.socket, client: h2.connection.H2Connection,
               wanted: type, stream_id: int) -> list[Any]:
    """Frames until an event of type ``wanted`` on ``stream_id``; every event seen."""
    seen: list[Any] = []
    while True:
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        events = client.receive_data(data)
        sock.sendall(client.data_to_send())
        seen.extend(events)
        for event in events:
            if isinstance(event, h2.events.DataReceived):
                client.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if isinstance(event, wanted) and getattr(event, "stream_id", None) == stream_id:
                return seen


def test_reset_mid_response_gives_the_app_http_disconnect() -> None:
    messages: list[dict[str, Any]] = []
    told = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        messages.append(await receive())          # the (empty) request body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        messages.append(await receive())          # waits until the client resets
        told.set()

    with serve(app) as srv, srv.connect(timeout=DEADLINE) as sock:
        client = start_client(sock)
        get(client, 1)
        sock.sendall(client.data_to_send())
        read_until(sock, client, h2.events.DataReceived, 1)
        client.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
        sock.sendall(client.data_to_send())
        assert told.wait(DEADLINE)
    assert messages[0]["type"] == "http.request"
    assert messages[1] == {"type": "http.disconnect"}


def test_send_after_reset_raises_client_disconnected_and_other_streams_go_on() -> None:
    raised = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/short":
            await send({"type": "http.response.body", "body": b"short"})
            return
        try:
            for _ in range(1000):
                await send({"type": "http.response.body", "body": b"tick", "more_body": True})
                await asyncio.sleep(0.01)
        except ClientDisconnected:
            raised.set()
            raise

    with serve(app) as srv, srv.connect(timeout=DEADLINE) as sock:
        client = start_client(sock)
        get(client, 1, "/endless")
        sock.sendall(client.data_to_send())
        read_until(sock, client, h2.events.DataReceived, 1)
        client.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
        sock.sendall(client.data_to_send())
        assert raised.wait(DEADLINE)
        get(client, 3, "/short")
        sock.sendall(client.data_to_send())
        events = read_until(sock, client, h2.events.StreamEnded, 3)
    body = b"".join(e.data for e in events
                    if isinstance(e, h2.events.DataReceived) and e.stream_id == 3)
    assert body == b"short"


def test_connection_loss_gives_every_stream_http_disconnect() -> None:
    disconnected: list[str] = []
    running: list[str] = []
    both_running, both = threading.Event(), threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        running.append(scope["path"])
        if len(running) == 2:
            both_running.set()
        message = await receive()
        disconnected.append(message["type"])
        if len(disconnected) == 2:
            both.set()

    with serve(app) as srv:
        sock = srv.connect(timeout=DEADLINE)
        client = start_client(sock)
        get(client, 1)
        get(client, 3)
        sock.sendall(client.data_to_send())
        assert both_running.wait(DEADLINE)
        sock.close()
        assert both.wait(DEADLINE)
    assert disconnected == ["http.disconnect", "http.disconnect"]
