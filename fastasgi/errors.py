"""The exceptions of fastasgi: what an application can see from the server, and what a user
is told about a setting, an app or a socket that cannot be used."""

from __future__ import annotations

__all__ = ["ClientDisconnected", "ConfigError"]


class ClientDisconnected(OSError):
    """The client is gone: raised by ``send()`` (HTTP and WebSocket) once the connection is
    closed, and by a WSGI app's ``wsgi.input`` when the body can no longer arrive.

    A subclass of OSError, as ASGI spec 2.4 asks of ``send()`` on a closed connection, so
    frameworks that catch OSError (Starlette's StreamingResponse) stop producing a response
    nobody will read."""


class ConfigError(Exception):
    """A setting, the app or a socket cannot be used. ``str()`` is one line meant for users;
    ``detail``, when the app's own code failed, is its traceback, shown before that line;
    ``exit_code`` is what the command line exits with."""

    exit_code = 1

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail

    def report(self) -> str:
        """What a user reads on stderr: the traceback, if any, then ``error: <message>``."""
        return f"{self.detail or ''}error: {self}"
