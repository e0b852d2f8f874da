# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Sans-I/O HTTP/1.1 response serializer (RFC 9110, RFC 9112).

``ResponseEncoder.start`` turns an ASGI status and header list into a response head;
``ResponseEncoder.body`` turns each body message into the bytes to write. No sockets and no event
loop live here: the protocol layer writes what ``body`` returns.

Invariants:
- Nothing invalid reaches the wire. A header with CR, LF, NUL or another control character, a name
  that is not a token, a malformed Content-Length, a transfer-coding other than ``chunked``, or a
  body longer or shorter than its Content-Length raises a ``ResponseError`` to the app, and the
  refused call writes nothing.
- The head is built in one pass into a C buffer, and goes out with the first body message, so a
  small response is a single ``bytes`` and a single write. The buffer is held only meanwhile:
  an idle keep-alive connection holds none.
- The framing of the body is decided once, from what the app declared, the request's HTTP version
  and whether the first body message is also the last (RFC 9112 §6.3 from the sender's side).
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.tuple cimport PyTuple_GET_SIZE
from libc.string cimport memcpy

from fastasgi._body_framing cimport chunked_size, write_chunk, write_decimal
from fastasgi._chars cimport fill_lower
from fastasgi._response_fields cimport (
    check_field, checked_header_line, is_field_value, status_line)
from fastasgi.settings cimport ResponseDefaults

from fastasgi.http_grammar import imf_fixdate

# The errors are this module's interface too: callers of the encoder catch them from here.
from fastasgi._response_fields import (
    BodyLengthError, HeaderTypeError, InvalidHeader, InvalidStatus, NOT_IN_TRAILERS, ResponseError,
    ResponseStateError)


# --- the app's framing and connection headers ----------------------------------------------

cdef unsigned char LOWER[256]
fill_lower(LOWER)


cdef inline bint _lower_equals(const unsigned char *s, const char *lowered, Py_ssize_t n) noexcept:
    """Case-insensitive comparison with an already lowercase ASCII literal, without allocating."""
    cdef Py_ssize_t i
    for i in range(n):
        if LOWER[s[i]] != <unsigned char>lowered[i]:
            return False
    return True


cdef enum ConnectionOption:
    CONN_CLOSE = 1
    CONN_KEEP_ALIVE = 2


cdef int _connection_options(const unsigned char *v, Py_ssize_t n) noexcept:
    """The ``close`` / ``keep-alive`` options named in a Connection value (a comma list)."""
    cdef Py_ssize_t i = 0, start, end
    cdef int found = 0
    while i < n:
        while i < n and (v[i] == 0x20 or v[i] == 0x09 or v[i] == 0x2C):
            i += 1
        start = i
        while i < n and v[i] != 0x2C:
            i += 1
        end = i
        while end > start and (v[end - 1] == 0x20 or v[end - 1] == 0x09):
            end -= 1
        if end - start == 5 and _lower_equals(v + start, b"close", 5):
            found |= CONN_CLOSE
        elif end - start == 10 and _lower_equals(v + start, b"keep-alive", 10):
            found |= CONN_KEEP_ALIVE
    return found


cdef long long _content_length(const unsigned char *v, Py_ssize_t n) noexcept:
    """RFC 9110 §8.6: Content-Length = 1*DIGIT. -1 if malformed or beyond 18 digits."""
    cdef long long value = 0
    cdef Py_ssize_t i
    if n == 0 or n > 18:
        return -1
    for i in range(n):
        if not 0x30 <= v[i] <= 0x39:
            return -1
        value = value * 10 + (v[i] - 0x30)
    return value


# --- the Date header --------------------------------------------------------------------------

cdef bytes DATE_VALUE = imf_fixdate()
cdef bytes DATE_LINE = b"date: " + DATE_VALUE + b"\r\n"


def set_date(value):
    """Set the cached value of the Date header (e.g. b"Sat, 21 Nov 2026 19:40:00 GMT").

    The caller refreshes it at most once a second; every encoder with date=True uses it."""
    global DATE_LINE, DATE_VALUE
    if not PyBytes_Check(value):
        raise TypeError(f"the date must be bytes, not {type(value).__name__}")
    if PyBytes_GET_SIZE(value) == 0 or not is_field_value(
            <const unsigned char *>PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value)):
        raise ValueError(f"not a valid Date header value: {value!r}")
    DATE_VALUE = value
    DATE_LINE = b"date: " + value + b"\r\n"


def current_date():
    """The Date header's value that set_date last set: HTTP/2 responses carry the same one."""
    return DATE_VALUE


# --- the encoder ------------------------------------------------------------------------------

cdef enum:
    HEAD_BUFFER_SIZE = 1024       # most heads fit; a larger one grows its buffer
    SPARE_HEAD_BUFFERS = 64
    MAX_DEFAULT_HEADERS = 64      # one bit each in _defaults_sent
    # Longest tail c_body appends: "transfer-encoding: chunked\r\n" or a content-length line of
    # 18 digits, then "connection: keep-alive\r\n", then the blank line.
    TAIL_RESERVE = 96

# NOTE: an encoder needs its buffer only from c_start until the head goes out with the first
# body message, and an idle keep-alive connection needs none: with 10,000 of them, a buffer
# each was 10 MB of a worker's memory. The buffers go back to a pool the process's encoders
# share, so that a response still costs no malloc.
cdef char *spare_head_buffers[SPARE_HEAD_BUFFERS]
cdef int spare_count = 0


cdef char *take_head_buffer() except NULL:
    global spare_count
    cdef char *buf
    if spare_count:
        spare_count -= 1
        return spare_head_buffers[spare_count]
    buf = <char *>PyMem_Malloc(HEAD_BUFFER_SIZE)
    if buf == NULL:
        raise MemoryError()
    return buf


cdef void give_back_head_buffer(char *buf, Py_ssize_t cap) noexcept:
    """A buffer of the usual size goes back to the pool while it has room; one a large head
    grew, or one too many, goes back to the allocator."""
    global spare_count
    if cap == HEAD_BUFFER_SIZE and spare_count < SPARE_HEAD_BUFFERS:
        spare_head_buffers[spare_count] = buf
        spare_count += 1
    else:
        PyMem_Free(buf)


# Default headers may not take over what the encoder decides per response.
_RESERVED_DEFAULTS = (b"content-length", b"transfer-encoding", b"connection")


# NOTE: every connection's encoder gets the server's one ResponseDefaults. What they compile to
# is kept for the last one seen and shared, so an encoder refers to it instead of holding a
# copy of every default line.
cdef ResponseDefaults compiled_for = None
cdef tuple compiled_defaults = None


cdef tuple compile_defaults(ResponseDefaults defaults):
    """(add the Date header?, the Server line or None, lowercased default names, their
    lines), checked; a default of the name Date or Server replaces the built-in one."""
    global compiled_for, compiled_defaults
    cdef object name, value
    cdef bytes lowered
    cdef object server = defaults.server_header
    cdef bint add_date = defaults.date_header
    cdef object server_line = None
    cdef list names = [], lines = []
    if defaults is compiled_for:
        return compiled_defaults
    if server is not None and (not PyBytes_Check(server) or PyBytes_GET_SIZE(server)):
        server_line = checked_header_line(b"server", server, "server header")
    for name, value in defaults.headers:
        line = checked_header_line(name, value, "default header")
        lowered = name.lower()
        if lowered in _RESERVED_DEFAULTS:
            raise InvalidHeader(
                f"{name!r} is decided per response and cannot be a default header")
        if lowered == b"date":
            add_date = False
        elif lowered == b"server":
            server_line = None
        names.append(lowered)
        lines.append(line)
    if len(names) > MAX_DEFAULT_HEADERS:
        raise ValueError(f"at most {MAX_DEFAULT_HEADERS} default headers")
    compiled_defaults = (add_date, server_line, tuple(names), tuple(lines))
    compiled_for = defaults
    return compiled_defaults


@cython.final
cdef class ResponseEncoder:
    """Encodes one response at a time on one connection; reset() between responses."""

    def __dealloc__(self):
        self._release_buffer()

    def __init__(self, ResponseDefaults defaults not None):
        cdef tuple compiled = compile_defaults(defaults)
        self._add_date = compiled[0]
        self._server_line = compiled[1]
        self._default_names = compiled[2]
        self._default_lines = compiled[3]
        self._n_defaults = PyTuple_GET_SIZE(self._default_names)
        self.reset()

    def __repr__(self):
        return (f"<ResponseEncoder status={self.status} started={self.started} "
                f"complete={self.complete} keep_alive={self.keep_alive}>")

    cpdef reset(self):
        """Make the encoder ready for the next response on the same keep-alive connection."""
        self.keep_alive = False
        self.status = 0
        self.bytes_sent = 0
        self.started = False
        self.complete = False
        self.headers = None
        self._len = 0
        self._head_pending = False
        self._framing = FRAME_UNDECIDED
        self._release_buffer()  # held still if a c_start was refused

    # -- Python API --------------------------------------------------------------------------

    def start(self, status, headers, *, bint head_request=False, bint http11=True,
              bint keep_alive=True):
        """Validate and remember the head; it goes out with the first body() call.

        Raises InvalidStatus, InvalidHeader (HeaderTypeError for non-bytes) or
        ResponseStateError; a refused call leaves the encoder as it was."""
        if type(status) is not int and (isinstance(status, bool) or not isinstance(status, int)):
            raise InvalidStatus(f"the status must be an int, not {type(status).__name__}")
        if not 100 <= status <= 999:
            raise InvalidStatus(f"the status must be in 100..999, not {status}")
        self.c_start(status, headers, head_request, http11, keep_alive)

    def body(self, data, bint more_body=False):
        """The bytes to write for this body message (the head too, on the first call)."""
        out = self.c_body(data, more_body)
        return b"".join(out) if type(out) is tuple else out

    def body_pieces(self, data, bint more_body=False):
        """As body(), but a large piece of ``data`` comes back as itself, not copied: a tuple
        of the pieces to write in order, or bytes when that is all there is."""
        return self.c_body(data, more_body)

    def file_head(self, long long size):
        return self.c_file_head(size)

    def promise_trailers(self):
        return self.c_promise_trailers()

    def trailers(self, fields):
        return self.c_trailers(fields)

    # -- Cython API --------------------------------------------------------------------------

    cdef int c_start(self, int status, object headers, bint head_request, bint http11,
                     bint keep_alive) except -1:
        cdef bytes line
        cdef object item
        cdef Py_ssize_t i, n
        cdef bint drop_framing
        if self.started:
            raise ResponseStateError("the response has already started")
        if status < 100 or status > 999:
            raise InvalidStatus(f"the status must be in 100..999, not {status}")
        # RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
        if status < 200 and not http11:
            raise InvalidStatus(f"a {status} response cannot be sent to an HTTP/1.0 client")
        # NOTE: a reference, not a copy: only an access-log format naming a response header
        # (%({name}o)s) ever reads it.
        self.headers = headers

        self._http11 = http11
        self._informational = status < 200
        self._declared_length = -1
        self._app_chunked = False
        self._app_date = False
        self._app_server = False
        self._app_close = False
        self._app_keep_alive = False
        self._trailers = False
        self._defaults_sent = 0
        # RFC 9110 §8.6, RFC 9112 §6.1: no Content-Length or Transfer-Encoding in 1xx and 204.
        drop_framing = self._informational or status == 204

        line = status_line(status)
        if self._buf == NULL:
            self._buf = take_head_buffer()
            self._cap = HEAD_BUFFER_SIZE
        self._len = 0
        self._append(PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line))
        if type(headers) is list:
            # NOTE: the size is read on every turn, not once: unpacking an odd item runs Python
            # code that could shrink the list, and items are read without a bounds check.
            i = 0
            while i < PyList_GET_SIZE(headers):
                self._add_app_header(<object>(<list>headers)[i], drop_framing)
                i += 1
        elif type(headers) is tuple:
            n = PyTuple_GET_SIZE(headers)
            for i in range(n):
                self._add_app_header(<object>(<tuple>headers)[i], drop_framing)
        else:
            try:
                iterator = iter(headers)
            except TypeError:
                raise HeaderTypeError(
                    f"headers must be an iterable of (name, value) pairs, "
                    f"not {type(headers).__name__}") from None
            for item in iterator:
                self._add_app_header(item, drop_framing)

        if self._add_date and not self._app_date:
            self._append(PyBytes_AS_STRING(DATE_LINE), PyBytes_GET_SIZE(DATE_LINE))
        if self._server_line is not None and not self._app_server:
            self._append(PyBytes_AS_STRING(self._server_line), PyBytes_GET_SIZE(self._server_line))
        for i in range(self._n_defaults):
            if not (self._defaults_sent >> i) & 1:
                line = <bytes>self._default_lines[i]
                self._append(PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line))

        if head_request or drop_framing or status == 304:
            self._framing = FRAME_NONE
        elif self._declared_length >= 0:
            self._framing = FRAME_LENGTH
            self._remaining = self._declared_length
        elif self._app_chunked and http11:
            self._framing = FRAME_CHUNKED
        else:
            self._framing = FRAME_UNDECIDED
        # A 1xx never ends an exchange; if the app makes it its whole response, closing the
        # connection afterwards is what keeps the client from waiting for a final one.
        self.keep_alive = keep_alive and not self._app_close and not self._informational
        self.status = status
        self.bytes_sent = 0
        self.started = True
        self.complete = False
        self._head_pending = True
        return 0

    cdef object c_body(self, object data, bint more_body):
        cdef Py_ssize_t n, size
        cdef int framing
        cdef long long length = -1
        cdef bytes out
        cdef char *w
        cdef bint last
        if not self.started:
            raise ResponseStateError("body before start")
        if self.complete:
            raise ResponseStateError("the response is already complete")
        if not PyBytes_Check(data):
            raise TypeError(f"the body must be bytes, not {type(data).__name__}")
        n = PyBytes_GET_SIZE(data)

        framing = self._framing
        if framing == FRAME_UNDECIDED:
            if not more_body:
                framing = FRAME_LENGTH
                length = n
                self._remaining = n
            elif self._http11:
                framing = FRAME_CHUNKED
            else:
                framing = FRAME_CLOSE
        elif framing == FRAME_LENGTH:
            if n > self._remaining:
                raise BodyLengthError(
                    f"{n} body bytes, but only {self._remaining} of the "
                    f"{self._declared_length} declared by Content-Length are left")
            if not more_body and n < self._remaining:
                self.keep_alive = False
                raise BodyLengthError(
                    f"the final body message leaves {self._remaining - n} of the "
                    f"{self._declared_length} bytes declared by Content-Length unsent")
        elif framing == FRAME_NONE:
            n = 0                      # HEAD, 1xx, 204, 304: whatever the app gave is dropped

        if framing == FRAME_LENGTH:
            self._remaining -= n
        if not more_body:
            self.complete = True
        self.bytes_sent += n

        # With trailers promised, the last chunk and the end of the message wait for them.
        last = not more_body and not self._trailers
        if n >= COPY_LIMIT and (self._head_pending or framing == FRAME_CHUNKED):
            return self._pieces(framing, length, data, n, last)
        if self._head_pending:
            self._head_pending = False
            self._framing = framing
            self._write_tail(framing, length)
            size = chunked_size(n, last) if framing == FRAME_CHUNKED else n
            out = PyBytes_FromStringAndSize(NULL, self._len + size)
            w = PyBytes_AS_STRING(out)
            memcpy(w, self._buf, self._len)
            w += self._len
            if framing == FRAME_CHUNKED:
                write_chunk(w, PyBytes_AS_STRING(data), n, last)
            elif n:
                memcpy(w, PyBytes_AS_STRING(data), n)
            self._release_buffer()
            return out

        if framing == FRAME_CHUNKED:
            size = chunked_size(n, last)
            if size == 0:
                return b""
            out = PyBytes_FromStringAndSize(NULL, size)
            write_chunk(PyBytes_AS_STRING(out), PyBytes_AS_STRING(data), n, last)
            return out
        if framing == FRAME_NONE:
            return b""
        return <bytes>data

    cdef tuple _pieces(self, int framing, long long length, object data, Py_ssize_t n,
                       bint last):
        """c_body's answer for a large piece: ``data`` itself between what goes before it (the
        head, a chunk's size line) and after it (a chunk's end, the last chunk)."""
        cdef bytes before = b""
        cdef char *w
        if self._head_pending:
            self._head_pending = False
            self._framing = framing
            self._write_tail(framing, length)
            before = PyBytes_FromStringAndSize(self._buf, self._len)
            self._release_buffer()
        if framing != FRAME_CHUNKED:
            return (before, data)
        before += b"%x\r\n" % n
        return (before, data, b"\r\n0\r\n\r\n" if last else b"\r\n")

    cdef bytes c_file_head(self, long long size):
        """The head of a response whose whole body is a file of ``size`` bytes, sent by the
        caller as it is (sendfile): framed by Content-Length, the app's or ``size``. Afterwards
        ``bytes_sent`` is what the caller must write: ``size``, or 0 (HEAD, 204, 304)."""
        cdef int framing = self._framing
        if not self.started or not self._head_pending:
            raise ResponseStateError("a file is the whole body: send it after start, alone")
        if framing == FRAME_CHUNKED:
            raise ResponseStateError("a file is sent with a Content-Length, not chunked")
        if framing == FRAME_LENGTH and self._declared_length != size:
            raise BodyLengthError(
                f"Content-Length says {self._declared_length} bytes, the file has {size}")
        self._head_pending = False
        if framing == FRAME_UNDECIDED:
            framing = FRAME_LENGTH
            self._write_tail(framing, size)
        else:
            self._write_tail(framing, -1)
        self._framing = framing
        self._remaining = 0
        self.complete = True
        self.bytes_sent = 0 if framing == FRAME_NONE else size
        head = PyBytes_FromStringAndSize(self._buf, self._len)
        self._release_buffer()
        return head

    cdef bint c_promise_trailers(self) except -1:
        """Send trailer fields after the body (RFC 9112 §7.1.2), if this response can carry
        them: HTTP/1.1, chunked (chosen now unless the app gave a Content-Length), a body on
        the wire. Called after c_start, before any body; False: c_trailers() will write
        nothing, and the body ends as it would have."""
        if not self.started or not self._head_pending:
            raise ResponseStateError("trailers are promised after start, before the body")
        if not self._http11 or self._framing not in (FRAME_UNDECIDED, FRAME_CHUNKED):
            return False
        self._framing = FRAME_CHUNKED
        self._trailers = True
        return True

    cdef bytes c_trailers(self, object fields):
        """The end of a chunked body with its trailer section: ``0``, the fields, the blank
        line; b"" when no trailers were promised (the body has ended already)."""
        cdef list lines
        if not self.complete:
            raise ResponseStateError("trailers before the last body message")
        lines = [b"0\r\n"]
        for item in fields:
            try:
                name, value = item
            except (TypeError, ValueError):
                raise HeaderTypeError(
                    f"each trailer must be a (name, value) pair of bytes, not {item!r}") from None
            check_field(name, value, "trailer")
            if name.lower() in NOT_IN_TRAILERS:
                raise InvalidHeader(f"{name!r} cannot be sent as a trailer (RFC 9110 §6.5.1)")
            lines.append(b"%s: %s\r\n" % (name, value))
        if not self._trailers:
            return b""  # checked all the same: an app's mistake shows whoever the client is
        self._trailers = False
        lines.append(b"\r\n")
        return b"".join(lines)

    # -- internals ---------------------------------------------------------------------------

    cdef int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t cap = self._cap
        cdef char *grown
        if self._len + extra <= cap:
            return 0
        while cap < self._len + extra:
            cap *= 2
        grown = <char *>PyMem_Realloc(self._buf, cap)
        if grown == NULL:
            raise MemoryError()
        self._buf = grown
        self._cap = cap
        return 0

    cdef void _release_buffer(self) noexcept:
        if self._buf != NULL:
            give_back_head_buffer(self._buf, self._cap)
            self._buf = NULL
            self._cap = 0

    cdef int _append(self, const char *data, Py_ssize_t n) except -1:
        self._reserve(n)
        memcpy(self._buf + self._len, data, n)
        self._len += n
        return 0

    cdef int _add_app_header(self, object item, bint drop_framing) except -1:
        cdef object name, value
        cdef bytes default_name
        cdef const unsigned char *s
        cdef const unsigned char *v
        cdef Py_ssize_t n, vn, i
        cdef bint write = True
        cdef char *w
        if type(item) is tuple and PyTuple_GET_SIZE(item) == 2:
            name = (<tuple>item)[0]
            value = (<tuple>item)[1]
        elif type(item) is list and PyList_GET_SIZE(item) == 2:
            name = (<list>item)[0]
            value = (<list>item)[1]
        else:
            try:
                name, value = item
            except (TypeError, ValueError):
                raise HeaderTypeError(
                    f"each header must be a (name, value) pair of bytes, not {item!r}") from None
        check_field(name, value, "header")
        s = <const unsigned char *>PyBytes_AS_STRING(name)
        n = PyBytes_GET_SIZE(name)
        v = <const unsigned char *>PyBytes_AS_STRING(value)
        vn = PyBytes_GET_SIZE(value)

        if n == 14 and _lower_equals(s, b"content-length", 14):
            if self._declared_length >= 0 or self._app_chunked:
                raise InvalidHeader(
                    "Content-Length may appear once, and never with Transfer-Encoding")
            self._declared_length = _content_length(v, vn)
            if self._declared_length < 0:
                raise InvalidHeader(f"Content-Length must be 1 to 18 digits, not {value!r}")
            write = not drop_framing
        elif n == 17 and _lower_equals(s, b"transfer-encoding", 17):
            if vn != 7 or not _lower_equals(v, b"chunked", 7):
                raise InvalidHeader(f"the only transfer-coding we send is chunked, not {value!r}")
            if self._declared_length >= 0 or self._app_chunked:
                raise InvalidHeader(
                    "Transfer-Encoding may appear once, and never with Content-Length")
            self._app_chunked = True
            # RFC 9112 §6.1: no Transfer-Encoding unless the request was HTTP/1.1; the body is
            # then framed as if the app had not asked (length if known, else close-delimited).
            write = not drop_framing and self._http11
        elif n == 10 and _lower_equals(s, b"connection", 10):
            i = _connection_options(v, vn)
            if i & CONN_CLOSE:
                self._app_close = True
            if i & CONN_KEEP_ALIVE:
                self._app_keep_alive = True
        elif n == 4 and _lower_equals(s, b"date", 4):
            self._app_date = True
        elif n == 6 and _lower_equals(s, b"server", 6):
            self._app_server = True
        for i in range(self._n_defaults):
            default_name = <bytes>self._default_names[i]
            if (PyBytes_GET_SIZE(default_name) == n
                    and _lower_equals(s, PyBytes_AS_STRING(default_name), n)):
                self._defaults_sent |= 1ULL << i

        if write:
            self._reserve(n + vn + 4)
            w = self._buf + self._len
            memcpy(w, s, n)
            w[n] = b':'
            w[n + 1] = b' '
            memcpy(w + n + 2, v, vn)
            w[n + 2 + vn] = b'\r'
            w[n + 3 + vn] = b'\n'
            self._len += n + vn + 4
        return 0

    cdef int _write_tail(self, int framing, long long length) except -1:
        """The headers only the first body message can decide, and the blank line."""
        cdef char *w
        self._reserve(TAIL_RESERVE)
        w = self._buf + self._len
        if length >= 0:
            memcpy(w, b"content-length: ", 16)
            w = write_decimal(w + 16, length)
            w[0] = b'\r'
            w[1] = b'\n'
            w += 2
        elif framing == FRAME_CHUNKED and not self._app_chunked:
            memcpy(w, b"transfer-encoding: chunked\r\n", 28)
            w += 28
        if framing == FRAME_CLOSE:
            self.keep_alive = False
        if not self._informational:
            if not self.keep_alive:
                if not self._app_close:
                    memcpy(w, b"connection: close\r\n", 19)
                    w += 19
            elif not self._http11 and not self._app_keep_alive:
                memcpy(w, b"connection: keep-alive\r\n", 24)
                w += 24
        w[0] = b'\r'
        w[1] = b'\n'
        self._len = (w + 2) - self._buf
        return 0
