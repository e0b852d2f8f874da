"""Run a WSGI app (PEP 3333) as an ASGI 3 app, on a bounded pool of threads.

Per request, the event loop and one worker thread meet at two bounded hand-offs:

* the request body: a pump on the loop calls ``receive()`` and fills ``RequestBody`` (the
  ``wsgi.input`` the app reads in its thread) up to ``body_buffer_size`` bytes, then waits until
  the app has read some. The pump starts only when the app first reads, or once the response has
  begun (to hear of a disconnect), so ``Expect: 100-continue`` is answered only when wanted.
* the response: the thread sends each body piece with ``run_coroutine_threadsafe`` and waits for
  that send to finish (at most ``send_timeout``) before asking the app for the next piece, so a
  slow client slows the app down instead of filling memory.

Nothing holds a whole body. Every wait is bounded: a free worker (``worker_timeout``, else 503),
body data (``read_timeout``), a send (``send_timeout``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from fastasgi.errors import ClientDisconnected

__all__ = [
    "ClientDisconnected",
    "ErrorStream",
    "RequestBody",
    "RequestBodyTimeout",
    "WSGIAdapter",
    "build_environ",
]

logger = logging.getLogger("fastasgi.error")

Message = MutableMapping[str, Any]
Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# PEP 3333: an app sending hop-by-hop headers is a fatal error; the server owns the connection.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade",
})
FORBIDDEN_IN_HEADER = re.compile(r"[\r\n\0]")
STATUS_LINE = re.compile(r"([1-9][0-9]{2})(?: (.*))?", re.DOTALL)
ERROR_LINE_LIMIT = 8192   # characters of an unterminated wsgi.errors line kept before logging it

INTERNAL_ERROR = b"Internal Server Error"
UNAVAILABLE = b"Service Unavailable"


class RequestBodyTimeout(TimeoutError):
    """No request body data arrived within the read timeout (raised by wsgi.input)."""


class ResponseSendTimeout(TimeoutError):
    """The client did not take a response piece within the send timeout."""


class _ClientGone(Exception):
    """Internal: stop serving this request quietly, nobody is listening."""


class RequestBody:
    """``wsgi.input``: the request body, read by the app's thread as it arrives.

    Reads block (at most ``timeout`` seconds per wait) until enough data or the end of the body
    is there; ``read(n)`` returns fewer than ``n`` bytes only at the end. The loop side feeds
    ``receive()`` messages in and stops asking for more while ``high_water`` bytes are held;
    ``peak_buffered`` records the most ever held (at most ``high_water`` plus one message)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, high_water: int, timeout: float,
                 on_demand: Callable[[], None]) -> None:
        self.high_water = high_water
        self.timeout = timeout
        self.buffered = 0
        self.peak_buffered = 0
        self.complete = False
        self._loop = loop
        self._on_demand = on_demand
        self._demanded = False
        self._chunks: deque[bytes] = deque()
        self._offset = 0   # bytes of _chunks[0] already read
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._readable = threading.Condition(self._lock)
        self._space = asyncio.Event()
        self._pump_waiting = False

    # -- the loop's side -----------------------------------------------------------------

    def feed(self, data: bytes, more: bool) -> None:
        with self._lock:
            if data:
                self._chunks.append(bytes(data))
                self.buffered += len(data)
                self.peak_buffered = max(self.peak_buffered, self.buffered)
            if not more:
                self.complete = True
            self._readable.notify_all()

    def fail(self, error: BaseException) -> None:
        """Make reads that would wait for more data raise ``error`` instead."""
        with self._lock:
            if self._error is None and not self.complete:
                self._error = error
            self._readable.notify_all()

    async def wait_for_space(self) -> None:
        with self._lock:
            if self.buffered < self.high_water:
                return
            self._pump_waiting = True
            self._space.clear()
        await self._space.wait()

    # -- the app's side (file-like, PEP 3333) --------------------------------------------

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._collect(None, line=False)
        return self._collect(size, line=False) if size else b""

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self._collect(None, line=True)
        return self._collect(size, line=True) if size else b""

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _collect(self, limit: int | None, *, line: bool) -> bytes:
        parts: list[bytes] = []
        got = 0
        with self._lock:
            while limit is None or got < limit:
                if not self._chunks:
                    if self.complete:
                        break
                    self._wait_for_data()
                    continue
                chunk = self._chunks[0]
                start = self._offset
                end = len(chunk) if limit is None else min(len(chunk), start + limit - got)
                found_newline = False
                if line:
                    newline = chunk.find(b"\n", start, end)
                    if newline >= 0:
                        end = newline + 1
                        found_newline = True
                # NOTE: a whole chunk is handed over without a copy (bytes slicing returns self).
                parts.append(chunk[start:end])
                got += end - start
                self.buffered -= end - start
                if end == len(chunk):
                    self._chunks.popleft()
                    self._offset = 0
                else:
                    self._offset = end
                if self._pump_waiting and self.buffered < self.high_water:
                    self._pump_waiting = False
                    self._loop.call_soon_threadsafe(self._space.set)
                if found_newline:
                    break
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _wait_for_data(self) -> None:
        """Called with the lock held and nothing buffered."""
        if self._error is not None:
            raise self._error
        if not self._demanded:
            self._demanded = True
            try:
                self._loop.call_soon_threadsafe(self._on_demand)
            except RuntimeError:   # the loop is closed: this body will never come
                raise ClientDisconnected("the server stopped before the body arrived") from None
        ready = self._readable.wait_for(
            lambda: self._chunks or self.complete or self._error is not None, self.timeout)
        if not ready:
            raise RequestBodyTimeout(f"no request body data within {self.timeout:g} seconds")
        if not self._chunks and not self.complete and self._error is not None:
            raise self._error


class ErrorStream:
    """``wsgi.errors``: what the app writes goes to the ``fastasgi.error`` logger, a line a record."""

    def __init__(self, log: logging.Logger = logger) -> None:
        self._log = log
        self._partial = ""

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"wsgi.errors takes str, not {type(text).__name__}")
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._log.error("%s", line)
        if len(self._partial) > ERROR_LINE_LIMIT:
            self.flush()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for text in lines:
            self.write(text)

    def flush(self) -> None:
        if self._partial:
            self._log.error("%s", self._partial)
            self._partial = ""


def _wsgi_str(text: str) -> str:
    """PEP 3333 "bytes-as-str": the UTF-8 bytes of ``text``, one character per byte."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def build_environ(scope: MutableMapping[str, Any], body: Any, *, multiprocess: bool = False,
                  errors: Any = None) -> Environ:
    """The WSGI environ for an ASGI "http" scope."""
    root_path = scope.get("root_path", "") or ""
    path = scope["path"]
    script_name = root_path.rstrip("/")
    # The ASGI path includes root_path; PATH_INFO is what follows SCRIPT_NAME.
    if script_name and (path == script_name or path.startswith(script_name + "/")):
        path = path[len(script_name):]
    scheme = scope.get("scheme", "http")
    environ: Environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": _wsgi_str(script_name),
        "PATH_INFO": _wsgi_str(path),
        "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": body,
        "wsgi.errors": errors if errors is not None else ErrorStream(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        # wsgi.input ends where the body ends, chunked or not.
        "wsgi.input_terminated": True,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            key = "CONTENT_LENGTH"
        elif "_" in name:
            # "X_User" and "X-User" would both become HTTP_X_USER: drop the one a proxy
            # would not have checked.
            continue
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        if key in environ:
            separator = "; " if key == "HTTP_COOKIE" else ","
            environ[key] = environ[key] + separator + value
        else:
            environ[key] = value

    server = scope.get("server")
    if server and server[1] is not None:
        environ["SERVER_NAME"], environ["SERVER_PORT"] = str(server[0]), str(server[1])
    else:   # a UNIX socket, or no address known: take the name the client asked for
        environ["SERVER_NAME"], environ["SERVER_PORT"] = _split_host(
            environ.get("HTTP_HOST", ""), scheme)
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = str(client[0])
        if client[1] is not None:
            environ["REMOTE_PORT"] = str(client[1])
    return environ


def _split_host(host: str, scheme: str) -> tuple[str, str]:
    default_port = "443" if scheme == "https" else "80"
    if host.startswith("["):   # an IPv6 literal: "[::1]:8000"
        end = host.find("]") + 1
        name, rest = host[:end], host[end:]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = host.partition(":")
    return name or "localhost", port if port.isdigit() else default_port


def _parse_status(status: Any) -> int:
    if not isinstance(status, str):
        raise TypeError(f"WSGI status must be a str like '200 OK', not {status!r}")
    match = STATUS_LINE.fullmatch(status)
    if match is None or FORBIDDEN_IN_HEADER.search(status):
        raise ValueError(f"malformed WSGI status line {status!r}")
    code = int(match.group(1))
    if code < 200:
        raise ValueError(f"WSGI apps cannot send interim (1xx) responses: {status!r}")
    return code


def _encode_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    if not isinstance(headers, list):
        raise TypeError(f"WSGI response headers must be a list, not {type(headers).__name__}")
    encoded = []
    for item in headers:
        if not (isinstance(item, tuple) and len(item) == 2
                and isinstance(item[0], str) and isinstance(item[1], str)):
            raise TypeError(f"a WSGI header must be a (str, str) tuple, not {item!r}")
        name, value = item
        if name.lower() in HOP_BY_HOP:
            raise ValueError(f"hop-by-hop header {name!r} is not allowed from a WSGI app")
        if FORBIDDEN_IN_HEADER.search(name) or FORBIDDEN_IN_HEADER.search(value):
            raise ValueError(f"CR, LF or NUL in WSGI header {item!r}")
        try:
            encoded.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        except UnicodeEncodeError:
            raise ValueError(f"WSGI header {item!r} is not latin-1") from None
    return encoded


def _as_bytes(chunk: Any) -> bytes:
    if type(chunk) is bytes:
        return chunk
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"a WSGI app must yield bytes, not {type(chunk).__name__}")


def _plain_response(status: int, text: bytes) -> list[Message]:
    headers = [(b"content-type", b"text/plain; charset=utf-8"),
               (b"content-length", str(len(text)).encode())]
    return [{"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": text, "more_body": False}]


def _final(data: bytes = b"") -> Message:
    return {"type": "http.response.body", "body": data, "more_body": False}


class _Exchange:
    """One request: its environ, body pump and response state, shared by loop and thread."""

    def __init__(self, adapter: WSGIAdapter, scope: MutableMapping[str, Any],
                 receive: Callable[[], Any], send: Callable[[Message], Any],
                 loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.receive = receive
        self.send = send
        self.send_timeout = adapter.send_timeout
        self.body = RequestBody(loop, adapter.body_buffer_size, adapter.read_timeout,
                                self.start_pump)
        self.environ = build_environ(scope, self.body, multiprocess=adapter.multiprocess)
        self.gone = threading.Event()   # the client left, or the server cancelled the request
        self.finished = False
        self.pump_task: asyncio.Task[None] | None = None
        self.inflight: concurrent.futures.Future[None] | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.started = False        # start_response() was called
        self.headers_sent = False   # http.response.start went to the server

    # -- the loop's side -----------------------------------------------------------------

    async def finish(self, work: asyncio.Future[list[Message]]) -> None:
        """Wait for the app's thread, then send what it left for the loop to send."""
        try:
            tail = await asyncio.shield(work)
        except asyncio.CancelledError:
            self.leave(ClientDisconnected("the request was cancelled"))
            raise
        finally:
            self.finished = True
            if self.pump_task is not None:
                self.pump_task.cancel()
        for message in tail:
            await self.send(message)

    def start_pump(self) -> None:
        if self.pump_task is None and not self.finished:
            self.pump_task = self.loop.create_task(self.pump())

    async def pump(self) -> None:
        body = self.body
        try:
            while not body.complete:
                await body.wait_for_space()
                message = await self.receive()
                if message["type"] == "http.request":
                    body.feed(message.get("body", b""), message.get("more_body", False))
                elif message["type"] == "http.disconnect":
                    self.leave(ClientDisconnected("the client disconnected"))
                    return
            # The body is in; keep listening so a disconnect stops a long response.
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.leave(ClientDisconnected("the client disconnected"))
        except Exception as exc:  # noqa: BLE001 - the server's receive() failed: end the request
            self.leave(ClientDisconnected(f"receive() failed: {exc!r}"))

    def leave(self, error: BaseException) -> None:
        self.gone.set()
        self.body.fail(error)
        if self.inflight is not None:
            self.inflight.cancel()

    async def send_all(self, messages: list[Message]) -> None:
        for message in messages:
            if self.gone.is_set():
                raise _ClientGone
            await self.send(message)
        self.start_pump()

    # -- the app's thread ----------------------------------------------------------------

    def call_app(self, app: WSGIApp) -> list[Message]:
        """Run the app; return the messages left for the loop to send (the last ones)."""
        if self.gone.is_set():
            return []
        try:
            iterable = app(self.environ, self.start_response)
            try:
                return self.stream(iterable)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except _ClientGone:
            return []
        except Exception as exc:
            if self.gone.is_set():
                logger.debug("WSGI app ended after the client left: %r", exc)
                return []
            if self.headers_sent:
                raise   # the server ends the half-sent response by closing the connection
            logger.error("Exception in WSGI application", exc_info=exc)
            return _plain_response(500, INTERNAL_ERROR)

    def stream(self, iterable: Iterable[bytes]) -> list[Message]:
        try:
            pieces: int | None = len(iterable)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - len() is optional for a WSGI iterable
            pieces = None
        for chunk in iterable:
            if self.gone.is_set():
                raise _ClientGone
            data = _as_bytes(chunk)
            if not data:
                continue
            if not self.started:
                raise RuntimeError("the WSGI app yielded data before calling start_response()")
            if pieces == 1 and not self.headers_sent:
                # The one and only piece: the loop sends head and body as one final message.
                return [self.start_message(), _final(data)]
            self.transmit(data)
        if not self.started:
            raise RuntimeError("the WSGI app returned without calling start_response()")
        if self.headers_sent:
            return [_final()]
        return [self.start_message(), _final()]

    def start_response(self, status: str, headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None   # PEP 3333: avoid a reference cycle through the traceback
        elif self.started:
            raise RuntimeError("start_response() called a second time without exc_info")
        code = _parse_status(status)
        encoded = _encode_headers(headers)
        self.status, self.headers, self.started = code, encoded, True
        return self.write

    def write(self, data: bytes) -> None:
        """The PEP 3333 write() callable: returns once ``data`` went to the server."""
        if not self.started:
            raise RuntimeError("write() called before start_response()")
        data = _as_bytes(data)
        if data:
            self.transmit(data)

    def start_message(self) -> Message:
        return {"type": "http.response.start", "status": self.status, "headers": self.headers}

    def transmit(self, data: bytes) -> None:
        messages: list[Message] = [{"type": "http.response.body", "body": data, "more_body": True}]
        if not self.headers_sent:
            messages.insert(0, self.start_message())
            # Set before the hand-off: if it fails midway the head may already be out.
            self.headers_sent = True
        self.hand_off(messages)

    def hand_off(self, messages: list[Message]) -> None:
        """Send ``messages`` on the loop and wait until the server has taken them."""
        if self.gone.is_set():
            raise _ClientGone
        try:
            future = asyncio.run_coroutine_threadsafe(self.send_all(messages), self.loop)
        except RuntimeError:   # the loop is closed
            raise _ClientGone from None
        self.inflight = future
        try:
            future.result(timeout=self.send_timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ResponseSendTimeout(
                f"the client took no response data for {self.send_timeout:g} seconds") from None
        except concurrent.futures.CancelledError:
            raise _ClientGone from None
        finally:
            self.inflight = None


class WSGIAdapter:
    """An ASGI 3 app that serves the WSGI app ``app`` on at most ``max_workers`` threads.

    ``body_buffer_size``: request body bytes held per request before reading from the client
    pauses. ``read_timeout``: longest wait of wsgi.input for body data. ``send_timeout``: longest
    wait for the client to take one response piece. ``worker_timeout``: longest wait for a free
    thread before answering 503. ``multiprocess``: the value of wsgi.multiprocess (True when the
    server runs several worker processes)."""

    def __init__(self, app: WSGIApp, max_workers: int = 10, *, body_buffer_size: int = 256 * 1024,
                 read_timeout: float = 60.0, send_timeout: float = 60.0,
                 worker_timeout: float = 30.0, multiprocess: bool = False) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers!r}")
        if body_buffer_size < 1:
            raise ValueError(f"body_buffer_size must be at least 1, not {body_buffer_size!r}")
        for name, value in (("read_timeout", read_timeout), ("send_timeout", send_timeout),
                            ("worker_timeout", worker_timeout)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        self.app = app
        self.max_workers = max_workers
        self.body_buffer_size = body_buffer_size
        self.read_timeout = read_timeout
        self.send_timeout = send_timeout
        self.worker_timeout = worker_timeout
        self.multiprocess = multiprocess
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Any],
                       send: Callable[[Message], Any]) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._serve_http(scope, receive, send)
        elif kind == "lifespan":
            await self._serve_lifespan(receive, send)
        elif kind == "websocket":
            await receive()   # websocket.connect
            await send({"type": "websocket.close", "code": 1000})   # refused: HTTP 403
        else:
            raise ValueError(f"WSGIAdapter cannot serve scope type {kind!r}")

    def close(self) -> None:
        """Let the worker threads end once their requests are done; idle ones end now."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def __repr__(self) -> str:
        return f"WSGIAdapter({self.app!r}, max_workers={self.max_workers})"

    async def _serve_http(self, scope: MutableMapping[str, Any], receive: Callable[[], Any],
                          send: Callable[[Message], Any]) -> None:
        loop = asyncio.get_running_loop()
        slots = self._worker_slots(loop)
        try:
            await asyncio.wait_for(slots.acquire(), self.worker_timeout)
        except asyncio.TimeoutError:
            logger.warning("No WSGI worker thread free within %g seconds; answering 503.",
                           self.worker_timeout)
            for message in _plain_response(503, UNAVAILABLE):
                await send(message)
            return
        try:
            exchange = _Exchange(self, scope, receive, send, loop)
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    self.max_workers, thread_name_prefix="fastasgi-wsgi")
            context = contextvars.copy_context()
            work = loop.run_in_executor(self._executor, context.run, exchange.call_app, self.app)
        except BaseException:
            slots.release()
            raise
        # The slot is free only when the thread is, even if this coroutine is cancelled first.
        work.add_done_callback(lambda _: slots.release())
        await exchange.finish(work)

    def _worker_slots(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        if self._slots is None or self._slots_loop is not loop:
            self._slots = asyncio.Semaphore(self.max_workers)
            self._slots_loop = loop
        return self._slots

    async def _serve_lifespan(self, receive: Callable[[], Any],
                              send: Callable[[Message], Any]) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
