"""What the --metrics-port answers, and its server for a single process (no supervisor).

Three paths, GET or HEAD: ``/metrics`` (Prometheus text), ``/healthz`` (200 while the server
works, else 503) and ``/readyz`` (200 once it serves the app: lifespan startup is over, else
503). Any other path is 404, any other method 405, a request line that is not HTTP/1.x 400,
a head over MAX_HEAD_BYTES 431. Every answer closes the connection: a probe or a scrape is one
request, and a kept connection would only hold a slot.

The supervisor serves the same answers from its own loop (``fastasgi.supervisor.metrics_server``);
a single server process serves them from its event loop with :func:`start_metrics_server`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from fastasgi.errors import ConfigError
from fastasgi.metrics_text import CONTENT_TYPE

__all__ = [
    "MAX_CLIENTS", "MAX_HEAD_BYTES", "READ_SECONDS", "ProbeSource", "answer", "start_metrics_server",
]

logger = logging.getLogger("fastasgi.error")

# A probe's request is a line and a few headers; anything longer is not one.
MAX_HEAD_BYTES = 8192
# Seconds a client gets to send its request head, and to take the answer.
READ_SECONDS = 5.0
# Clients served at once; more are closed as soon as they are accepted.
MAX_CLIENTS = 16

PATHS = (b"/metrics", b"/healthz", b"/readyz")
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           431: "Request Header Fields Too Large", 500: "Internal Server Error",
           503: "Service Unavailable"}


class ProbeSource(Protocol):
    """Where the answers come from: the supervisor, or the one server process."""

    def metrics_text(self) -> str: ...
    def healthy(self) -> bool: ...
    def ready(self) -> bool: ...


def head_end(buffer: bytes) -> int:
    """The length of the request head at the start of ``buffer``, or -1 if it is not all there."""
    end = buffer.find(b"\r\n\r\n")
    return -1 if end < 0 else end + 4


def answer(head: bytes, source: ProbeSource) -> bytes:
    """The whole response to a request ``head`` (its headers are not needed, and not read)."""
    line = head.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return response(400, "the request line is not 'METHOD /path HTTP/1.x'\n")
    method, target = parts[0], parts[1]
    path = target.split(b"?", 1)[0]
    if path not in PATHS:
        return response(404, "not found: try /metrics, /healthz or /readyz\n")
    if method not in (b"GET", b"HEAD"):
        return response(405, "only GET and HEAD\n", extra=b"allow: GET, HEAD\r\n")
    head_only = method == b"HEAD"
    try:
        if path == b"/metrics":
            return response(200, source.metrics_text(), CONTENT_TYPE, head_only=head_only)
        ok = source.healthy() if path == b"/healthz" else source.ready()
    except Exception:
        logger.exception("The metrics port failed to answer %s", path.decode("ascii", "replace"))
        return response(500, "internal error\n", head_only=head_only)
    if ok:
        return response(200, "ok\n", head_only=head_only)
    what = "not healthy" if path == b"/healthz" else "not ready"
    return response(503, what + "\n", head_only=head_only)


def response(status: int, body: str, content_type: str = "text/plain; charset=utf-8",
             extra: bytes = b"", head_only: bool = False) -> bytes:
    data = body.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {REASONS[status]}\r\n"
        f"content-type: {content_type}\r\n"
        f"content-length: {len(data)}\r\n"
        "cache-control: no-store\r\n"
        "connection: close\r\n"
    ).encode("ascii") + extra + b"\r\n"
    return head if head_only else head + data


async def start_metrics_server(source: ProbeSource, host: str, port: int) -> asyncio.Server:
    """Serve the metrics port from the running event loop (a server without a supervisor)."""

    active = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal active
        if active >= MAX_CLIENTS:
            writer.close()
            return
        active += 1
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
                data = answer(head, source)
            except asyncio.LimitOverrunError:
                data = response(431, "request head too large\n")
            except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                return  # the client left or said nothing: nobody to answer
            writer.write(data)
            await asyncio.wait_for(writer.drain(), READ_SECONDS)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            active -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), READ_SECONDS)

    try:
        return await asyncio.start_server(handle, host, port, limit=MAX_HEAD_BYTES)
    except OSError as exc:
        raise cannot_listen(host, port, exc) from None


def cannot_listen(host: str, port: int, exc: OSError) -> ConfigError:
    return ConfigError(f"--metrics-port: cannot listen on {host}:{port}: {exc.strerror or exc}")
