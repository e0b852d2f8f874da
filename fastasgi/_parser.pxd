# cython: language_level=3
"""Interface of the sans-I/O HTTP/1.1 request parser, for Cython callers."""

from fastasgi._chunked cimport ChunkedDecoder
from fastasgi._head cimport RequestHead   # the protocol layer cimports RequestHead from here

cdef class RequestParser:
    # The interface the protocol layer uses: feed, next_event, take_buffered,
    # take_end_of_message, buffered_bytes. Every other member is private to _parser.pyx.
    cpdef feed(self, data)
    cpdef object next_event(self)
    cpdef bytes take_buffered(self)
    cpdef take_end_of_message(self)

    cdef inline Py_ssize_t buffered_bytes(self) noexcept:
        """Bytes fed but not yet consumed by next_event()."""
        return self._end - self._pos

    # private: limits
    cdef Py_ssize_t max_request_line
    cdef Py_ssize_t max_header_bytes
    cdef Py_ssize_t max_headers
    cdef long long max_body_size

    # private: input, self._buf[self._pos:self._end] is what has not been consumed yet
    cdef object _buf                      # bytes, or bytearray once input had to be joined
    cdef const char *_data
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _end

    cdef int _state
    cdef object _error
    # head scanning, relative to _pos (the head is consumed only once complete)
    cdef Py_ssize_t _scanned
    cdef Py_ssize_t _line_start
    cdef Py_ssize_t _lines
    cdef int _empty_lines
    # body
    cdef long long _remaining             # Content-Length bytes still to come
    cdef ChunkedDecoder _chunked          # the chunked body's state, re-armed for each one
    # the field lines of the connection's previous requests, for _head.read_head to reuse
    cdef list _recent_fields

    cdef object _fail(self, type cls, str message)
    cdef object _parse_head(self)
    cdef int _check_method_prefix(self, const char *base, Py_ssize_t avail) except -1
    cdef RequestHead _read_head(self, const char *base, Py_ssize_t head_len,
                                Py_ssize_t field_lines)
    cdef object _take(self, Py_ssize_t n)
    cdef object _body_length(self)
    cdef object _chunked_body(self)
