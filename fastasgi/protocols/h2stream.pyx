# cython: language_level=3
"""One HTTP/2 stream's request, as the app sees it: receive() and send() (RFC 9113 §8).

The connection (``h2.pyx``) feeds a stream what its frames meant (body pieces, the end of the
body, a reset) and the stream turns the app's messages into calls on the sans-I/O core. What the
app has not read yet is held here; the client's flow-control window bounds it, because the
window reopens only as receive() hands the body to the app (``acknowledge_received_data``).

The response head is held until the first body message, so an app that fails before sending
any body still gets a clean 500 out. A body goes out as far as the client's windows allow;
send() then waits for a WINDOW_UPDATE, and the connection's tick resets a stream that waits
longer than WRITE_STALL_TICKS. A large body (COPY_LIMIT and more) also goes out as the server's
write budget allows (write_budget.pyx): at most a turn's budget per call of the core, each in a
turn the budget admits it, as HTTP/1.1 bodies do, since a client's windows may be many MiB.

NOTE: send() returns a finished awaitable (``DONE``) when nothing has to wait, as the
HTTP/1.1 cycle's does: no coroutine per message on the path of every response. Only a body
the windows, the transport or the write budget may hold back, and the rarer messages, go
through a coroutine.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from fastasgi._h2connection cimport H2Connection
from fastasgi._parser cimport RequestHead
from fastasgi._serializer cimport COPY_LIMIT
from fastasgi.protocols.awaitables cimport DONE
from fastasgi.protocols.connection cimport (
    Connection, accepts_trailers, extensions_for, log_app_exception, make_request_head)
from fastasgi.protocols.state cimport ServerState
from fastasgi.protocols.write_budget cimport LargeWriteBudget
from fastasgi.settings cimport ResponseDefaults

import asyncio
import logging
from time import perf_counter
from urllib.parse import unquote_to_bytes

from fastasgi._h2frames import ErrorCode
from fastasgi._response_fields import NOT_IN_TRAILERS as _NOT_IN_TRAILERS
from fastasgi._serializer import current_date
from fastasgi.errors import ClientDisconnected
from fastasgi.protocols.filesend import open_file, read_pieces

cdef object logger = logging.getLogger("fastasgi.error")
cdef object CancelledError = asyncio.CancelledError
cdef frozenset NOT_IN_TRAILERS = _NOT_IN_TRAILERS
cdef unsigned int PROTOCOL_ERROR = ErrorCode.PROTOCOL_ERROR
cdef unsigned int INTERNAL_ERROR = ErrorCode.INTERNAL_ERROR
cdef unsigned int NO_ERROR = ErrorCode.NO_ERROR

cdef str HTTP_VERSION = "2"
cdef str T_START = "http.response.start"
cdef str T_BODY = "http.response.body"
cdef str T_EARLY_HINT = "http.response.early_hint"
cdef str T_TRAILERS = "http.response.trailers"
cdef str T_PATHSEND = "http.response.pathsend"
cdef bytes EMPTY = b""

# RFC 9113 §8.2.2: connection-specific fields have no meaning in HTTP/2; an app written for
# HTTP/1.1 sets them freely, so they are dropped rather than refused.
CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"))
cdef frozenset _CONNECTION_SPECIFIC = CONNECTION_SPECIFIC

# A response field name: an RFC 9110 §5.6.2 token in lowercase, as HTTP/2 requires.
cdef unsigned char NAME_CHAR[256]
for _c in list(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"):
    NAME_CHAR[_c] = 1

# The ``:status`` field of each status an app sent, made once.
cdef dict STATUS_FIELDS = {}


cdef inline void wake(object waiter):
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


cdef bint is_lowercase_name(bytes name):
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(name)
    cdef Py_ssize_t i, n = PyBytes_GET_SIZE(name)
    if n == 0:
        return False
    for i in range(n):
        if not NAME_CHAR[p[i]]:
            return False
    return True


cdef bint is_field_value(bytes value):
    """No NUL, CR or LF (RFC 9113 §8.2.1)."""
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(value)
    cdef Py_ssize_t i
    cdef unsigned char c
    for i in range(PyBytes_GET_SIZE(value)):
        c = p[i]
        if c == 0 or c == 13 or c == 10:
            return False
    return True


cdef tuple app_field(object pair):
    """One of the app's (name, value) pairs made fit for HTTP/2: a lowercase name, a value
    without surrounding blanks. One that cannot be sent raises TypeError or ValueError."""
    cdef bytes name, value
    cdef Py_ssize_t n
    raw_name, raw_value = pair
    if type(raw_name) is bytes and type(raw_value) is bytes:
        name = <bytes>raw_name
        value = <bytes>raw_value
    elif not isinstance(raw_name, (bytes, bytearray)) or not isinstance(raw_value, (bytes, bytearray)):
        raise TypeError("ASGI send: header names and values must be bytes")
    else:
        name = bytes(raw_name)
        value = bytes(raw_value)
    if not is_lowercase_name(name):
        name = name.lower()
        if not is_lowercase_name(name):
            raise ValueError(f"ASGI send: invalid header name {name!r}")
    n = PyBytes_GET_SIZE(value)
    if n and (value[0] in b" \t" or value[n - 1] in b" \t"):
        value = value.strip(b" \t")
    if not is_field_value(value):
        raise ValueError(f"ASGI send: NUL, CR or LF in the value of header {name!r}")
    return (name, value)


cdef list response_fields(int status, object headers, ResponseDefaults defaults, bytes date):
    """The field section of a response: ``:status``, the app's fields made fit for HTTP/2
    (lowercase names; connection-specific ones dropped), then the server's defaults the app
    did not set itself. A field that cannot be sent raises ValueError."""
    cdef tuple field
    cdef bytes name
    cdef set names = None
    cdef bint has_server = False, has_date = False
    cdef tuple extra = defaults.headers
    status_field = STATUS_FIELDS.get(status)
    if status_field is None:
        status_field = STATUS_FIELDS[status] = (b":status", b"%d" % status)
    cdef list fields = [status_field]
    if extra:
        names = set()
    for pair in headers:
        field = app_field(pair)
        name = <bytes>field[0]
        if name in _CONNECTION_SPECIFIC:
            continue
        if name == b"server":
            has_server = True
        elif name == b"date":
            has_date = True
        if names is not None:
            names.add(name)
        fields.append(field)
    if defaults.server_header is not None and not has_server:
        fields.append((b"server", defaults.server_header))
    if defaults.date_header and not has_date:
        fields.append((b"date", date))
    if extra:
        for name, value in extra:
            if name not in names:
                fields.append((name, value))
    return fields


cpdef tuple request_head(list fields):
    """The head of a request from its field section (validated by the core: §8.1.1,
    §8.2-8.3, a token for :method, origin-form or '*' for :path, one well-formed
    content-length), and its content-length (or None): pseudo-header fields to method and
    target, ``:authority`` as Host when the request has none, cookie fields joined into one
    (§8.2.3)."""
    cdef bytes method = EMPTY, path = EMPTY, authority = EMPTY, name, value
    cdef list headers = []
    cdef list cookies = None
    cdef bint has_host = False
    content_length = None
    for name, value in fields:
        if PyBytes_GET_SIZE(name) and PyBytes_AS_STRING(name)[0] == 0x3A:  # ":"
            if name == b":method":
                method = value
            elif name == b":path":
                path = value
            elif name == b":authority":
                authority = value
            continue
        if name == b"cookie":
            if cookies is None:
                cookies = []
            cookies.append(value)
            continue
        if name == b"host":
            has_host = True
        elif name == b"content-length":
            content_length = int(value)
        headers.append((name, value))
    if cookies:
        headers.append((b"cookie", b"; ".join(cookies)))
    if authority and not has_host:
        headers.insert(0, (b"host", authority))
    raw_path, _, query_string = path.partition(b"?")
    if b"%" in raw_path:
        decoded = unquote_to_bytes(raw_path).decode("utf-8", "replace")
    else:
        decoded = raw_path.decode("utf-8", "replace")
    head = make_request_head(method.decode("latin-1"), path, decoded, raw_path, query_string,
                             HTTP_VERSION, headers)
    return head, content_length


cpdef void open_stream(Connection protocol, unsigned int stream_id, RequestHead head,
                       bint end_stream, object content_length):
    """Run the app for a new stream of ``protocol`` (an H2Protocol), or answer 503 in its
    place."""
    cdef ServerState state = protocol.state
    cdef long long max_requests = state.settings.max_requests
    cdef H2Stream stream = H2Stream.__new__(H2Stream)
    cdef dict scope
    stream.protocol = protocol
    stream.conn = protocol.conn
    stream.stream_id = stream_id
    stream.head = head
    stream.head_request = head.method == "HEAD"
    stream.content_length = content_length
    stream.body = []
    stream.body_complete = end_stream
    protocol.streams[stream_id] = stream
    if state.requests_timed:
        stream.started_at = perf_counter()
    state.total_requests += 1
    if max_requests and state.total_requests >= max_requests and not state.shutting_down:
        # --limit-max-requests: the worker's last request. Every connection stops taking
        # new ones (this one by GOAWAY); the server's loop sees the count and stops.
        state.shutting_down = True
        for connection in list(state.connections):
            connection.shutdown()
    if not protocol.admitted():
        stream.respond_error(503)
        return
    scope = protocol.request_scope("http", head)
    scope["method"] = head.method
    scope["extensions"] = extensions_for(protocol)
    task = state.start_app(run_stream(stream, state.app, scope))
    if not task.done():
        stream.task = task
        state.tasks.add(task)


async def run_stream(H2Stream stream, app, dict scope):
    try:
        await app(scope, stream.receive, stream.send)
    except CancelledError:
        stream.app_ended(None)
        raise
    except BaseException as exc:
        stream.app_ended(exc)
    else:
        stream.app_ended(None)


@cython.final
@cython.freelist(32)
cdef class H2Stream:
    """One request on an HTTP/2 connection: its unread body, the app's receive/send, the
    response state. ``bytes_sent`` and ``headers`` (the response's) are read by the access log.
    Made only by ``open_stream``."""

    # -- fed by the connection -------------------------------------------------------------

    cpdef void add_body(self, bytes data, long long flow_controlled_length, bint end_stream):
        self.received += len(data)
        self.unacknowledged += flow_controlled_length
        expected = self.content_length
        if expected is not None and (
                self.received > expected or (end_stream and self.received != expected)):
            # §8.1.1: a content-length that disagrees with the DATA makes the request malformed.
            self.protocol.reset_stream(self, PROTOCOL_ERROR)
            return
        if data:
            self.body.append(data)
        if end_stream:
            self.body_complete = True
        wake(self.receive_waiter)

    cpdef void end_body(self):
        """Trailers arrived: they end the body (ASGI has no request trailers)."""
        self.body_complete = True
        wake(self.receive_waiter)

    cpdef void disconnect(self):
        self.disconnected = True
        self.give_back_window()
        wake(self.receive_waiter)
        wake(self.window_waiter)
        if self.task is None:
            self.log_access()

    cpdef void window_opened(self):
        wake(self.window_waiter)

    cdef void give_back_window(self):
        """Return what the app will never read to the connection's window."""
        if self.unacknowledged:
            self.conn.acknowledge_received_data(self.stream_id, self.unacknowledged)
            self.unacknowledged = 0

    # -- the app's side --------------------------------------------------------------------

    async def receive(self):
        cdef Connection protocol = self.protocol
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

    cdef dict next_body_message(self):
        cdef list pieces = self.body
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.body = []
        if self.unacknowledged:
            self.give_back_window()
            self.protocol.flush()
        if self.body_complete:
            self.body_delivered = True
            return {"type": "http.request", "body": data, "more_body": False}
        return {"type": "http.request", "body": data, "more_body": True}

    def send(self, dict message not None):
        cdef bint more, end
        cdef Py_ssize_t sent
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
            if type(body) is not bytes and not isinstance(body, (bytes, bytearray, memoryview)):
                raise TypeError(f"ASGI send: 'body' must be bytes, not {type(body).__name__}")
            if self.head_request:
                body = b""
            # With trailers promised, the stream ends with them, not with the body.
            end = not more and not self.trailers_promised
            if self.response == STARTED:
                self.send_head(end and not body)
                if end and not body:
                    self.complete()
                    return DONE
            if body or end:
                sent = self.send_body_now(body, end)
                if sent < len(body) or sent < 0:
                    return self.send_rest(body, max(sent, 0), end, more)
            return self.finish_body(end, more)
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
                current_date())
            self.status_sent = status
            self.trailers_promised = bool(message.get("trailers", False))
            if self.trailers_promised:
                self.trailer_fields = []
            self.response = STARTED
            return DONE
        return self.send_extension(kind, message)

    cdef object finish_body(self, bint end, bint more):
        """After a body message's bytes went out: complete the response, wait for the
        trailers, or wait for the transport."""
        if end:
            self.complete()
        elif not more:
            self.response = TRAILING
        elif self.protocol.writing_paused:
            return self.protocol.drain()
        return DONE

    async def send_rest(self, body, Py_ssize_t sent, bint end, bint more):
        await self.send_body(body, end, sent)
        await self.finish_body(end, more)

    cdef object send_extension(self, object kind, dict message):
        if kind == T_EARLY_HINT:
            # RFC 8297: a 103 goes out only before the final response's head; later, the hint
            # is dropped, as the extension allows.
            if self.response < SENDING:
                fields = [(b":status", b"103")]
                fields += [app_field((b"link", link)) for link in message.get("links", ())]
                self.send_fields(fields, False)
                self.protocol.flush()  # a hint is for the time the app takes before its answer
            return DONE
        if kind == T_TRAILERS:
            return self.send_trailers(message)
        if kind == T_PATHSEND:
            return self.send_path(message.get("path"))
        raise RuntimeError(f"ASGI send: unexpected message type {kind!r}")

    async def send_path(self, path):
        """The file at ``path`` as the whole body, in DATA frames within the windows."""
        cdef bint end
        if self.response != STARTED:
            raise RuntimeError("ASGI send: 'http.response.pathsend' is the whole body, after "
                               "'http.response.start' and alone")
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
                self.send_head(end)
            else:
                self.send_head(False)
                sent = 0
                async for piece in read_pieces(self.protocol.loop, file, size):
                    sent += len(piece)
                    await self.send_body(piece, end and sent == size)
        finally:
            file.close()
        if end:
            self.complete()
        else:
            self.response = TRAILING

    async def send_trailers(self, dict message):
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
            self.send_fields(self.trailer_fields, True)
        else:
            # Only a client that said "TE: trailers" gets them; for any other the stream
            # just ends.
            await self.send_body(b"", True)
        self.complete()

    cdef void send_head(self, bint end_stream):
        self.send_fields(self.headers, end_stream)
        self.response = SENDING

    cdef void send_fields(self, list fields, bint end_stream):
        """A field section (a head, a 103 or trailers) on this stream, which no window holds
        back (RFC 9113 §6.9)."""
        try:
            self.conn.send_headers(self.stream_id, fields, end_stream)
        except ValueError:
            raise ClientDisconnected("the stream is closed") from None
        # A head goes out with the first DATA frame, and a section that ends the stream with
        # the other streams' frames (flush_soon); neither waits longer than this loop turn.
        self.protocol.flush_soon()

    cdef Py_ssize_t send_body_now(self, object body, bint end_stream) except -2:
        """Send what the windows take of ``body`` now: how many octets went out, or -1 if the
        transport is paused. What is left, ``send_body`` sends once the windows reopen; a
        large body, all of it, as the write budget allows."""
        cdef Connection protocol = self.protocol
        cdef Py_ssize_t n
        if protocol.writing_paused:
            return -1
        if len(body) >= COPY_LIMIT:
            return 0
        try:
            n = self.conn.send_data(self.stream_id, body, end_stream)
        except ValueError:
            raise ClientDisconnected("the stream is closed") from None
        self.bytes_sent += n
        if n >= len(body):
            if end_stream:
                protocol.flush_soon()  # the stream's last frame: it can wait for the others'
            else:
                protocol.flush()
        else:
            protocol.flush()
        return n

    async def send_body(self, body, bint end_stream, Py_ssize_t sent=0):
        """Send ``body`` from ``sent`` on as the client's windows allow, waiting for
        WINDOW_UPDATEs, and as the server's write budget allows, waiting for a later turn."""
        cdef Connection protocol = self.protocol
        cdef H2Connection conn = self.conn
        cdef LargeWriteBudget budget = protocol.state.large_writes
        cdef Py_ssize_t n, total, size
        view = memoryview(body)
        total = len(view)
        while True:
            if self.disconnected:
                raise ClientDisconnected("the client reset the stream or disconnected")
            if protocol.writing_paused:
                await protocol.drain()
                continue
            size = min(total - sent, <Py_ssize_t>conn.outbound_window(self.stream_id),
                       budget.turn_bytes)
            if size >= COPY_LIMIT and not budget.admit(size):
                await budget.wait(size)
                if self.disconnected:
                    raise ClientDisconnected("the client reset the stream or disconnected")
            try:
                n = conn.send_data(self.stream_id, view[sent:sent + size],
                                   end_stream and sent + size == total)
            except ValueError:
                raise ClientDisconnected("the stream is closed") from None
            sent += n
            self.bytes_sent += n
            if sent >= total and end_stream and size < COPY_LIMIT:
                protocol.flush_soon()  # the stream's last frame: it can wait for the others'
                return
            # A large piece is written in the turn the budget admitted it.
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

    cdef void complete(self):
        self.response = COMPLETE
        self.give_back_window()
        if not self.body_complete:
            # §8.1: the response is complete while the client still sends: it may stop.
            self.conn.reset_stream(self.stream_id, NO_ERROR)
        wake(self.receive_waiter)
        self.log_access()
        self.protocol.stream_ended(self)

    cpdef void respond_error(self, int status):
        """Answer in the app's place: a head alone, which no window can hold back."""
        self.status_sent = status
        self.headers = [(b":status", b"%d" % status), (b"content-length", b"0")]
        try:
            self.conn.send_headers(self.stream_id, self.headers, True)
        except ValueError:
            self.disconnected = True     # the stream is gone
        self.complete()

    cdef void log_access(self):
        """One access-log line per stream, when it ends (a reset stream's marked disconnected)."""
        if self.logged:
            return
        self.logged = True
        cdef ServerState state = self.protocol.state
        if state.metrics is not None:
            state.metrics.request_finished(self.head.method, self.status_sent, self.started_at)
        if state.settings.access_log:
            state.log_access(self.protocol.client, self.head, self.status_sent,
                             self.disconnected, self, self.started_at)

    # -- how the app ended -----------------------------------------------------------------

    cdef void app_ended(self, exc):
        cdef Connection protocol = self.protocol
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
            protocol.reset_stream(self, INTERNAL_ERROR)
