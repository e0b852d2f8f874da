# cython: language_level=3
"""The HTTP/1.1 connection: an asyncio Protocol that feeds the parser and runs ASGI apps.

Data flows one way: transport -> data_received -> RequestParser -> RequestCycle (cycle.pyx:
receive, send) -> ResponseEncoder -> transport.write. One request runs at a time per connection;
pipelined requests wait in the parser's buffer (reading pauses once that grows) and start, in order, when the
previous response is complete.

Back-pressure both ways:
- reading: body pieces are pulled from the parser only while the app's queue is under HIGH_WATER;
  past it, or with a backlog of pipelined bytes, the transport is paused until receive() drains it.
- writing: send() returns a future while the transport is above its high-water mark, so an app
  writing to a client that does not read waits instead of filling memory; and no pipelined
  request starts while it is, so a client that sends requests but reads no responses cannot
  either.

Fairness: one connection starts at most REQUESTS_PER_TURN pipelined requests per turn of the
event loop (where apps finish synchronously, as eager tasks let them), and all connections
together at most HTTP_REQUESTS_PER_TURN (state.pyx); the rest wait, with reading paused, for a
later turn.

Timeouts (keep-alive idle, head read) are checked by the server's once-a-second tick, not by a
timer per request: a connection records the tick at which it became idle or began a head.
"""

cimport cython
from fastasgi._parser cimport RequestParser, RequestHead
from fastasgi._response_fields cimport error_response
from fastasgi._serializer cimport ResponseEncoder
from fastasgi.protocols.connection cimport Connection, extensions_for
from fastasgi.protocols.cycle cimport (
    CycleOwner, HIGH_WATER, NOT_STARTED, RequestCycle, SENDING)
from fastasgi.protocols.metrics cimport RequestMetrics
from fastasgi.protocols.state cimport ServerState

import logging
from time import perf_counter

from fastasgi._parser import HTTPParseError, NEED_DATA as _NEED_DATA, END_OF_MESSAGE as _END
from fastasgi.logging import TRACE as _TRACE
from fastasgi.protocols.connection import WRITE_STALL_TICKS
from fastasgi.protocols.cycle import run_app
from fastasgi.protocols.h2 import SWITCHING_PROTOCOLS, prepare_h2c_upgrade, switch_to_h2
from fastasgi._h2frames import PREFACE as _PREFACE

# C-level references: compared by identity for every parser event.
cdef object NEED_DATA = _NEED_DATA
cdef object END_OF_MESSAGE = _END

# Pipelined requests one connection starts in one turn of the event loop. A request's task
# starts eagerly (state.start_app): an app that does not wait finishes inside data_received, and
# the next request starts at once: a read of 64 KiB of pipelined GETs would be 1,700 requests
# served while every other connection waits. The rest waits for a later turn, with reading
# paused meanwhile.
# Above the 16-deep pipelining benchmarks, so that one read of theirs still goes out in one turn.
cdef enum:
    REQUESTS_PER_TURN = 32

cdef object logger = logging.getLogger("fastasgi.error")

cdef int TRACE = _TRACE

# Bytes held for write_soon before they are written at once: a bound on the outbox, and more
# than enough for the pieces of a turn to share one write.
cdef enum:
    OUTBOX_LIMIT = 65536

# RFC 9113 §3.4: what an HTTP/2 client with prior knowledge sends first.
cdef bytes PREFACE = _PREFACE
cdef Py_ssize_t PREFACE_SIZE = len(_PREFACE)


@cython.final
cdef class HTTPProtocol(CycleOwner):
    """One HTTP/1.1 connection (its fields are declared in http.pxd)."""

    def __init__(self, ServerState state not None):
        Connection.__init__(self, state)
        self.parser = RequestParser(state.settings.http)
        self.encoder = ResponseEncoder(state.settings.response)
        self.outbox = []

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
                if started >= REQUESTS_PER_TURN or not self.state.http_requests.left:
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
        state.http_requests.spend(1)
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
        task = state.start_app(coro)
        if not task.done():
            cycle.task = task
            state.tasks.add(task)

    cdef void switch_to_websocket(self, RequestHead head):
        """Hand the transport to a WebSocket connection, with whatever bytes follow the head."""
        self.flush()
        self.closed = True  # this protocol is done with the transport
        self.state.connections.discard(self)
        self.cycle = None
        # NOTE: imported at the first upgrade, not with this module: the WebSocket modules hold
        # 2 MB of a worker's memory, which a server that is never asked to upgrade can keep.
        from fastasgi.protocols.websocket import WebSocketProtocol
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
        self.flush()
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
            # A client that said this request was its last sends no other (RFC 9112 §9.6):
            # once all of it was read, nothing can follow to make our close reset the response,
            # so no half-close and no wait for its FIN (two system calls and a wake-up less per
            # connection of a Connection: close client).
            self.peer_done = (not cycle.head.keep_alive and cycle.body_complete
                              and self.parser.buffered_bytes() == 0)
            self.close_gracefully()
            return
        # Reset now, not when the next request comes: an idle connection then holds none of
        # this response (the app's header list stays referenced for the access log until here).
        self.encoder.reset()
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
        self.flush()  # what the app sent before it failed still reaches the client
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

    # Every write goes out in order: what waits in the outbox goes first, in the same call.

    cdef void write(self, bytes data):
        cdef RequestMetrics metrics
        if not self.closed:
            metrics = self.state.metrics
            if metrics is not None:
                metrics.sent_bytes += len(data)
            if self.outbox:
                self.outbox.append(data)
                self.flush()
            else:
                self.transport.write(data)

    cdef void write_pieces(self, tuple pieces, Py_ssize_t size):
        """One writev for a large body between its framing, which the encoder did not copy,
        timed for the server's write budget (write_budget.pyx)."""
        cdef RequestMetrics metrics
        if not self.closed:
            metrics = self.state.metrics
            if metrics is not None:
                metrics.sent_bytes += size
            if self.outbox:
                pieces = (b"".join(self.outbox),) + pieces
                size += self.outbox_size
                self.outbox = []
                self.outbox_size = 0
            self.state.large_writes.write_measured(self.transport, pieces, size)

    cdef void write_soon(self, bytes data):
        """Write ``data`` at the end of this turn of the event loop, together with whatever else
        is written until then: the pieces an app streams without waiting, and the responses to
        pipelined requests, go out in one write instead of one each."""
        cdef RequestMetrics metrics
        if self.closed:
            return
        metrics = self.state.metrics
        if metrics is not None:
            metrics.sent_bytes += len(data)
        self.outbox.append(data)
        self.outbox_size += len(data)
        if self.outbox_size >= OUTBOX_LIMIT:
            self.flush()
        elif self.flush_handle is None:
            self.flush_handle = self.loop.call_soon(self.flush_outbox)

    cdef void write_last(self, bytes data):
        """The end of a response: at once, unless a pipelined request waits, whose response may
        join it (a lone response is never delayed)."""
        if self.parser.buffered_bytes():
            self.write_soon(data)
        else:
            self.write(data)

    cdef void flush(self):
        cdef list outbox = self.outbox
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
        if not outbox:
            return
        self.outbox = []
        self.outbox_size = 0
        if not self.closed:
            self.transport.write(<bytes>outbox[0] if len(outbox) == 1 else b"".join(outbox))

    def flush_outbox(self):
        self.flush_handle = None
        self.flush()

    cpdef void close_gracefully(self):
        self.flush()
        Connection.close_gracefully(self)
