# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Sans-I/O HTTP/1.1 request parser (RFC 9112).

Bytes go in through ``feed``; ``next_event`` hands out, in order, a ``RequestHead``, the body in
pieces as they arrive, and ``END_OF_MESSAGE``, then the next pipelined request. No sockets and no
event loop live here: the protocol layer decides when to feed and when to pull, and pulling less is
how it applies back-pressure.

Invariants:
- Strict by default. Everything RFC 9112 lets a server reject that request smuggling relies on is
  rejected: bare LF (decided once: a line ends with CRLF, everywhere: request line, fields, chunk
  lines, trailers), bare CR and other controls, obs-fold, whitespace before a field's colon,
  Content-Length together with Transfer-Encoding, conflicting or malformed Content-Length, and any
  Transfer-Encoding other than a single ``chunked``.
- After an error the parser is dead: every later call raises the same error, so no byte that follows
  a smuggling attempt can reach the application.
- The head is parsed only once it is complete (CRLF CRLF seen), in one pass over a C pointer
  (``read_head`` in _head.pyx); the incremental part here is a line scan with memchr that also
  enforces the size limits while bytes trickle. A chunked body is read by the ``ChunkedDecoder``
  (_chunked.pyx) the parser owns; both report errors to the parser, which alone raises them.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from libc.string cimport memchr

from fastasgi._chars cimport fill_token
from fastasgi._chunked cimport (
    ChunkedDecoder, ChunkedEvent, CHUNK_DATA, CHUNK_END, CHUNK_NEED_DATA, CHUNK_SIZE_TOO_LONG,
    CHUNK_BODY_TOO_LARGE, CHUNK_TRAILERS_TOO_LARGE,
)
from fastasgi._head cimport (
    FRAMING_CHUNKED, FRAMING_LENGTH, FRAMING_NONE, HEAD_HTTP2_PREFACE, HEAD_METHOD_NOT_IMPLEMENTED,
    HEAD_UNSUPPORTED_CODING, HEAD_UNSUPPORTED_VERSION, new_field_memory, read_head,
)
from fastasgi.settings cimport HTTPLimits

import fastasgi._head
from fastasgi._head import HeadError
from fastasgi._marker import Marker


# --- errors -----------------------------------------------------------------------------------

class HTTPParseError(Exception):
    """A request the server must refuse; ``status`` is the response status to answer with."""
    status = 400


class InvalidRequest(HTTPParseError):
    status = 400


class RequestLineTooLong(HTTPParseError):
    status = 414


class HeadersTooLarge(HTTPParseError):
    status = 431


class BodyTooLarge(HTTPParseError):
    status = 413


class ChunkSizeTooLong(InvalidRequest):
    status = 400


class UnsupportedTransferCoding(HTTPParseError):
    status = 501


class MethodNotImplemented(HTTPParseError):
    """A method longer than any we implement (RFC 9112 §3), or CONNECT: ASGI has no tunnels."""
    status = 501


class UnsupportedVersion(HTTPParseError):
    status = 505


class HTTP2Preface(UnsupportedVersion):
    status = 505


# --- events -----------------------------------------------------------------------------------

cdef object _NEED_DATA = Marker("NEED_DATA", __name__)
cdef object _END_OF_MESSAGE = Marker("END_OF_MESSAGE", __name__)
NEED_DATA = _NEED_DATA
END_OF_MESSAGE = _END_OF_MESSAGE

BODY_NONE = FRAMING_NONE
BODY_LENGTH = FRAMING_LENGTH
BODY_CHUNKED = FRAMING_CHUNKED

# NOTE: RequestHead is defined in _head.pyx but is the first event of this module's interface; a
# cimported type is not a module attribute by itself.
globals()["RequestHead"] = fastasgi._head.RequestHead

cdef bytes EMPTY = b""
cdef unsigned char TOKEN[256]       # tchar (RFC 9110 §5.6.2): what a method is made of
fill_token(TOKEN)


# --- the parser -------------------------------------------------------------------------------

cdef inline int _head_limit_broken(const char *head, Py_ssize_t n, bint request_line,
                                   Py_ssize_t max_line, Py_ssize_t max_head) noexcept nogil:
    """The status of the limit that the first n bytes of an unfinished head break first when they
    arrive one at a time (0 if none): the error must not depend on how the input was split.

    A request line is too long once it has more than max_line bytes that cannot be its CR."""
    cdef Py_ssize_t line_at = n + 1, head_at = n + 1
    if request_line and n > max_line:
        line_at = max_line + 1 if head[max_line] != b'\r' else max_line + 2
    if n > max_head:
        head_at = max_head + 1
    if line_at <= n and line_at <= head_at:
        return 414
    return 431 if head_at <= n else 0


cdef inline type _head_error_type(int kind):
    if kind == HEAD_METHOD_NOT_IMPLEMENTED:
        return MethodNotImplemented
    if kind == HEAD_UNSUPPORTED_CODING:
        return UnsupportedTransferCoding
    if kind == HEAD_UNSUPPORTED_VERSION:
        return UnsupportedVersion
    if kind == HEAD_HTTP2_PREFACE:
        return HTTP2Preface
    return InvalidRequest


cdef inline type _chunked_error_type(int kind):
    if kind == CHUNK_SIZE_TOO_LONG:
        return ChunkSizeTooLong
    if kind == CHUNK_BODY_TOO_LARGE:
        return BodyTooLarge
    if kind == CHUNK_TRAILERS_TOO_LARGE:
        return HeadersTooLarge
    return InvalidRequest


cdef enum State:
    S_HEAD = 0
    S_BODY_LENGTH = 1
    S_CHUNKED = 2                 # the ChunkedDecoder has the body
    S_MESSAGE_END = 3
    S_ERROR = 4

cdef enum:
    MAX_EMPTY_LINES = 8           # CRLFs tolerated before a request line (RFC 9112 §2.2)


@cython.final
cdef class RequestParser:
    """Incremental parser for the requests of one connection."""

    def __cinit__(self, HTTPLimits limits not None):
        self.max_request_line = limits.max_request_line
        self.max_header_bytes = limits.max_header_bytes
        self.max_headers = limits.max_headers
        self.max_body_size = limits.max_body_size
        self._buf = EMPTY
        self._data = PyBytes_AS_STRING(EMPTY)
        self._state = S_HEAD
        self._recent_fields = new_field_memory()

    @property
    def buffered(self):
        return self.buffered_bytes()

    @property
    def in_body(self):
        return S_BODY_LENGTH <= self._state <= S_MESSAGE_END

    cpdef feed(self, data):
        cdef Py_ssize_t n, pending
        if self._state == S_ERROR:
            raise self._error
        if type(data) is not bytes:
            data = bytes(data)
        n = PyBytes_GET_SIZE(data)
        if n == 0:
            return
        pending = self._end - self._pos
        if pending == 0:
            # NOTE: the common case, a whole request per read, parses the caller's object in place.
            self._buf = data
            self._data = PyBytes_AS_STRING(data)
            self._pos = 0
            self._end = n
            return
        if type(self._buf) is bytes:
            self._buf = bytearray(self._data[self._pos:self._end])
        elif self._pos:
            del self._buf[:self._pos]
        self._buf += data
        self._pos = 0
        self._end = PyByteArray_GET_SIZE(self._buf)
        self._data = PyByteArray_AS_STRING(self._buf)

    cpdef bytes take_buffered(self):
        cdef bytes rest = self._data[self._pos:self._end]
        self._buf = EMPTY
        self._data = PyBytes_AS_STRING(EMPTY)
        self._pos = self._end = 0
        self._scanned = self._line_start = self._lines = 0
        return rest

    cpdef object next_event(self):
        cdef int state = self._state
        if state == S_HEAD:
            return self._parse_head()
        if state == S_BODY_LENGTH:
            return self._body_length()
        if state == S_CHUNKED:
            return self._chunked_body()
        if state == S_MESSAGE_END:
            self._state = S_HEAD
            return _END_OF_MESSAGE
        raise self._error

    cpdef take_end_of_message(self):
        """Consume the END_OF_MESSAGE of a request that has no body, which must be next: the
        protocol finishes such a request as soon as it has its head."""
        if self._state != S_MESSAGE_END:
            raise RuntimeError("END_OF_MESSAGE is not the next event")
        self._state = S_HEAD

    cdef object _fail(self, type cls, str message):
        self._error = cls(message)
        self._state = S_ERROR
        self._buf = EMPTY
        self._data = PyBytes_AS_STRING(EMPTY)
        self._pos = self._end = 0
        return self._error

    cdef object _take(self, Py_ssize_t n):
        """Consume n bytes as a body piece; the caller's own object when it is the whole input."""
        cdef object piece
        if self._pos == 0 and n == self._end and type(self._buf) is bytes:
            piece = self._buf
        else:
            piece = PyBytes_FromStringAndSize(self._data + self._pos, n)
        self._pos += n
        if self._pos == self._end:
            self._buf = EMPTY
            self._data = PyBytes_AS_STRING(EMPTY)
            self._pos = self._end = 0
        return piece

    # -- head ------------------------------------------------------------------------------

    cdef object _parse_head(self):
        cdef const char *base
        cdef const char *lf_ptr
        cdef Py_ssize_t avail, lf, line_len
        cdef int broken
        cdef RequestHead head
        while True:
            base = self._data + self._pos
            avail = self._end - self._pos
            if avail - self._scanned <= 0:
                lf_ptr = NULL
            else:
                lf_ptr = <const char *>memchr(base + self._scanned, b'\n', avail - self._scanned)
            if self._lines == 0:
                self._check_method_prefix(base, avail if lf_ptr == NULL else lf_ptr - base + 1)
            # The limits apply to the bytes before an LF first, as if that LF had not arrived yet.
            broken = _head_limit_broken(base, avail if lf_ptr == NULL else lf_ptr - base,
                                        self._lines == 0, self.max_request_line,
                                        self.max_header_bytes)
            if broken == 414:
                if memchr(base, b' ', self.max_request_line) == NULL:
                    raise self._fail(MethodNotImplemented, "method too long")
                raise self._fail(RequestLineTooLong, "request line too long")
            if broken:
                raise self._fail(HeadersTooLarge, "request head too large")
            if lf_ptr == NULL:
                self._scanned = avail
                return _NEED_DATA
            lf = lf_ptr - base
            if lf == 0 or base[lf - 1] != b'\r':
                raise self._fail(InvalidRequest, "bare LF in request head (lines end with CRLF)")
            line_len = lf - 1 - self._line_start
            if lf + 1 > self.max_header_bytes:
                raise self._fail(HeadersTooLarge, "request head too large")
            if self._lines == 0:
                if line_len == 0:
                    # An empty line before the request line: skip it (RFC 9112 §2.2).
                    self._empty_lines += 1
                    if self._empty_lines > MAX_EMPTY_LINES:
                        raise self._fail(InvalidRequest, "too many empty lines before request line")
                    self._pos += 2
                    self._scanned = 0
                    continue
            elif line_len == 0:
                head = self._read_head(base, lf + 1, self._lines - 1)
                self._pos += lf + 1
                if self._pos == self._end:
                    self._buf = EMPTY
                    self._data = PyBytes_AS_STRING(EMPTY)
                    self._pos = self._end = 0
                self._scanned = self._line_start = self._lines = 0
                self._empty_lines = 0
                return head
            elif self._lines > self.max_headers:
                raise self._fail(HeadersTooLarge, "too many header fields")
            self._lines += 1
            self._line_start = self._scanned = lf + 1

    cdef int _check_method_prefix(self, const char *base, Py_ssize_t n) except -1:
        """Refuse at once a request line that cannot become one: its first bytes must be a
        method (a token) and a space. A TLS ClientHello on the plain port (0x16 0x03 ...) or
        other binary input is answered now, not after the header-read timeout.

        Only bytes within the line and head limits count, and a CR or LF is left to the line
        rules, so the error is the same however the input was split."""
        cdef const unsigned char *s = <const unsigned char *>base
        cdef Py_ssize_t i = 0
        cdef Py_ssize_t limit = n
        if limit > self.max_request_line:
            limit = self.max_request_line
        if limit > self.max_header_bytes:
            limit = self.max_header_bytes
        while i < limit and TOKEN[s[i]]:
            i += 1
        if i == limit or s[i] == b'\n' or (s[i] == b' ' and i > 0):
            return 0
        if s[i] == b'\r' and (i + 1 == n or s[i + 1] == b'\n'):
            return 0  # an empty line before the request line (RFC 9112 §2.2), or the line's end
        raise self._fail(InvalidRequest, "invalid character in method" if i else
                         "invalid request line: no method")

    cdef RequestHead _read_head(self, const char *base, Py_ssize_t head_len,
                                Py_ssize_t field_lines):
        """The head of base[:head_len], which ends with CRLF CRLF after field_lines field
        lines, with the parser's state set for its body."""
        cdef RequestHead head = None
        cdef int kind = -1
        cdef str message
        try:
            head = read_head(base, head_len, field_lines, self._recent_fields)
        except HeadError as exc:
            kind, message = exc.args
        if kind >= 0:
            # Raised out here, not in the except clause: the error has no HeadError context.
            raise self._fail(_head_error_type(kind), message)
        if head.body_framing == FRAMING_CHUNKED:
            self._state = S_CHUNKED
            if self._chunked is None:
                # NOTE: made at a connection's first chunked body, not with the parser: most
                # connections never send one, and an idle one should hold little.
                self._chunked = ChunkedDecoder(self.max_body_size, self.max_header_bytes)
            self._chunked.start()
        elif head.body_framing == FRAMING_LENGTH:
            if self.max_body_size and head.content_length > self.max_body_size:
                raise self._fail(BodyTooLarge, "request body too large")
            self._remaining = head.content_length
            self._state = S_BODY_LENGTH if head.content_length else S_MESSAGE_END
        else:
            self._state = S_MESSAGE_END
        return head

    # -- body ------------------------------------------------------------------------------

    cdef object _body_length(self):
        cdef Py_ssize_t avail = self._end - self._pos
        cdef Py_ssize_t n
        if avail == 0:
            return _NEED_DATA
        n = avail if avail < self._remaining else <Py_ssize_t>self._remaining
        self._remaining -= n
        if self._remaining == 0:
            self._state = S_MESSAGE_END
        return self._take(n)

    cdef object _chunked_body(self):
        cdef Py_ssize_t consumed, data_len
        cdef ChunkedEvent event = self._chunked.step(
            <const unsigned char *>(self._data + self._pos), self._end - self._pos,
            &consumed, &data_len)
        self._pos += consumed
        if event == CHUNK_DATA:
            return self._take(data_len)
        if event == CHUNK_NEED_DATA:
            return _NEED_DATA
        if event == CHUNK_END:
            self._state = S_HEAD
            if self._pos == self._end:
                self._buf = EMPTY
                self._data = PyBytes_AS_STRING(EMPTY)
                self._pos = self._end = 0
            return _END_OF_MESSAGE
        raise self._fail(_chunked_error_type(self._chunked.error_kind), self._chunked.error_message)
