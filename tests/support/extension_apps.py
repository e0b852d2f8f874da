"""Apps that use the ASGI extensions fastasgi advertises (early hints, trailers, tls), shared by
the HTTP/1.1 and HTTP/2 tests."""

from __future__ import annotations

import json
from typing import Any

LINKS = [b"</style.css>; rel=preload; as=style", b"</app.js>; rel=preload; as=script"]
TRAILERS = [(b"x-checksum", b"abc123"), (b"server-timing", b"app;dur=12")]


async def hints_then_page(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A 103 with two links, then the page; a second hint after the body has begun is dropped."""
    assert "http.response.early_hint" in scope["extensions"]
    await send({"type": "http.response.early_hint", "links": LINKS})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"page", "more_body": True})
    await send({"type": "http.response.early_hint", "links": [b"</late.css>; rel=preload"]})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def streamed_with_trailers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Two body parts, then the trailers in two messages (more_trailers)."""
    assert "http.response.trailers" in scope["extensions"]
    await send({"type": "http.response.start", "status": 200, "trailers": True,
                "headers": [(b"content-type", b"text/plain"), (b"trailer", b"x-checksum")]})
    await send({"type": "http.response.body", "body": b"part one, ", "more_body": True})
    await send({"type": "http.response.body", "body": b"part two", "more_body": False})
    await send({"type": "http.response.trailers", "headers": TRAILERS[:1], "more_trailers": True})
    await send({"type": "http.response.trailers", "headers": TRAILERS[1:], "more_trailers": False})


async def whole_body_with_trailers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The body in one message: the trailers still follow it."""
    await send({"type": "http.response.start", "status": 200, "trailers": True,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"whole"})
    await send({"type": "http.response.trailers", "headers": TRAILERS})


async def tls_scope(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The scope's tls extension (absent: null) as JSON."""
    body = json.dumps(scope["extensions"].get("tls")).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
