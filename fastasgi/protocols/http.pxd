# cython: language_level=3

cimport cython

from fastasgi._parser cimport RequestHead, RequestParser
from fastasgi._serializer cimport ResponseEncoder
from fastasgi.protocols.cycle cimport CycleOwner, RequestCycle


# What the connection is waiting for; the tick's timeouts depend on it.
cdef enum Phase:
    IDLE = 0        # between requests, nothing buffered: keep-alive timeout applies
    READING = 1     # a head has begun: header-read timeout applies
    ACTIVE = 2      # a request is running: no timeout here (the app decides)


# pump, cycle_finished, abort and write are CycleOwner's (cycle.pxd), implemented here.
@cython.final
cdef class HTTPProtocol(CycleOwner):
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
    cdef list outbox           # bytes for write_soon, written together at the end of the turn
    cdef Py_ssize_t outbox_size
    cdef object flush_handle   # the call_soon that writes the outbox, or None

    cdef void pull_events(self)
    cdef void defer(self)
    cdef void update_reading(self)
    cdef void start_cycle(self, RequestHead head)
    cdef void run_cycle(self, RequestCycle cycle)
    cdef void switch_to_websocket(self, RequestHead head)
    cdef object sniff_preface(self, object data)
    cdef void switch_to_h2c(self, object h2, RequestHead head)
    cdef void reject(self, int status, str message)
    cdef void body_failed(self, RequestCycle cycle, int status, str message)
    cdef bint body_stalled(self, long tick)
    cdef void flush(self)
    cpdef void on_tick(self, long tick)
    cpdef void shutdown(self)
    cpdef void force_close(self)
