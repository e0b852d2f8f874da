# cython: language_level=3
"""The bytes that frame a response body, written into the caller's buffer: a Content-Length value
in decimal (RFC 9112 §6.2) and chunks (RFC 9112 §7.1).

Inline, so the serializer's hot path calls nothing across modules. The caller reserves the room
first: ``chunked_size`` bytes for ``write_chunk``, 20 for ``write_decimal``."""

from libc.string cimport memcpy


cdef inline char *write_decimal(char *out, unsigned long long value) noexcept:
    """Write value in decimal at out; return the end of what was written."""
    cdef char digits[20]
    cdef int n = 0
    while True:
        digits[n] = <char>(0x30 + value % 10)
        n += 1
        value //= 10
        if value == 0:
            break
    while n:
        n -= 1
        out[0] = digits[n]
        out += 1
    return out


cdef inline int hex_digits(unsigned long long value) noexcept:
    cdef int n = 1
    while value >= 16:
        value >>= 4
        n += 1
    return n


cdef inline char *write_chunk(char *out, const char *data, Py_ssize_t n, bint last) noexcept:
    """RFC 9112 §7.1: ``<hex size>CRLF<data>CRLF`` for a non-empty piece, ``0CRLF CRLF`` to end."""
    cdef const char *hex = b"0123456789abcdef"
    cdef int digits, i
    if n:
        digits = hex_digits(n)
        for i in range(digits):
            out[digits - 1 - i] = hex[(n >> (4 * i)) & 0xF]
        out += digits
        out[0] = b'\r'
        out[1] = b'\n'
        memcpy(out + 2, data, n)
        out += n + 2
        out[0] = b'\r'
        out[1] = b'\n'
        out += 2
    if last:
        memcpy(out, b"0\r\n\r\n", 5)
        out += 5
    return out


cdef inline Py_ssize_t chunked_size(Py_ssize_t n, bint last) noexcept:
    """The bytes write_chunk() writes for the same arguments."""
    cdef Py_ssize_t size = hex_digits(n) + 4 + n if n else 0
    return size + 5 if last else size
