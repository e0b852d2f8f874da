# cython: language_level=3
"""Interface of the sans-I/O HTTP/1.1 request parser, for Cython callers."""

from fastasgi._chunked cimport ChunkedDecoder

cdef enum BodyFraming:
    FRAMING_NONE = 0
    FRAMING_LENGTH = 1
    FRAMING_CHUNKED = 2


cdef struct FieldFacts:
    # private: what a head's field lines say about its message, for the framing step
    bint conn_close
    bint conn_keep_alive
    bint conn_upgrade
    bint has_length
    bint chunked
    bint te_seen
    bint te_unknown               # a transfer coding other than chunked
    long long length


cdef class RequestHead:
    cdef readonly str method
    cdef readonly bytes target
    cdef readonly str path
    cdef readonly bytes raw_path
    cdef readonly bytes query_string
    cdef readonly str http_version
    cdef readonly list headers
    cdef readonly bint keep_alive
    cdef readonly object upgrade          # bytes or None
    cdef readonly bint expect_continue
    cdef readonly int body_framing
    cdef readonly long long content_length


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

    cdef object _fail(self, type cls, str message)
    cdef object _parse_head(self)
    cdef int _check_method_prefix(self, const char *base, Py_ssize_t avail) except -1
    cdef RequestHead _build_head(self, const char *base, Py_ssize_t head_len)
    cdef object _request_line(self, RequestHead head, const char *base, Py_ssize_t head_len,
                              Py_ssize_t *line_end_out)
    cdef int _field_lines(self, RequestHead head, const char *base, Py_ssize_t i,
                          Py_ssize_t head_len, object authority, FieldFacts *facts) except -1
    cdef int _framing(self, RequestHead head, FieldFacts *facts) except -1
    cdef object _take(self, Py_ssize_t n)
    cdef object _body_length(self)
    cdef int _check_coding_list(self, const char *v, Py_ssize_t n) except -1
    cdef object _chunked_body(self)
