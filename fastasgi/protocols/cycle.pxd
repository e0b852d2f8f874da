# cython: language_level=3

cimport cython

from fastasgi._parser cimport RequestHead
from fastasgi._serializer cimport ResponseEncoder
from fastasgi.protocols.connection cimport Connection


# Body bytes queued for the app, plus unparsed bytes of pipelined requests, before reading pauses.
cdef enum:
    HIGH_WATER = 65536


cdef class CycleOwner


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
    cdef CycleOwner protocol
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
    cdef object body_encoded(self, object out, Py_ssize_t size, bint more)  # a body message's bytes
    cdef void respond_error(self, int status, str message)
    cdef void log_access(self)
    cdef void count_finished(self, int status)
    cdef void forget_task(self)
    cdef void app_returned(self)
    cdef void abandoned(self)
    cdef void app_failed(self, exc)


cdef class CycleOwner(Connection):
    cdef void pump(self)                                # pull more of the request, if there is room
    cdef void cycle_finished(self, RequestCycle cycle)  # the response is complete
    cdef void abort(self)                               # cut the connection; the cycle is told
    cdef void write(self, bytes data)                   # to the client, unless closed
    cdef void write_pieces(self, tuple pieces, Py_ssize_t size)  # the same, ``size`` bytes in pieces
    cdef void write_soon(self, bytes data)              # the same, by the end of this loop turn
    cdef void write_last(self, bytes data)              # a response's end: at once, or with the next
