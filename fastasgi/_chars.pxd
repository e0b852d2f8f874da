# cython: language_level=3
"""Character classes shared by the request parser and the response serializer.

RFC 9110 §5.6.2 (tchar) and §5.5 (field-vchar, obs-text, SP, HTAB), and ASCII lowercasing.

NOTE: each module keeps its own 256-byte tables and fills them once at import with these
functions. A lookup in a module's own static array is one load; a table shared through Cython's
C API would add a pointer indirection to every byte of every header.
"""

cdef inline void fill_token(unsigned char *table) noexcept:
    """tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
    / "~" / DIGIT / ALPHA"""
    cdef int c
    for c in range(256):
        table[c] = 0
    for c in b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        table[c] = 1


cdef inline void fill_value(unsigned char *table) noexcept:
    """What may stand in a field value: VCHAR, obs-text, SP and HTAB."""
    cdef int c
    for c in range(256):
        table[c] = 0x21 <= c <= 0x7E or c >= 0x80 or c == 0x20 or c == 0x09


cdef inline void fill_lower(unsigned char *table) noexcept:
    cdef int c
    for c in range(256):
        table[c] = c + 32 if 0x41 <= c <= 0x5A else c


cdef inline void fill_hex(signed char *table) noexcept:
    """HEXDIG's value (RFC 5234 B.1, either case), -1 for any other byte."""
    cdef int c
    for c in range(256):
        table[c] = -1
    for c in range(10):
        table[0x30 + c] = c
    for c in range(6):
        table[0x61 + c] = 10 + c
        table[0x41 + c] = 10 + c
