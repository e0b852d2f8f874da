# cython: language_level=3
"""Interface of the sans-I/O HTTP/1.1 response serializer, for Cython callers.

A Cython protocol layer cimports ``ResponseEncoder`` and calls ``c_start`` / ``c_body`` directly;
the Python methods ``start`` / ``body`` are thin wrappers around them."""

cdef enum ResponseFraming:
    FRAME_UNDECIDED = 0   # the app gave neither Content-Length nor chunked: the first body() decides
    FRAME_NONE = 1        # no body bytes on the wire: HEAD, 1xx, 204, 304
    FRAME_LENGTH = 2      # Content-Length
    FRAME_CHUNKED = 3     # Transfer-Encoding: chunked
    FRAME_CLOSE = 4       # HTTP/1.0 with unknown length: the body ends when the connection closes


cdef enum:
    # A body piece of at least this many bytes is not copied behind its head or chunk framing:
    # c_body hands back the pieces for one writev (transport.writelines). Measured, the copy
    # adds 0.1 µs at 16 KiB, 1.5 µs at 64 KiB and 73 µs at 1 MiB (a buffer that large is fresh
    # memory, paid for in page faults). The server's write budget (protocols/write_budget.pyx)
    # counts writes from this size on, whatever the protocol.
    COPY_LIMIT = 32768


cdef class ResponseEncoder:
    # what the protocol layer reads
    cdef readonly bint keep_alive         # final once the first body() returned
    cdef readonly int status
    cdef readonly long long bytes_sent    # body bytes framed so far (not counting chunk framing)
    cdef readonly bint started
    cdef readonly bint complete
    cdef readonly object headers          # the app's headers as given to c_start (access log)

    # configuration, fixed by __init__
    cdef bint _add_date
    cdef bytes _server_line               # b"server: ...\r\n", or None
    cdef tuple _default_names             # lowercased names, bytes
    cdef tuple _default_lines             # b"name: value\r\n", same order
    cdef Py_ssize_t _n_defaults           # at most 64: one bit each in _defaults_sent

    # the head: self._buf[:self._len] is built by c_start and goes out with the first c_body;
    # the buffer is taken from a shared pool for that span only (NULL between responses)
    cdef char *_buf
    cdef Py_ssize_t _cap
    cdef Py_ssize_t _len
    cdef bint _head_pending

    # facts about the current response, set by c_start
    cdef bint _http11
    cdef bint _informational              # 1xx
    cdef int _framing                     # a ResponseFraming
    cdef long long _declared_length       # the app's Content-Length, -1 if none
    cdef long long _remaining             # FRAME_LENGTH: body bytes still owed
    cdef bint _app_chunked
    cdef bint _app_date
    cdef bint _app_server
    cdef bint _app_close                  # the app sent "connection: close"
    cdef bint _app_keep_alive             # the app sent "connection: keep-alive"
    cdef bint _trailers                   # trailer fields follow the last chunk (c_promise_trailers)
    cdef unsigned long long _defaults_sent

    cpdef reset(self)
    cdef int c_start(self, int status, object headers, bint head_request, bint http11,
                     bint keep_alive) except -1
    # bytes, or for a body piece of COPY_LIMIT bytes or more, a tuple of the pieces to write in
    # order, the piece itself among them (not copied)
    cdef object c_body(self, object data, bint more_body)
    cdef bint c_promise_trailers(self) except -1
    cdef bytes c_file_head(self, long long size)
    cdef bytes c_trailers(self, object fields)

    cdef int _reserve(self, Py_ssize_t extra) except -1
    cdef int _append(self, const char *data, Py_ssize_t n) except -1
    cdef void _release_buffer(self) noexcept
    cdef int _add_app_header(self, object item, bint drop_framing) except -1
    cdef int _write_tail(self, int framing, long long length) except -1
    cdef tuple _pieces(self, int framing, long long length, object data, Py_ssize_t n, bint last)
