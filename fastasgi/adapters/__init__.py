"""Adapters that let fastasgi serve apps written to other interfaces: ASGI 2 and WSGI."""

from fastasgi.adapters.asgi2 import ASGI2Adapter
from fastasgi.adapters.wsgi import WSGIAdapter

__all__ = ["ASGI2Adapter", "WSGIAdapter"]
