# cython: language_level=3
"""The HTTP/1.1 connection: an asyncio Protocol that feeds the parser and runs ASGI apps.

Data flows one way: transport -> data_received -> RequestParser -> RequestCycle (scope, receive,
send) -> ResponseEncoder -> transport.write. One request runs at a time per connection; pipelined
requests wait in the parser's buffer (reading pauses once that grows) and start, in order, when the
previous response is complete.

Back-pressure both ways:
- reading: body pieces are pulled from the parser only while the app's queue is under HIGH_WATER;
  past it, or with a backlog of pipelined bytes, the transport is paused until receive() drains it.
- writing: send() returns a future while the transport is above its high-water mark, so an app
  writing to a client that does not read waits instead of filling memory; and no pipelined
  request starts while it is, so a client that sends requests but reads no responses cannot
  either.

Fairness: one connection starts at most REQUESTS_PER_TURN pipelined requests per turn of the
event loop (where apps finish synchronously, as eager tasks let them); the rest wait, with
reading paused, for a later turn.

Timeouts (keep-alive idle, head read) are checked by the server's once-a-second tick, not by a
timer per request: a connection records the tick at which it became idle or began a head.
"""

cimport cython
from fastasgi._parser cimport RequestParser, RequestHead
from fastasgi._serializer cimport ResponseEncoder, early_hints, error_response
from fastasgi.protocols.connection cimport (
    Connection, accepts_trailers, extensions_for, log_app_exception)
from fastasgi.protocols.metrics cimport RequestMetrics
from fastasgi.protocols.state cimport ServerState
from fastasgi.protocols.awaitables cimport DONE

import asyncio
import logging
import sys
from time import perf_counter

from fastasgi._parser import HTTPParseError, NEED_DATA as _NEED_DATA, END_OF_MESSAGE as _END
from fastasgi.errors import ClientDisconnected
from fastasgi.logging import TRACE as _TRACE
from fastasgi.protocols.connection import WRITE_STALL_TICKS
from fastasgi.protocols.websocket import WebSocketProtocol
from fastasgi.protocols.filesend import open_file, send_file
from fastasgi.protocols.h2 import SWITCHING_PROTOCOLS, prepare_h2c_upgrade, switch_to_h2
from fastasgi._h2frames import PREFACE as _PREFACE

# C-level references: compared by identity for every parser event.
cdef object NEED_DATA = _NEED_DATA
cdef object END_OF_MESSAGE = _END

# Body bytes queued for the app, plus unparsed bytes of pipelined requests, before reading pauses.
cdef enum:
    HIGH_WATER = 65536

# Pipelined requests one connection starts in one turn of the event loop. With eager tasks
# (Python 3.12+) an app that does not wait finishes inside data_received, and the next request
# starts at once: a read of 64 KiB of pipelined GETs would be 1,700 requests served while every
# other connection waits. The rest waits for a later turn, with reading paused meanwhile.
# Above the 16-deep pipelining benchmarks, so that one read of theirs still goes out in one turn.
cdef enum:
    REQUESTS_PER_TURN = 32

cdef object logger = logging.getLogger("fastasgi.error")
cdef object CancelledError = asyncio.CancelledError
cdef bint EAGER_TASKS = sys.version_info >= (3, 12)
cdef object Task = asyncio.Task

cdef bytes CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
cdef str T_START = "http.response.start"
cdef str T_BODY = "http.response.body"
cdef str T_EARLY_HINT = "http.response.early_hint"
cdef str T_TRAILERS = "http.response.trailers"
cdef str T_PATHSEND = "http.response.pathsend"

cdef int TRACE = _TRACE

# RFC 9113 §3.4: what an HTTP/2 client with prior knowledge sends first.
cdef bytes PREFACE = _PREFACE
cdef Py_ssize_t PREFACE_SIZE = len(_PREFACE)


@cython.final
cdef class HTTPProtocol(Connection):
    """One HTTP/1.1 connection (its fields are declared in http.pxd)."""

    def __init__(self, ServerState state not None):
        Connection.__init__(self, state)
        self.parser = RequestParser(state.settings.http)
        self.encoder = ResponseEncoder(state.settings.response)

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport):
        self.take_transport(transport)
        self.phase = IDLE
        self.since = self.state.tick
        if self.state.log_trace:
            logger.log(TRACE, "%s - HTTP connection made", self.client_label)
        if self.state.settings.h2 is not None:
            tls = self.ssl_object
            if (not self.state.settings.serves_http1
                    or tls is not None and tls.selected_alpn_protocol() == "h2"):
                self.closed = True  # this protocol is done with the transport
                self.state.connections.discard(self)
                switch_to_h2(self, b"")
                return
            self.sniffing = True

    def connection_lost(self, exc):
        self.closed = True
        self.state.connections.discard(self)
        if self.cycle is not None:
            self.cycle.disconnect()
        self.wake_writers()
        if self.state.log_trace:
            logger.log(TRACE, "%s - HTTP connection lost", self.client_label)

    def eof_received(self):
        """The client sent FIN: it will send nothing more.

        Clients close, rather than half-close, when they leave, so for a running request this
        is a disconnect: receive() returns http.disconnect at once. Only a request that is
        complete and not yet answered keeps the write side open, so a client that half-closes
        after its request (``nc -N``) still gets the response; a response already streaming
        is cut, and send() raises ClientDisconnected."""
        cdef RequestCycle cycle = self.cycle
        self.peer_eof = True
        if cycle is None or self.closed:
            return False
        cycle.keep_alive = False
        if not cycle.body_complete:
            # What is buffered may still complete the body; once it is used up, the body is
            # cut short (pull_events answers that).
            self.pump()
            return True
        if cycle.response != NOT_STARTED:
            self.abort()
            return False
        cycle.client_finished()
        return True

    def data_received(self, data):
        cdef RequestMetrics metrics = self.state.metrics
        if metrics is not None:
            metrics.received_bytes += len(data)
        if self.closed:
            return  # lingering after our FIN: drop it
        if self.sniffing:
            # NOTE: only a connection's first bytes are looked at; later reads skip this.
            data = self.sniff_preface(data)
            if data is None:
                return
        try:
            self.parser.feed(data)
        except HTTPParseError as exc:
            self.reject(exc.status, str(exc))
            return
        self.last_data = self.state.tick
        if self.phase == IDLE:
            self.phase = READING
            self.since = self.last_data
        self.pump()

    # -- request intake --------------------------------------------------------------------

    cdef void pump(self):
        """Pull parser events while there is someone to give them to, then start the app.

        The body already buffered is pulled before the app starts, so a small request is
        complete when the app first looks at it. Re-entry (an app that finishes synchronously
        inside this loop) returns at once; the outer loop picks up the next pipelined request."""
        cdef RequestCycle cycle
        cdef object event
        if self.pumping or self.deferred:
            return  # deferred: resume_deferred pumps, in a turn of its own
        self.pumping = True
        try:
            self.pull_events()
        finally:
            self.pumping = False
        self.update_reading()

    cdef void pull_events(self):
        cdef RequestCycle cycle
        cdef object event
        cdef int started = 0
        while not self.closed:
            cycle = self.cycle
            if cycle is None:
                if self.writing_paused:
                    # The client reads none of what we write: its next request waits for
                    # resume_writing, with at most HIGH_WATER of it read.
                    break
                if started >= REQUESTS_PER_TURN:
                    self.defer()
                    break
            elif cycle.body_complete or cycle.queued >= HIGH_WATER:
                if cycle.running:
                    break
                # An app may finish synchronously (eager tasks), so look for the next request.
                self.run_cycle(cycle)
                started += 1
                continue
            try:
                event = self.parser.next_event()
            except HTTPParseError as exc:
                if cycle is None:
                    self.reject(exc.status, str(exc))
                else:
                    self.body_failed(cycle, exc.status, str(exc))
                return
            if event is NEED_DATA:
                if cycle is not None:
                    if self.peer_eof and not cycle.body_complete:
                        self.body_failed(cycle, 400, "Bad Request: the request body ended early")
                        return
                    if not cycle.running:
                        self.run_cycle(cycle)
                        started += 1
                        continue
                break
            if type(event) is bytes:
                cycle.add_body(<bytes>event)
            elif event is END_OF_MESSAGE:
                cycle.end_body()
            else:
                self.start_cycle(<RequestHead>event)

    cdef void defer(self):
        """Leave the pipelined requests still buffered for a later turn of the loop, reading
        nothing more until then: the other connections' ready work runs first."""
        self.deferred = True
        self.loop.call_soon(self.resume_deferred)

    def resume_deferred(self):
        self.deferred = False
        if not self.closed:
            self.pump()

    def resume_writing(self):
        Connection.resume_writing(self)
        if self.cycle is None and not self.closed and self.parser.buffered_bytes():
            self.pump()  # the pipelined requests that waited for the client to read

    cdef void update_reading(self):
        cdef Py_ssize_t backlog = self.parser.buffered_bytes()
        if self.cycle is not None:
            backlog += self.cycle.queued
        if backlog >= HIGH_WATER or self.deferred:
            if not self.reading_paused and not self.closed:
                self.reading_paused = True
                self.transport.pause_reading()
        elif self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()

    cdef void start_cycle(self, RequestHead head):
        cdef ServerState state = self.state
        cdef long long max_requests = state.settings.max_requests
        cdef RequestCycle cycle
        if head.upgrade is not None:
            if head.upgrade == b"websocket" and state.settings.websocket is not None:
                self.switch_to_websocket(head)
                return
            if (head.upgrade == b"h2c" and state.settings.h2 is not None
                    and self.scheme == "http" and not state.shutting_down
                    and (head.body_framing == 0 or head.content_length == 0)):
                # NOTE: only a request without a body switches: its response then goes out on
                # stream 1; one with a body is served as HTTP/1.1, as RFC 9113 allows.
                h2 = prepare_h2c_upgrade(self, head)
                if h2 is not None:
                    self.switch_to_h2c(h2, head)
                    return
        scope = self.request_scope("http", head)
        scope["method"] = head.method
        scope["extensions"] = extensions_for(self)
        self.encoder.reset()
        cycle = RequestCycle.__new__(RequestCycle)
        cycle.protocol = self
        cycle.head = head
        cycle.encoder = self.encoder
        cycle.body = []
        cycle.expect_continue = head.expect_continue
        cycle.keep_alive = head.keep_alive and not state.shutting_down
        cycle.scope = scope
        if state.requests_timed:
            cycle.started_at = perf_counter()
        self.cycle = cycle
        self.phase = ACTIVE
        self.served = True
        state.total_requests += 1
        if max_requests and state.total_requests >= max_requests:
            # --limit-max-requests: this is the worker's last request. Idle connections close
            # now, so no new request reaches the worker; one already sent on another connection
            # is still served (with connection: close) rather than lost. The server's loop sees
            # the count and stops gracefully.
            cycle.keep_alive = False
            if not state.shutting_down:
                state.shutting_down = True
                for connection in list(state.connections):
                    connection.shutdown()
        if head.body_framing == 0 or head.content_length == 0:
            self.parser.take_end_of_message()
            cycle.body_complete = True

    cdef void run_cycle(self, RequestCycle cycle):
        cdef ServerState state = self.state
        cycle.running = True
        if not self.admitted():
            cycle.respond_error(503, "Service Unavailable: too many requests in progress")
            return
        coro = run_app(cycle, state.app, cycle.scope)
        cycle.scope = None
        if EAGER_TASKS:
            task = Task(coro, loop=self.loop, eager_start=True)
        else:
            task = self.loop.create_task(coro)
        if not task.done():
            cycle.task = task
            state.tasks.add(task)

    cdef void switch_to_websocket(self, RequestHead head):
        """Hand the transport to a WebSocket connection, with whatever bytes follow the head."""
        self.closed = True  # this protocol is done with the transport
        self.state.connections.discard(self)
        self.cycle = None
        ws = WebSocketProtocol(self, head, self.parser.take_buffered())
        self.transport.set_protocol(ws)
        ws.start()

    cdef void switch_to_h2c(self, object h2, RequestHead head):
        """Answer 101 and hand the transport to ``h2``, with whatever bytes follow the head."""
        self.parser.take_end_of_message()
        self.closed = True  # this protocol is done with the transport
        self.state.connections.discard(self)
        self.cycle = None
        h2.pending = self.parser.take_buffered()
        self.transport.write(SWITCHING_PROTOCOLS)
        self.transport.set_protocol(h2)
        h2.start(head)

    cdef object sniff_preface(self, object data):
        """The bytes to parse as HTTP/1.1, or None once they are (or may still become) the
        HTTP/2 preface: then the connection is handed over, or waits for the rest of it."""
        cdef Py_ssize_t n
        if self.preface_part is not None:
            data = self.preface_part + data
            self.preface_part = None
        n = min(len(data), PREFACE_SIZE)
        if data[:n] != PREFACE[:n]:
            self.sniffing = False
            return data
        if n < PREFACE_SIZE:
            self.preface_part = bytes(data)
            return None
        self.sniffing = False
        self.closed = True  # this protocol is done with the transport
        self.state.connections.discard(self)
        switch_to_h2(self, bytes(data))
        return None

    # -- after a response ------------------------------------------------------------------

    cdef void cycle_finished(self, RequestCycle cycle):
        """The response is complete: serve the next request, wait for one, or close."""
        if cycle is not self.cycle:
            return
        # A response started before the request body was complete went out with
        # "connection: close" (the encoder was told keep_alive=False), so it lands here too.
        if not cycle.keep_alive or not cycle.encoder.keep_alive or self.state.shutting_down:
            self.close_gracefully()
            return
        self.cycle = None
        self.phase = IDLE if self.parser.buffered_bytes() == 0 else READING
        self.since = self.state.tick
        if self.phase == READING:
            self.pump()
        else:
            self.update_reading()

    cdef void reject(self, int status, str message):
        """Answer a request we will not run, and close."""
        logger.debug("Invalid HTTP request from %s: %s", self.client_label, message)
        if not self.closed:
            self.write(error_response(status, message))
            self.close_gracefully()

    cdef void body_failed(self, RequestCycle cycle, int status, str message):
        """The body of a running request turned out malformed or cut short.

        The client is answered with the error while no byte of a response has gone out (a
        proxy in front would otherwise turn the silent close into a 502); for the app the
        client is gone either way: receive() returns http.disconnect, send() raises."""
        logger.debug("Invalid HTTP request body from %s: %s", self.client_label, message)
        if cycle.response >= SENDING or self.closed:
            self.abort()
            return
        cycle.status_sent = status
        self.write(error_response(status, message))
        cycle.disconnect()
        self.close_gracefully()
        if not cycle.running:
            cycle.log_access()  # the app never started, so no app ending will log it

    cdef void abort(self):
        self.closed = True
        self.transport.abort()
        if self.cycle is not None:
            self.cycle.disconnect()

    # -- called by the server --------------------------------------------------------------

    cpdef void on_tick(self, long tick):
        """Close the connection if it sat idle or trickled its head for too long."""
        # NOTE: ``since`` is the tick current when the wait began, up to a tick after its real
        # start, so a wait is over only when *more* than its ticks have passed: a timeout may
        # fire up to one tick late, never early.
        if self.closed:
            if self.linger_over(tick):
                self.transport.abort()
        elif self.phase == IDLE:
            if tick - self.since > self.state.keep_alive_ticks or (
                    self.state.shutting_down and tick > self.since):
                self.close_gracefully()
        elif self.write_stalled(tick):
            logger.info("Client %s read nothing for %d s; closing", self.client_label,
                        WRITE_STALL_TICKS)
            self.abort()
        elif self.phase == ACTIVE and self.body_stalled(tick):
            # The app waits for body bytes the client stopped sending: the same bound as a
            # trickled head, so a stalled upload cannot hold the app forever.
            logger.info("Client %s stopped sending its request body; closing", self.client_label)
            self.abort()
        elif self.phase == READING and not self.writing_paused:
            # NOTE: pipelined requests waiting for the client to read are bounded by
            # write_stalled above, not by the head-read timeout.
            if tick - self.since > self.state.header_read_ticks:
                if self.cycle is None:
                    self.reject(408, "Request Timeout: the request head took too long")
                else:
                    self.close_gracefully()

    cdef bint body_stalled(self, long tick):
        cdef RequestCycle cycle = self.cycle
        if cycle is None or cycle.body_complete or cycle.receive_waiter is None:
            return False
        return tick - max(self.last_data, cycle.waiting_since) > self.state.header_read_ticks

    cpdef void shutdown(self):
        """Graceful stop: close now if idle between requests, else after the current response.

        A connection that has not sent its first request yet (accepted just before the listener
        closed) or is partway through a head is left to finish it: the request is served with
        "connection: close", and the tick closes the connection if nothing comes."""
        if self.cycle is not None:
            self.cycle.keep_alive = False
        elif self.phase == IDLE and self.served:
            self.close_gracefully()

    cpdef void force_close(self):
        self.transport.abort()
        if self.cycle is not None:
            self.cycle.disconnect()

    # -- writing -------------------------------------------------------------------------

    cdef void write(self, bytes data):
        cdef RequestMetrics metrics
        if not self.closed:
            metrics = self.state.metrics
            if metrics is not None:
                metrics.sent_bytes += len(data)
            self.transport.write(data)


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
        cdef HTTPProtocol protocol = self.protocol
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
        cdef HTTPProtocol protocol = self.protocol
        cdef object kind = message.get("type")
        cdef bytes out
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
            if out:
                self.response = SENDING
                protocol.write(out)
            if not more:
                if self.trailers_promised:
                    self.response = TRAILING
                else:
                    self.complete()
            elif protocol.writing_paused:
                return protocol.drain()
            return DONE
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
        cdef HTTPProtocol protocol = self.protocol
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
        cdef HTTPProtocol protocol = self.protocol
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
