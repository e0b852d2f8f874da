"""One HTTP/2 stream's request, as the app sees it: receive() and send() (RFC 9113 §8).

The connection (``h2.py``) feeds a stream what its frames meant (body pieces, the end of the
body, a reset) and the stream turns the app's messages into calls on the sans-I/O core. What the
app has not read yet is held here; the client's flow-control window bounds it, because the
window reopens only as receive() hands the body to the app (``acknowledge_received_data``).

The response head is held until the first body message, so an app that fails before sending
any body still gets a clean 500 out. A body goes out as far as the client's windows allow;
send() then waits for a WINDOW_UPDATE, and the connection's tick resets a stream that waits
longer than WRITE_STALL_TICKS.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fastasgi._h2frames import ErrorCode
from fastasgi._response_fields import NOT_IN_TRAILERS
from fastasgi.errors import ClientDisconnected
from fastasgi.protocols.connection import accepts_trailers, log_app_exception
from fastasgi.protocols.filesend import open_file, read_pieces
from fastasgi.settings import ResponseDefaults

if TYPE_CHECKING:
    from fastasgi._parser import RequestHead
    from fastasgi.protocols.h2 import H2Protocol

logger = logging.getLogger("fastasgi.error")

T_START = "http.response.start"
T_BODY = "http.response.body"
T_EARLY_HINT = "http.response.early_hint"
T_TRAILERS = "http.response.trailers"
T_PATHSEND = "http.response.pathsend"

# RFC 9113 §8.2.2: connection-specific fields have no meaning in HTTP/2; an app written for
# HTTP/1.1 sets them freely, so they are dropped rather than refused.
CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"))
FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")           # RFC 9110 §5.6.2, lowercase
FORBIDDEN_IN_VALUE = re.compile(rb"[\x00\r\n]")                  # RFC 9113 §8.2.1


class Response(enum.IntEnum):
    """How far the response has gone."""

    NOT_STARTED = 0   # no http.response.start yet
    STARTED = 1       # started; the head waits for the first body message
    SENDING = 2       # the head went out
    TRAILING = 3      # the body is complete; the trailers the app promised are still owed
    COMPLETE = 4      # all of it went out (or the server answered in the app's place)


NOT_STARTED, STARTED, SENDING, TRAILING, COMPLETE = Response


def app_field(pair: Any) -> tuple[bytes, bytes]:
    """One of the app's (name, value) pairs made fit for HTTP/2: a lowercase name, a value
    without surrounding blanks. One that cannot be sent raises TypeError or ValueError."""
    name, value = pair
    if not isinstance(name, (bytes, bytearray)) or not isinstance(value, (bytes, bytearray)):
        raise TypeError("ASGI send: header names and values must be bytes")
    name = bytes(name).lower()
    value = bytes(value).strip(b" \t")
    if not FIELD_NAME.fullmatch(name):
        raise ValueError(f"ASGI send: invalid header name {name!r}")
    if FORBIDDEN_IN_VALUE.search(value):
        raise ValueError(f"ASGI send: NUL, CR or LF in the value of header {name!r}")
    return name, value


def response_fields(status: int, headers: Iterable[Any], defaults: ResponseDefaults,
                    date: bytes) -> list[tuple[bytes, bytes]]:
    """The field section of a response: ``:status``, the app's fields made fit for HTTP/2
    (lowercase names; connection-specific ones dropped), then the server's defaults the app
    did not set itself. A field that cannot be sent raises ValueError."""
    fields = [(b":status", b"%d" % status)]
    names = set()
    for pair in headers:
        name, value = app_field(pair)
        if name in CONNECTION_SPECIFIC:
            continue
        names.add(name)
        fields.append((name, value))
    if defaults.server_header is not None and b"server" not in names:
        fields.append((b"server", defaults.server_header))
    if defaults.date_header and b"date" not in names:
        fields.append((b"date", date))
    for name, value in defaults.headers:
        if name not in names:
            fields.append((name, value))
    return fields


class H2Stream:
    """One request on an HTTP/2 connection: its unread body, the app's receive/send, the
    response state. ``bytes_sent`` and ``headers`` (the response's) are read by the access log."""

    def __init__(self, protocol: H2Protocol, stream_id: int, head: RequestHead,
                 end_stream: bool, content_length: int | None) -> None:
        self.protocol = protocol
        self.stream_id = stream_id
        self.head = head
        self.head_request = head.method == "HEAD"
        self.content_length = content_length  # from the request, checked against its DATA
        self.received = 0                     # body octets received
        self.body: list[bytes] = []           # received, not yet handed to receive()
        self.unacknowledged = 0               # flow-controlled octets not given back yet
        self.body_complete = end_stream
        self.body_delivered = False
        self.disconnected = False             # reset or connection gone: send() raises
        self.response = NOT_STARTED
        self.status_sent = 0
        self.headers: list[tuple[bytes, bytes]] | None = None
        self.trailers_promised = False        # http.response.start said trailers follow
        self.trailer_fields: list[tuple[bytes, bytes]] = []
        self.bytes_sent = 0
        self.receive_waiter: asyncio.Future[None] | None = None
        self.receive_since = 0                # tick at which receive() began to wait
        self.window_waiter: asyncio.Future[None] | None = None
        self.window_since = 0                 # tick at which send() began to wait for a window
        self.task: asyncio.Task[None] | None = None
        self.started_at = 0.0
        self.logged = False

    # -- fed by the connection -------------------------------------------------------------

    def add_body(self, data: bytes, flow_controlled_length: int, end_stream: bool) -> None:
        self.received += len(data)
        self.unacknowledged += flow_controlled_length
        expected = self.content_length
        if expected is not None and (
                self.received > expected or (end_stream and self.received != expected)):
            # §8.1.1: a content-length that disagrees with the DATA makes the request malformed.
            self.protocol.reset_stream(self, ErrorCode.PROTOCOL_ERROR)
            return
        if data:
            self.body.append(data)
        if end_stream:
            self.body_complete = True
        self.wake(self.receive_waiter)

    def end_body(self) -> None:
        """Trailers arrived: they end the body (ASGI has no request trailers)."""
        self.body_complete = True
        self.wake(self.receive_waiter)

    def disconnect(self) -> None:
        self.disconnected = True
        self.give_back_window()
        self.wake(self.receive_waiter)
        self.wake(self.window_waiter)
        if self.task is None:
            self.log_access()

    def window_opened(self) -> None:
        self.wake(self.window_waiter)

    @staticmethod
    def wake(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def give_back_window(self) -> None:
        """Return what the app will never read to the connection's window."""
        if self.unacknowledged:
            self.protocol.conn.acknowledge_received_data(self.stream_id, self.unacknowledged)
            self.unacknowledged = 0

    # -- the app's side --------------------------------------------------------------------

    async def run(self, app: Any, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        except asyncio.CancelledError:
            self.app_ended(None)
            raise
        except BaseException as exc:  # noqa: BLE001 -- any failure of the app is answered
            self.app_ended(exc)
        else:
            self.app_ended(None)

    async def receive(self) -> dict[str, Any]:
        protocol = self.protocol
        while True:
            if self.disconnected or self.response == COMPLETE:
                return {"type": "http.disconnect"}
            if not self.body_delivered and (self.body or self.body_complete):
                return self.next_body_message()
            waiter = self.receive_waiter = protocol.loop.create_future()
            self.receive_since = protocol.state.tick
            try:
                await waiter
            finally:
                self.receive_waiter = None

    def next_body_message(self) -> dict[str, Any]:
        pieces = self.body
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.body = []
        if self.unacknowledged:
            self.give_back_window()
            self.protocol.flush()
        if self.body_complete:
            self.body_delivered = True
            return {"type": "http.request", "body": data, "more_body": False}
        return {"type": "http.request", "body": data, "more_body": True}

    async def send(self, message: dict[str, Any]) -> None:
        if self.disconnected:
            raise ClientDisconnected("the client reset the stream or disconnected")
        kind = message.get("type")
        if kind == T_BODY:
            if self.response == NOT_STARTED:
                raise RuntimeError("ASGI send: 'http.response.body' before 'http.response.start'")
            if self.response >= TRAILING:
                raise RuntimeError("ASGI send: the response body is already complete")
            body = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise TypeError(f"ASGI send: 'body' must be bytes, not {type(body).__name__}")
            if self.head_request:
                body = b""
            # With trailers promised, the stream ends with them, not with the body.
            end = not more and not self.trailers_promised
            if self.response == STARTED:
                self.send_head(end_stream=end and not body)
                if end and not body:
                    self.complete()
                    return
            if body or end:
                await self.send_body(body, end_stream=end)
            if end:
                self.complete()
            elif not more:
                self.response = TRAILING
            elif self.protocol.writing_paused:
                await self.protocol.drain()
            return
        if kind == T_START:
            if self.response != NOT_STARTED:
                raise RuntimeError("ASGI send: 'http.response.start' sent twice")
            status = message.get("status")
            if type(status) is not int or not 200 <= status <= 999:
                # 1xx are not final responses; ASGI has no way to send them here.
                raise TypeError(
                    f"ASGI send: 'status' must be an int from 200 to 999, not {status!r}")
            self.headers = response_fields(
                status, message.get("headers", ()), self.protocol.state.settings.response,
                self.protocol.date())
            self.status_sent = status
            self.trailers_promised = bool(message.get("trailers", False))
            self.response = STARTED
            return
        if kind == T_EARLY_HINT:
            # RFC 8297: a 103 goes out only before the final response's head; later, the hint
            # is dropped, as the extension allows.
            if self.response < SENDING:
                fields = [(b":status", b"103")]
                fields += [app_field((b"link", link)) for link in message.get("links", ())]
                self.send_fields(fields, end_stream=False)
                self.protocol.flush()  # a hint is for the time the app takes before its answer
            return
        if kind == T_TRAILERS:
            await self.send_trailers(message)
            return
        if kind == T_PATHSEND:
            await self.send_path(message.get("path"))
            return
        raise RuntimeError(f"ASGI send: unexpected message type {kind!r}")

    async def send_path(self, path: object) -> None:
        """The file at ``path`` as the whole body, in DATA frames within the windows."""
        if self.response != STARTED:
            raise RuntimeError("ASGI send: 'http.response.pathsend' is the whole body, after "
                               "'http.response.start' and alone")
        assert self.headers is not None
        file, size = open_file(path)
        try:
            declared = [value for name, value in self.headers if name == b"content-length"]
            if not declared:
                self.headers.append((b"content-length", b"%d" % size))
            elif declared != [b"%d" % size]:
                raise ValueError(f"ASGI send: Content-Length says {declared[0]!r} bytes, "
                                 f"the file has {size}")
            end = not self.trailers_promised
            if self.head_request or size == 0:
                self.send_head(end_stream=end)
            else:
                self.send_head(end_stream=False)
                sent = 0
                async for piece in read_pieces(self.protocol.loop, file, size):
                    sent += len(piece)
                    await self.send_body(piece, end_stream=end and sent == size)
        finally:
            file.close()
        if end:
            self.complete()
        else:
            self.response = TRAILING

    async def send_trailers(self, message: dict[str, Any]) -> None:
        if not self.trailers_promised:
            raise RuntimeError("ASGI send: trailers that 'http.response.start' did not promise")
        if self.response != TRAILING:
            raise RuntimeError("ASGI send: 'http.response.trailers' before the final body")
        for pair in message.get("headers", ()):
            name, value = app_field(pair)
            if name.startswith(b":") or name in NOT_IN_TRAILERS:
                raise ValueError(f"ASGI send: {name!r} cannot be sent as a trailer")
            self.trailer_fields.append((name, value))
        if message.get("more_trailers", False):
            return
        if accepts_trailers(self.head.headers):
            self.send_fields(self.trailer_fields, end_stream=True)
        else:
            # Only a client that said "TE: trailers" gets them; for any other the stream
            # just ends.
            await self.send_body(b"", end_stream=True)
        self.complete()

    def send_head(self, end_stream: bool) -> None:
        assert self.headers is not None
        self.send_fields(self.headers, end_stream)
        self.response = SENDING

    def send_fields(self, fields: list[tuple[bytes, bytes]], end_stream: bool) -> None:
        """A field section (a head, a 103 or trailers) on this stream, which no window holds
        back (RFC 9113 §6.9)."""
        try:
            self.protocol.conn.send_headers(self.stream_id, fields, end_stream)
        except ValueError:
            raise ClientDisconnected("the stream is closed") from None
        # A head goes out with the first DATA frame, and a section that ends the stream with
        # the other streams' frames (flush_soon); neither waits longer than this loop turn.
        self.protocol.flush_soon()

    async def send_body(self, body: bytes | bytearray | memoryview, end_stream: bool) -> None:
        """Send ``body`` as the client's windows allow, waiting for WINDOW_UPDATEs."""
        protocol = self.protocol
        conn = protocol.conn
        view = memoryview(body)
        total = len(view)
        sent = 0
        while True:
            if self.disconnected:
                raise ClientDisconnected("the client reset the stream or disconnected")
            if protocol.writing_paused:
                await protocol.drain()
                continue
            try:
                n = conn.send_data(self.stream_id, view[sent:], end_stream)
            except ValueError:
                raise ClientDisconnected("the stream is closed") from None
            sent += n
            self.bytes_sent += n
            if sent >= total and end_stream:
                protocol.flush_soon()  # the stream's last frame: it can wait for the others'
                return
            protocol.flush()
            if sent >= total:
                return
            if n == 0:
                waiter = self.window_waiter = protocol.loop.create_future()
                self.window_since = protocol.state.tick
                try:
                    await waiter
                finally:
                    self.window_waiter = None

    def complete(self) -> None:
        self.response = COMPLETE
        self.give_back_window()
        if not self.body_complete:
            # §8.1: the response is complete while the client still sends: it may stop.
            self.protocol.conn.reset_stream(self.stream_id, ErrorCode.NO_ERROR)
        self.wake(self.receive_waiter)
        self.log_access()
        self.protocol.stream_ended(self)

    def respond_error(self, status: int) -> None:
        """Answer in the app's place: a head alone, which no window can hold back."""
        self.status_sent = status
        self.headers = [(b":status", b"%d" % status), (b"content-length", b"0")]
        try:
            self.protocol.conn.send_headers(self.stream_id, self.headers, True)
        except ValueError:
            self.disconnected = True     # the stream is gone
        self.complete()

    def log_access(self) -> None:
        """One access-log line per stream, when it ends (a reset stream's marked disconnected)."""
        if self.logged:
            return
        self.logged = True
        state = self.protocol.state
        if state.metrics is not None:
            state.metrics.request_finished(self.head.method, self.status_sent, self.started_at)
        if state.settings.access_log:
            state.log_access(self.protocol.client, self.head, self.status_sent,
                             self.disconnected, self, self.started_at)

    # -- how the app ended -----------------------------------------------------------------

    def app_ended(self, exc: BaseException | None) -> None:
        protocol = self.protocol
        if self.task is not None:
            protocol.state.tasks.discard(self.task)
            self.task = None
        if exc is not None:
            log_app_exception(exc, self.disconnected)
        if self.response == COMPLETE:
            return
        if self.disconnected:
            self.log_access()
            protocol.stream_ended(self)
            return
        if exc is None:
            logger.error("ASGI callable returned without %s response.",
                         "starting" if self.response == NOT_STARTED else "completing")
        if self.response < SENDING:
            self.respond_error(500)
        else:
            self.disconnected = True
            metrics = protocol.state.metrics
            if metrics is not None and not self.logged:
                # Cut off mid-response: no access-log line, but the request did end.
                self.logged = True
                metrics.request_finished(self.head.method, self.status_sent, self.started_at)
            protocol.reset_stream(self, ErrorCode.INTERNAL_ERROR)
