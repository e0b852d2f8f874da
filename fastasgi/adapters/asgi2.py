"""Run an ASGI 2 ("double callable") app as an ASGI 3 app.

An ASGI 2 app is called with the scope alone and returns an instance that is then awaited with
``receive`` and ``send``; ASGI 3 folds both steps into one coroutine call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGI2Adapter"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ASGI2Adapter:
    """An ASGI 3 app that runs the ASGI 2 app ``app`` for each scope."""

    def __init__(self, app: Callable[[Scope], Callable[[Receive, Send], Awaitable[None]]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = self.app(scope)
        await instance(receive, send)

    def __repr__(self) -> str:
        return f"ASGI2Adapter({self.app!r})"
