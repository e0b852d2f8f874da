"""fastasgi: a fast, strict ASGI server with a Cython HTTP/1.1 core."""

from typing import Any

from ._version import __version__
from .errors import ClientDisconnected

__all__ = ["ClientDisconnected", "__version__", "run"]


def run(app: Any, **settings: Any) -> None:
    """Serve ``app`` (an ASGI app object or an import string "module:attr") until stopped.

    ``settings`` are the same as the command-line flags, by their Python names
    (``port=8001``, ``workers=2``, ``log_level="debug"`` ...)."""
    from .main import run as _run

    _run(app, **settings)
