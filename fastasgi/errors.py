"""Exceptions an application can see from the server."""

from __future__ import annotations

__all__ = ["ClientDisconnected"]


class ClientDisconnected(OSError):
    """The client is gone: raised by ``send()`` (HTTP and WebSocket) once the connection is
    closed, and by a WSGI app's ``wsgi.input`` when the body can no longer arrive.

    A subclass of OSError, as ASGI spec 2.4 asks of ``send()`` on a closed connection, so
    frameworks that catch OSError (Starlette's StreamingResponse) stop producing a response
    nobody will read."""
