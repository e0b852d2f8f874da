"""Apps of every shape the importer must tell apart. None of them is served here."""

from __future__ import annotations

import functools
from typing import Any


async def asgi3_function(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class ASGI3Instance:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await asgi3_function(scope, receive, send)


asgi3_instance = ASGI3Instance()
asgi3_partial = functools.partial(asgi3_function)


def asgi3_returning_awaitable(scope: Any, receive: Any, send: Any) -> Any:
    return asgi3_function(scope, receive, send)


class ASGI2Class:
    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await asgi3_function(self.scope, receive, send)


def asgi2_function(scope: Any) -> Any:
    async def instance(receive: Any, send: Any) -> None:
        await asgi3_function(scope, receive, send)

    return instance


def wsgi_function(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"wsgi"]


class WSGIInstance:
    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        return wsgi_function(environ, start_response)


wsgi_instance = WSGIInstance()


class WSGIIterableClass:
    """PEP 3333 allows a class as the app: instances are the response iterables."""

    def __init__(self, environ: Any, start_response: Any) -> None:
        start_response("200 OK", [])

    def __iter__(self) -> Any:
        yield b"wsgi"


def make_app() -> Any:
    return asgi3_function


def failing_factory() -> Any:
    raise RuntimeError("database url is not set")


class Namespace:
    inner = ASGI3Instance()


not_callable = 42
