# cython: language_level=3

cimport cython

from fastasgi._parser cimport RequestHead, RequestParser
from fastasgi._serializer cimport ResponseEncoder
from fastasgi.protocols.connection cimport Connection


# What the connection is waiting for; the tick's timeouts depend on it.
cdef enum Phase:
    IDLE = 0        # between requests, nothing buffered: keep-alive timeout applies
    READING = 1     # a head has begun: header-read timeout applies
    ACTIVE = 2      # a request is running: no timeout here (the app decides)


@cython.final
cdef class HTTPProtocol(Connection):
    cdef RequestParser parser
    cdef ResponseEncoder encoder
    cdef RequestCycle cycle    # the request being served, or None
    cdef bint pumping          # pump() is on the stack: re-entry returns at once
    cdef bint deferred         # pipelined requests wait for a later turn (REQUESTS_PER_TURN)
    cdef bint served           # at least one request started on this connection
    cdef Phase phase
    cdef long since            # tick at which the current phase began
    cdef long last_data        # tick of the latest bytes from the client
    cdef bint sniffing         # HTTP/2 is on and no byte came yet: look for its preface
    cdef bytes preface_part    # the start of the preface, while it arrives in pieces

    cdef void pump(self)
    cdef void pull_events(self)
    cdef void defer(self)
    cdef void update_reading(self)
    cdef void start_cycle(self, RequestHead head)
    cdef void run_cycle(self, RequestCycle cycle)
    cdef void switch_to_websocket(self, RequestHead head)
    cdef object sniff_preface(self, object data)
    cdef void switch_to_h2c(self, object h2, RequestHead head)
    cdef void cycle_finished(self, RequestCycle cycle)
    cdef void reject(self, int status, str message)
    cdef void body_failed(self, RequestCycle cycle, int status, str message)
    cdef void abort(self)
    cdef bint body_stalled(self, long tick)
    cdef void write(self, bytes data)
    cpdef void on_tick(self, long tick)
    cpdef void shutdown(self)
    cpdef void force_close(self)


# How far the response has gone.
cdef enum Response:
    NOT_STARTED = 0   # the app has not sent http.response.start
    STARTED = 1       # started; the head waits for the first body message
    SENDING = 2       # bytes of it reached the transport
    TRAILING = 3      # the body is complete; the trailers the app promised are still owed
    COMPLETE = 4      # all of it went out (or the server answered in the app's place)


@cython.final
cdef class RequestCycle:
    """One request: its body queue, the app's receive/send, and the response state."""
    cdef HTTPProtocol protocol
    cdef RequestHead head
    cdef ResponseEncoder encoder
    cdef list body             # body pieces not yet handed to receive()
    cdef Py_ssize_t queued     # bytes in ``body``
    cdef bint body_complete    # the parser saw the end of the request body
    cdef bint body_delivered   # receive() returned the last body message
    cdef bint expect_continue  # "100 Continue" is still owed once the app wants the body
    cdef bint keep_alive       # the connection may serve another request after this one
    cdef bint running          # the app was started (it may have finished already)
    cdef Response response
    cdef bint disconnected     # the client is gone: receive() says so, send() raises
    cdef bint client_done      # the client half-closed: receive() says http.disconnect
    cdef int status_sent       # the status that went out, by the app or in its place
    cdef object receive_waiter
    cdef long waiting_since    # tick at which receive() began to wait
    cdef object task
    cdef dict scope
    cdef double started_at     # perf_counter() at the head, read only when state.requests_timed
    cdef bint trailers_promised  # http.response.start said trailers will follow the body
    cdef list trailer_fields   # trailers given with more_trailers, not yet written

    cdef void add_body(self, bytes piece)
    cdef void end_body(self)
    cdef void disconnect(self)
    cdef void client_finished(self)
    cdef void wake_receiver(self)
    cdef dict next_body_message(self)
    cdef void complete(self)
    cdef object send_extension(self, object kind, dict message)
    cdef void respond_error(self, int status, str message)
    cdef void log_access(self)
    cdef void count_finished(self, int status)
    cdef void forget_task(self)
    cdef void app_returned(self)
    cdef void abandoned(self)
    cdef void app_failed(self, exc)
