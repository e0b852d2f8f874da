# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Decoder of the chunked transfer coding of a request body (RFC 9112 §7.1).

    chunked-body = *chunk last-chunk trailer-section CRLF
    chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF

The decoder owns no input. Its driver (``RequestParser``) keeps the bytes and passes the
unconsumed part to ``step`` as a pointer and a length; ``step`` consumes framing and says how many
chunk-data bytes follow it. Errors are reported as a kind and a message, not raised: the driver
decides which exception each kind is, so this module depends on nothing of the parser's.

Invariants:
- Any split of the input gives the same data and the same error: a chunk-size line and a trailer
  line are read only once their LF is here, and each limit is checked on the bytes present as if
  they had come one at a time.
- Strict: every line ends with CRLF (bare LF and bare CR are errors), BWS is allowed only before
  ";" in chunk extensions, extension names and values must be tokens or quoted strings, and a
  trailer field must be a token, a colon and a valid value. Trailer fields are checked and dropped
  (ASGI has no request trailers).
- Sizes never overflow: leading zeros are skipped and at most 15 significant hex digits are read.
  ``max_body_size`` (0 = none) bounds the sum of the chunk sizes, checked at each chunk-size line,
  before its data arrives; ``max_trailer_bytes`` bounds the trailer section.
- After an error every ``step`` reports it again.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.string cimport memchr

from fastasgi._chars cimport fill_hex, fill_token, fill_value


cdef enum:
    MAX_CHUNK_LINE = 4096         # chunk-size line with its extensions
    MAX_CHUNK_SIZE_DIGITS = 15    # significant hex digits: 15 always fit a signed 64-bit size


# Python names of the events and error kinds, for callers of decode().
NEED_DATA = CHUNK_NEED_DATA
DATA = CHUNK_DATA
END = CHUNK_END
ERROR = CHUNK_ERROR
INVALID = CHUNK_INVALID
SIZE_TOO_LONG = CHUNK_SIZE_TOO_LONG
BODY_TOO_LARGE = CHUNK_BODY_TOO_LARGE
TRAILERS_TOO_LARGE = CHUNK_TRAILERS_TOO_LARGE


cdef unsigned char TOKEN[256]       # tchar (RFC 9110 §5.6.2)
cdef unsigned char VALUE[256]       # field-vchar / obs-text / SP / HTAB (RFC 9110 §5.5)
cdef signed char HEX[256]


cdef void _init_tables():
    fill_token(TOKEN)
    fill_value(VALUE)
    fill_hex(HEX)


_init_tables()


cdef inline bint _is_ows(unsigned char c) noexcept:
    return c == b' ' or c == b'\t'


@cython.final
cdef class ChunkedDecoder:
    """The state of one chunked body between calls; ``start()`` re-arms it for the next one."""

    def __cinit__(self, long long max_body_size, Py_ssize_t max_trailer_bytes):
        self.max_body_size = max_body_size
        self.max_trailer_bytes = max_trailer_bytes
        self.start()

    def decode(self, data):
        """``step`` for Python callers: (event, consumed, data_len) for the unconsumed input."""
        cdef bytes b = bytes(data)
        cdef Py_ssize_t consumed, data_len
        cdef ChunkedEvent event = self.step(<const unsigned char *>PyBytes_AS_STRING(b),
                                            PyBytes_GET_SIZE(b), &consumed, &data_len)
        return event, consumed, data_len

    cdef void start(self) noexcept:
        self._phase = PHASE_SIZE
        self._remaining = 0
        self._body_seen = 0
        self._trailer_bytes = 0
        self.error_kind = CHUNK_OK
        self.error_message = None

    cdef Py_ssize_t _size_line(self, const unsigned char *s, Py_ssize_t avail) noexcept:
        # chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1)
        cdef Py_ssize_t i = 0, k, digits, zeros
        cdef long long size = 0
        while i < avail and s[i] == b'0':
            i += 1
        zeros = i
        while i < avail and HEX[s[i]] >= 0:
            i += 1
        digits = i
        # Leading zeros say nothing: the size is read by value, and only a value that could
        # overflow is refused.
        if digits - zeros > MAX_CHUNK_SIZE_DIGITS:
            return self._fail(CHUNK_SIZE_TOO_LONG, "chunk size has too many digits")
        if i == avail:
            if avail > MAX_CHUNK_LINE:
                return self._fail(CHUNK_INVALID, "chunk size line too long")
            return -1
        if digits == 0:
            return self._fail(CHUNK_INVALID, "invalid chunk size")
        i = self._chunk_ext(s, i, avail)
        if i == -2:
            return -2
        if i == -1:
            if avail > MAX_CHUNK_LINE:
                return self._fail(CHUNK_INVALID, "chunk extensions too long")
            return -1
        for k in range(zeros, digits):
            size = size * 16 + HEX[s[k]]
        self._body_seen += size
        if self.max_body_size and self._body_seen > self.max_body_size:
            return self._fail(CHUNK_BODY_TOO_LARGE, "request body too large")
        if size == 0:
            self._phase = PHASE_TRAILERS
            self._trailer_bytes = 0
        else:
            self._remaining = size
            self._phase = PHASE_DATA
        return i

    cdef Py_ssize_t _chunk_ext(self, const unsigned char *s, Py_ssize_t i,
                               Py_ssize_t avail) noexcept:
        """Check the chunk extensions after the size; the offset after the line's CRLF.

        chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )"""
        cdef Py_ssize_t limit = avail if avail < MAX_CHUNK_LINE else MAX_CHUNK_LINE
        cdef Py_ssize_t ows, name_end
        cdef bint after_size = True
        while True:
            ows = i
            while i < limit and _is_ows(s[i]):
                i += 1
            if i >= limit:
                return -1
            if s[i] == b'\r':
                if i > ows:
                    # BWS is allowed only before ";" (RFC 9112 §7.1.1): "5 \r\n" is not a size.
                    return self._fail(CHUNK_INVALID, "whitespace at the end of the chunk size line")
                if i + 1 >= avail:
                    return -1
                if s[i + 1] != b'\n':
                    return self._fail(CHUNK_INVALID, "bare CR in chunk size line")
                return i + 2
            if s[i] != b';':
                if s[i] == b'\n':
                    return self._fail(CHUNK_INVALID, "bare LF in chunk size line")
                if after_size:
                    return self._fail(CHUNK_INVALID, "invalid chunk size")
                return self._fail(CHUNK_INVALID, "invalid chunk extension")
            after_size = False
            i += 1
            while i < limit and _is_ows(s[i]):
                i += 1
            if i >= limit:
                return -1
            if not TOKEN[s[i]]:
                return self._fail(CHUNK_INVALID, "invalid chunk extension")
            while i < limit and TOKEN[s[i]]:
                i += 1
            name_end = i
            while i < limit and _is_ows(s[i]):
                i += 1
            if i >= limit:
                return -1
            if s[i] != b'=':
                i = name_end  # the whitespace is looked at again: before ";" only
                continue
            i += 1
            while i < limit and _is_ows(s[i]):
                i += 1
            if i >= limit:
                return -1
            if s[i] == b'"':
                i += 1
                while i < limit and s[i] != b'"':
                    if s[i] == b'\\':
                        i += 1
                        if i < limit and not VALUE[s[i]]:
                            return self._fail(CHUNK_INVALID, "invalid chunk extension")
                    elif not VALUE[s[i]]:
                        return self._fail(CHUNK_INVALID, "invalid chunk extension")
                    i += 1
                if i >= limit:
                    return -1
                i += 1
            elif TOKEN[s[i]]:
                while i < limit and TOKEN[s[i]]:
                    i += 1
            else:
                return self._fail(CHUNK_INVALID, "invalid chunk extension")

    cdef Py_ssize_t _trailer_line(self, const unsigned char *s, Py_ssize_t avail) noexcept:
        """One line of the trailer section, checked and dropped; the empty line ends the body."""
        cdef const char *lf_ptr = <const char *>memchr(s, b'\n', avail) if avail else NULL
        cdef Py_ssize_t lf, i
        if lf_ptr == NULL:
            if self._trailer_bytes + avail > self.max_trailer_bytes:
                return self._fail(CHUNK_TRAILERS_TOO_LARGE, "trailer section too large")
            return -1
        lf = lf_ptr - <const char *>s
        if self._trailer_bytes + lf > self.max_trailer_bytes:
            return self._fail(CHUNK_TRAILERS_TOO_LARGE, "trailer section too large")
        if lf == 0 or s[lf - 1] != b'\r':
            return self._fail(CHUNK_INVALID, "bare LF in trailer section")
        self._trailer_bytes += lf + 1
        if self._trailer_bytes > self.max_trailer_bytes:
            return self._fail(CHUNK_TRAILERS_TOO_LARGE, "trailer section too large")
        if lf == 1:
            self._phase = PHASE_DONE
            return 2
        i = 0
        while TOKEN[s[i]]:  # stops at the LF at the latest
            i += 1
        if i == 0 or s[i] != b':':
            return self._fail(CHUNK_INVALID, "invalid trailer field")
        i += 1
        while i < lf - 1 and VALUE[s[i]]:
            i += 1
        if i != lf - 1:
            return self._fail(CHUNK_INVALID, "invalid character in trailer value")
        return lf + 1

    cdef Py_ssize_t _fail(self, ChunkedError kind, str message) noexcept:
        self.error_kind = kind
        self.error_message = message
        self._phase = PHASE_FAILED
        return -2
