# cython: language_level=3
"""Interface of the HTTP/2 request field checks, for the connection."""

# Why the field section breaks RFC 9113 §8.2-8.3 (names, values, pseudo-headers, connection-
# specific fields), or None.
cdef str malformed(list headers, bint trailers)
# Why a request (not CONNECT) is malformed beyond the field rules (§8.1.1, §8.3.1), or None.
cdef str invalid_request(list headers, bint end_stream)
