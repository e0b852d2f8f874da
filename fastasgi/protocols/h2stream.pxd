# cython: language_level=3

cimport cython

from fastasgi._h2connection cimport H2Connection
from fastasgi._parser cimport RequestHead
from fastasgi.protocols.connection cimport Connection


# How far the response has gone.
cdef enum Response:
    NOT_STARTED = 0   # no http.response.start yet
    STARTED = 1       # started; the head waits for the first body message
    SENDING = 2       # the head went out
    TRAILING = 3      # the body is complete; the trailers the app promised are still owed
    COMPLETE = 4      # all of it went out (or the server answered in the app's place)


cpdef tuple request_head(list fields)
cpdef void open_stream(Connection protocol, unsigned int stream_id, RequestHead head,
                       bint end_stream, object content_length)


@cython.final
cdef class H2Stream:
    cdef readonly Connection protocol      # the H2Protocol
    cdef H2Connection conn                 # its sans-I/O core
    cdef readonly unsigned int stream_id
    cdef readonly RequestHead head
    cdef bint head_request
    cdef object content_length             # from the request (int or None), checked on DATA
    cdef long long received                # body octets received
    cdef list body                         # received, not yet handed to receive()
    cdef long long unacknowledged          # flow-controlled octets not given back yet
    cdef readonly bint body_complete
    cdef bint body_delivered
    cdef readonly bint disconnected        # reset or connection gone: send() raises
    cdef Response response
    cdef readonly int status_sent
    cdef readonly list headers             # the response's field section
    cdef bint trailers_promised            # http.response.start said trailers follow
    cdef list trailer_fields
    cdef readonly long long bytes_sent
    cdef readonly object receive_waiter
    cdef readonly long receive_since       # tick at which receive() began to wait
    cdef readonly object window_waiter
    cdef readonly long window_since        # tick at which send() began to wait for a window
    cdef public object task
    cdef public double started_at
    cdef bint logged

    cpdef void add_body(self, bytes data, long long flow_controlled_length, bint end_stream)
    cpdef void end_body(self)
    cpdef void disconnect(self)
    cpdef void window_opened(self)
    cdef void give_back_window(self)
    cdef dict next_body_message(self)
    cdef object finish_body(self, bint end, bint more)
    cdef object send_extension(self, object kind, dict message)
    cdef void send_head(self, bint end_stream)
    cdef void send_fields(self, list fields, bint end_stream)
    cdef Py_ssize_t send_body_now(self, object body, bint end_stream) except -2
    cdef void complete(self)
    cpdef void respond_error(self, int status)
    cdef void log_access(self)
    cdef void app_ended(self, exc)
