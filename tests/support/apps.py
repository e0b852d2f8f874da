"""Small ASGI apps that the HTTP protocol tests serve."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Hello, world!"})


async def echo_scope(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the scope as JSON (bytes as latin-1 strings)."""

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.decode("latin-1")
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    body = json.dumps(plain(scope)).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def echo_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body and answers with its length, SHA-256 and number of messages."""
    digest = hashlib.sha256()
    size = messages = 0
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        digest.update(message["body"])
        size += len(message["body"])
        messages += 1
        if not message.get("more_body"):
            break
    body = json.dumps({"size": size, "sha256": digest.hexdigest(), "messages": messages}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def path_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = (scope["path"] + "?" + scope["query_string"].decode()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def streaming(chunks: int, size: int) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        piece = b"x" * size
        for _ in range(chunks):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    return app


async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await asyncio.sleep(float(scope["query_string"] or b"0.5"))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"slept"})


# Made when this module is imported, before the server serves: a container the cyclic garbage
# collector would walk, were it not frozen.
IMPORTED_AT_STARTUP: dict[str, list[int]] = {"made": [1]}


async def gc_report(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers how many objects the garbage collector leaves frozen, and whether it still walks
    IMPORTED_AT_STARTUP."""
    import gc

    walked = any(obj is IMPORTED_AT_STARTUP for obj in gc.get_objects())
    body = json.dumps({"frozen": gc.get_freeze_count(), "walked": walked}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
