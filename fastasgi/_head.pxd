# cython: language_level=3
"""Interface of reading a complete request head (RFC 9112 §3, §5, §6), for the parser."""

cdef enum BodyFraming:
    FRAMING_NONE = 0
    FRAMING_LENGTH = 1
    FRAMING_CHUNKED = 2


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


cdef enum HeadErrorKind:
    # HeadError's first argument; the parser maps each to its public exception
    HEAD_INVALID = 0                  # 400
    HEAD_METHOD_NOT_IMPLEMENTED = 1   # 501: CONNECT
    HEAD_UNSUPPORTED_CODING = 2       # 501: a transfer coding before chunked
    HEAD_UNSUPPORTED_VERSION = 3      # 505
    HEAD_HTTP2_PREFACE = 4            # 505: "PRI * HTTP/2.0"


cdef list new_field_memory()
cdef RequestHead read_head(const char *base, Py_ssize_t head_len, Py_ssize_t field_lines,
                           list recent)
