# cython: language_level=3
"""One HTTP/1.1 request on its connection: the app's ``receive`` and ``send``.

The connection (``protocols/http.pyx``) parses the request and feeds the cycle its body; the
cycle hands body messages to the app, turns what the app sends into bytes with the connection's
``ResponseEncoder``, and tells the connection when the response is complete. What it needs of
the connection is ``CycleOwner``'s four methods and the ``Connection`` fields.

The response's progress is one ``Response`` state (cycle.pxd), so ``send()`` reads as it:
NOT_STARTED -> STARTED -> SENDING -> (TRAILING ->) COMPLETE.
"""

cimport cython
from cpython.bytes cimport PyBytes_GET_SIZE
from fastasgi._response_fields cimport early_hints, error_response
from fastasgi._serializer cimport COPY_LIMIT
from fastasgi.protocols.connection cimport Connection, accepts_trailers, log_app_exception
from fastasgi.protocols.metrics cimport RequestMetrics
from fastasgi.protocols.awaitables cimport DONE
from fastasgi.protocols.write_budget cimport LargeWriteBudget

import asyncio
import logging

from fastasgi.errors import ClientDisconnected
from fastasgi.protocols.filesend import open_file, send_file


cdef inline Py_ssize_t pieces_size(tuple pieces):
    cdef Py_ssize_t size = 0
    for piece in pieces:
        size += len(piece)
    return size


cdef tuple cut_off(list views, Py_ssize_t size):
    """The first ``size`` bytes of ``views`` (memoryviews), taken off the list; all of them if
    fewer than COPY_LIMIT would be left, so that no piece is a small write of its own."""
    cdef list part = []
    cdef Py_ssize_t n, left = 0
    for view in views:
        left += len(view)
    if left - size < COPY_LIMIT:
        size = left
    while views and size > 0:
        view = views[0]
        n = len(view)
        if n <= size:
            part.append(view)
            del views[0]
            size -= n
        else:
            part.append(view[:size])
            views[0] = view[size:]
            size = 0
    return tuple(part)

cdef object logger = logging.getLogger("fastasgi.error")
cdef object CancelledError = asyncio.CancelledError

cdef bytes CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
cdef str T_START = "http.response.start"
cdef str T_BODY = "http.response.body"
cdef str T_EARLY_HINT = "http.response.early_hint"
cdef str T_TRAILERS = "http.response.trailers"
cdef str T_PATHSEND = "http.response.pathsend"


cdef class CycleOwner(Connection):
    """The connection side of a request cycle; HTTPProtocol is the one implementation."""

    cdef void pump(self):
        pass

    cdef void cycle_finished(self, RequestCycle cycle):
        pass

    cdef void abort(self):
        pass

    cdef void write(self, bytes data):
        pass

    cdef void write_pieces(self, tuple pieces, Py_ssize_t size):
        pass

    cdef void write_soon(self, bytes data):
        pass

    cdef void write_last(self, bytes data):
        pass


async def run_app(RequestCycle cycle, app, dict scope):
    try:
        await app(scope, cycle.receive, cycle.send)
    except CancelledError:
        cycle.app_failed(None)
        raise
    except BaseException as exc:
        cycle.app_failed(exc)
    else:
        cycle.app_returned()


@cython.final
@cython.freelist(32)
cdef class RequestCycle:
    """One request: its body queue, the app's receive/send, and the response state."""

    # -- fed by the protocol ---------------------------------------------------------------

    cdef void add_body(self, bytes piece):
        if self.response == COMPLETE:
            return
        self.body.append(piece)
        self.queued += len(piece)
        self.wake_receiver()

    cdef void end_body(self):
        self.body_complete = True
        self.wake_receiver()

    cdef void disconnect(self):
        self.disconnected = True
        self.wake_receiver()

    cdef void client_finished(self):
        self.client_done = True
        self.wake_receiver()

    cdef void wake_receiver(self):
        waiter = self.receive_waiter
        if waiter is not None:
            self.receive_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- the app's side --------------------------------------------------------------------

    async def receive(self):
        cdef CycleOwner protocol = self.protocol
        while True:
            if self.disconnected or self.response == COMPLETE or (
                    self.client_done and self.body_delivered):
                return {"type": "http.disconnect"}
            if not self.body_delivered and (self.body or self.body_complete):
                return self.next_body_message()
            if self.expect_continue and self.response == NOT_STARTED:
                # RFC 9110 §10.1.1: ask for the body only once the app wants it.
                self.expect_continue = False
                protocol.write(CONTINUE)
            waiter = self.receive_waiter
            if waiter is None:
                waiter = self.receive_waiter = protocol.loop.create_future()
                self.waiting_since = protocol.state.tick
            await waiter

    cdef dict next_body_message(self):
        cdef list pieces = self.body
        cdef bytes data
        cdef bint resume = self.queued >= HIGH_WATER
        if not pieces:
            data = b""
        elif len(pieces) == 1:
            data = <bytes>pieces[0]
        else:
            data = b"".join(pieces)
        self.body = []
        self.queued = 0
        if self.body_complete:
            self.body_delivered = True
            return {"type": "http.request", "body": data, "more_body": False}
        if resume or self.protocol.reading_paused:
            self.protocol.pump()
        return {"type": "http.request", "body": data, "more_body": True}

    def send(self, dict message not None):
        cdef CycleOwner protocol = self.protocol
        cdef object kind = message.get("type")
        cdef object out
        cdef Py_ssize_t size
        cdef LargeWriteBudget budget
        if self.disconnected:
            # ASGI spec 2.4: send() on a closed connection raises an OSError subclass, so a
            # streaming app stops producing for a client that is gone.
            raise ClientDisconnected("the client disconnected")
        if kind == T_BODY:
            if self.response == NOT_STARTED:
                raise RuntimeError("ASGI send: 'http.response.body' before 'http.response.start'")
            if self.response >= TRAILING:
                raise RuntimeError("ASGI send: the response body is already complete")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if type(body) is not bytes:
                if not isinstance(body, (bytes, bytearray, memoryview)):
                    raise TypeError("ASGI send: 'body' must be bytes, not %s" % type(body).__name__)
                body = bytes(body)
            out = self.encoder.c_body(body, more)
            # Every large write takes its turn: the encoder's pieces, and the app's own bytes
            # when it returns them as they are (a Content-Length body's later messages).
            size = pieces_size(<tuple>out) if type(out) is tuple else PyBytes_GET_SIZE(out)
            if size >= COPY_LIMIT:
                if type(out) is not tuple:
                    out = (out,)  # written at once and timed, as the encoder's pieces are
                budget = protocol.state.large_writes
                if size - budget.turn_bytes >= COPY_LIMIT or not budget.admit(size):
                    return self.send_cut(<tuple>out, more)
            return self.body_encoded(out, size, more)
        if kind == T_START:
            if self.response != NOT_STARTED:
                raise RuntimeError("ASGI send: 'http.response.start' sent twice")
            status = message.get("status")
            if type(status) is not int or not 0 <= status <= 999:
                raise TypeError("ASGI send: 'status' must be an int from 100 to 999, not %r" % (status,))
            self.encoder.c_start(
                status, message.get("headers", ()), self.head.method == "HEAD",
                self.head.http_version == "1.1", self.keep_alive and self.body_complete,
            )
            if message.get("trailers"):
                self.trailers_promised = True
                self.trailer_fields = []
                if accepts_trailers(self.head.headers):
                    self.encoder.c_promise_trailers()
            self.response = STARTED
            return DONE
        return self.send_extension(kind, message)

    cdef object body_encoded(self, object out, Py_ssize_t size, bint more):
        """Write what the encoder made of a body message, ``size`` bytes; the awaitable send()
        returns."""
        cdef CycleOwner protocol = self.protocol
        if type(out) is tuple:
            self.response = SENDING
            protocol.write_pieces(<tuple>out, size)
        elif out:
            self.response = SENDING
            if more:
                protocol.write_soon(<bytes>out)
            else:
                protocol.write_last(<bytes>out)
        if not more:
            if self.trailers_promised:
                self.response = TRAILING
            else:
                self.complete()
        elif protocol.writing_paused:
            return protocol.drain()
        return DONE

    async def send_cut(self, tuple out, bint more):
        """A large body the server's write budget (write_budget.pyx) did not take in this
        turn: a turn's budget of it each turn the budget admits one, in the order the writers
        came, and none while the transport holds more than it should, so that a client that
        reads slowly holds the loop no longer than a fast one. The app waits meanwhile, so
        nothing else of this connection is written before it."""
        cdef CycleOwner protocol = self.protocol
        cdef LargeWriteBudget budget = protocol.state.large_writes
        cdef list views = [memoryview(piece) for piece in out if piece]
        cdef tuple part
        cdef Py_ssize_t size, kept
        while True:
            part = cut_off(views, budget.turn_bytes)
            size = pieces_size(part)
            if not budget.admit(size):
                await budget.wait(size)
                if self.disconnected:
                    raise ClientDisconnected("the client disconnected")
                if size - budget.turn_bytes >= COPY_LIMIT:
                    # The budget shrank while this waited (the kernel slowed down).
                    views[0:0] = part
                    part = cut_off(views, budget.turn_bytes)
                    kept = pieces_size(part)
                    budget.give_back(size - kept)
                    size = kept
            if not views:
                await self.body_encoded(part, size, more)
                return
            self.response = SENDING
            protocol.write_pieces(part, size)
            if protocol.writing_paused:
                await protocol.drain()
                if self.disconnected:
                    raise ClientDisconnected("the client disconnected")

    cdef object send_extension(self, object kind, dict message):
        """The messages of the ASGI extensions this server advertises in the scope."""
        if kind == T_PATHSEND:
            if self.response != STARTED:
                raise RuntimeError("ASGI send: 'http.response.pathsend' is the whole body, "
                                   "after 'http.response.start' and alone")
            return self.send_path(message.get("path"))
        if kind == T_EARLY_HINT:
            # RFC 8297: a 103 goes out only before the final response's head, and only to an
            # HTTP/1.1 client (RFC 9110 §15.2); otherwise the hint is dropped, as the
            # extension allows.
            if self.response < SENDING and self.head.http_version == "1.1":
                self.protocol.write(early_hints(message.get("links", ())))
            return DONE
        if kind == T_TRAILERS:
            if not self.trailers_promised:
                raise RuntimeError("ASGI send: trailers that 'http.response.start' did not promise")
            if self.response != TRAILING:
                raise RuntimeError("ASGI send: 'http.response.trailers' before the final body")
            self.trailer_fields.extend(message.get("headers", ()))
            if not message.get("more_trailers", False):
                # Written only to a client that asked for them with "TE: trailers"; for any
                # other, this ends the chunked body (or nothing, for a Content-Length one).
                self.protocol.write(self.encoder.c_trailers(self.trailer_fields))
                self.complete()
            return DONE
        raise RuntimeError("ASGI send: unexpected message type %r" % (kind,))

    async def send_path(self, path):
        """The file at ``path`` as the whole body: zero-copy on a plain socket."""
        cdef CycleOwner protocol = self.protocol
        file, size = open_file(path)
        try:
            head = self.encoder.c_file_head(size)
            self.response = SENDING
            protocol.write(head)
            if self.encoder.bytes_sent:
                await send_file(protocol, file, size)
        finally:
            file.close()
        if self.disconnected:
            raise ClientDisconnected("the client disconnected")
        if self.trailers_promised:
            self.response = TRAILING
        else:
            self.complete()

    cdef void complete(self):
        self.response = COMPLETE
        self.status_sent = self.encoder.status
        self.wake_receiver()
        self.log_access()
        self.protocol.cycle_finished(self)

    cdef void respond_error(self, int status, str message):
        self.keep_alive = False
        self.protocol.write(error_response(status, message))
        self.response = COMPLETE
        self.status_sent = status
        self.log_access()
        self.protocol.cycle_finished(self)

    cdef void log_access(self):
        """One access-log line per request, when it ends: a request the client abandoned is
        logged too, with the status that went out (0: none) and marked as disconnected.
        The request is counted in the metrics here as well, whether or not it is logged."""
        cdef CycleOwner protocol = self.protocol
        self.count_finished(self.status_sent)
        if protocol.state.settings.access_log:
            protocol.state.log_access(
                protocol.client, self.head, self.status_sent,
                self.disconnected or protocol.peer_eof, self.encoder, self.started_at)

    cdef void count_finished(self, int status):
        """Count the request as ended in the metrics (--metrics-port), once: from log_access,
        or where the app ended with its response cut off, which is not logged."""
        cdef RequestMetrics metrics = self.protocol.state.metrics
        if metrics is not None:
            metrics.request_finished(self.head.method, status, self.started_at)

    # -- how the app ended -----------------------------------------------------------------

    cdef void forget_task(self):
        if self.task is not None:
            self.protocol.state.tasks.discard(self.task)
            self.task = None

    cdef void app_returned(self):
        self.forget_task()
        if self.response == COMPLETE:
            return
        if self.disconnected or (self.client_done and self.response == NOT_STARTED):
            # Told the client left, the app gave up on it: nothing is owed.
            self.abandoned()
            return
        if self.response == NOT_STARTED:
            logger.error("ASGI callable returned without starting response.")
            self.respond_error(500, "Internal Server Error")
        else:
            logger.error("ASGI callable returned without completing response.")
            self.count_finished(self.encoder.status)
            self.protocol.abort()

    cdef void abandoned(self):
        """The app ended after its client left, with the response unfinished."""
        if not self.status_sent and self.response >= SENDING:
            self.status_sent = self.encoder.status
        self.response = COMPLETE
        self.log_access()
        self.protocol.abort()

    cdef void app_failed(self, exc):
        self.forget_task()
        if exc is not None:
            log_app_exception(exc, self.disconnected)
        if self.response == COMPLETE:
            return
        if self.disconnected:
            self.abandoned()
            return
        if self.response < SENDING:
            # Nothing reached the wire yet (the head waits for the first body), so the
            # client can still get a clean 500.
            self.respond_error(500, "Internal Server Error")
        else:
            self.count_finished(self.encoder.status)
            self.protocol.abort()
