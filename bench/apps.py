"""The ASGI apps every server under benchmark serves (the TechEmpower plaintext and JSON tests).

Both apps answer every HTTP request the same way and speak the lifespan protocol fully, so each
server runs them with its default settings and no server pays for a lifespan fallback the others
skip. They do the least work an app can do: what is measured is the server.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PLAINTEXT_BODY = b"Hello, world!"
PLAINTEXT_TYPE = b"text/plain"
JSON_TYPE = b"application/json"


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send: Send, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def plaintext(scope: Scope, receive: Receive, send: Send) -> None:
    """``200 text/plain`` with ``Hello, world!``."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _respond(send, PLAINTEXT_TYPE, PLAINTEXT_BODY)


async def json_message(scope: Scope, receive: Receive, send: Send) -> None:
    """``200 application/json`` with ``{"message": "Hello, world!"}``, serialized per request."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = json.dumps({"message": "Hello, world!"}).encode()
    await _respond(send, JSON_TYPE, body)


MIB_BODY = b"x" * (1 << 20)
OCTET_TYPE = b"application/octet-stream"
# 64 body messages of 1 KiB: what a streaming app (server-sent events, a proxied download) costs
# per send() rather than per request. The length is declared, so every server frames the body
# the same way (no chunked encoding) and the check of the response can compare bytes.
STREAM_CHUNK = b"y" * 1024
STREAM_CHUNKS = 64


async def streamed(scope: Scope, receive: Receive, send: Send) -> None:
    """``200 application/octet-stream``: 64 KiB sent as 64 ``http.response.body`` messages."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", OCTET_TYPE),
                (b"content-length", str(len(STREAM_CHUNK) * STREAM_CHUNKS).encode()),
            ],
        }
    )
    for _ in range(STREAM_CHUNKS - 1):
        await send({"type": "http.response.body", "body": STREAM_CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": STREAM_CHUNK})


async def mib(scope: Scope, receive: Receive, send: Send) -> None:
    """``200 application/octet-stream`` with a 1 MiB body in one message."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await _respond(send, OCTET_TYPE, MIB_BODY)


async def abuse(scope: Scope, receive: Receive, send: Send) -> None:
    """The app of ``run_abuse.py``: ``GET /`` as ``plaintext``, ``GET /mib`` 1 MiB of ``x``, and
    a WebSocket that echoes every message (so a client that never reads makes the server's
    replies pile up: what is measured is whether the server stops reading then); on
    ``/ws-mib``, one that answers every message with 1 MiB of ``x``."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        answer_mib = scope["path"] == "/ws-mib"
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if answer_mib:
                await send({"type": "websocket.send", "bytes": MIB_BODY})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes"),
                            "text": message.get("text")})
    if scope["path"] == "/mib":
        await _respond(send, OCTET_TYPE, MIB_BODY)
        return
    await _respond(send, PLAINTEXT_TYPE, PLAINTEXT_BODY)


# The app name on the command line of every server is "bench.apps:<name>".
APPS: dict[str, tuple[str, bytes, bytes]] = {
    # name: (attribute, expected content-type, expected body)
    "plaintext": ("plaintext", PLAINTEXT_TYPE, PLAINTEXT_BODY),
    "json": ("json_message", JSON_TYPE, json.dumps({"message": "Hello, world!"}).encode()),
    "abuse": ("abuse", PLAINTEXT_TYPE, PLAINTEXT_BODY),
    "streamed": ("streamed", OCTET_TYPE, STREAM_CHUNK * STREAM_CHUNKS),
    "mib": ("mib", OCTET_TYPE, MIB_BODY),
}
