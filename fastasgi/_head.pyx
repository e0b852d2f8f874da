# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A complete HTTP/1.1 request head read into a ``RequestHead`` (RFC 9112 §3, §5, §6).

``read_head`` gets the bytes of a head that ends with CRLF CRLF (the parser has found its end and
enforced the size limits) and reads, in one pass over a C pointer, the request line, the field
lines, and the body framing they decide together.

Invariants:
- Strict: every rule the module docstring of ``_parser.pyx`` lists for the head is enforced here;
  a head that breaks one raises ``HeadError(kind, message)``, and the parser turns the kind into
  its public exception. Nothing here knows the parser or its state.
- The request-target is checked by its form (RFC 9112 §3.2) and an authority by RFC 3986 §3.2.2;
  an absolute-form target's authority replaces the Host field's value (RFC 9112 §3.2.2).
- Common field names and methods are shared objects: the header list costs no allocation for
  them, and the fields that matter for framing are recognised by identity.
- A field line the same as the one at its place in the connection's previous request is that
  request's (name, value) tuple, shared; every other field line is a new tuple. What a head
  holds is always exactly its own request's field lines.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp, memcpy
from libc.stdint cimport uint32_t, uint64_t

from fastasgi._chars cimport fill_hex, fill_lower, fill_token, fill_value


cdef struct FieldFacts:
    # what a head's field lines say about its message, for the framing step
    bint conn_close
    bint conn_keep_alive
    bint conn_upgrade
    bint has_length
    bint chunked
    bint te_seen
    bint te_unknown               # a transfer coding other than chunked
    long long length


class HeadError(Exception):
    """A head the server must refuse: ``args`` is (a HeadErrorKind, the reason)."""


@cython.final
@cython.freelist(16)
cdef class RequestHead:
    """One request's head, with everything the protocol needs to build an ASGI scope."""

    def __repr__(self):
        return (f"<RequestHead {self.method} {self.target!r} HTTP/{self.http_version} "
                f"headers={len(self.headers)} keep_alive={self.keep_alive}>")


# --- character classes (RFC 9110 §5.6.2, §5.5; RFC 9112 §3.2) -------------------------------

cdef unsigned char TOKEN[256]       # tchar
cdef unsigned char VALUE[256]       # field-vchar / obs-text / SP / HTAB: what may stand in a value
cdef unsigned char TARGET[256]      # VCHAR but '#': request-target bytes (no fragment on the wire)
cdef unsigned char HOST[256]        # uri-host [ ":" port ] bytes (RFC 3986 §3.2.2, §3.2.3)
cdef unsigned char LOWER[256]
cdef unsigned char TOKEN_LOWER[256]  # a tchar lowercased, 0 for any other byte: one load a byte
cdef bint LITTLE_ENDIAN            # the SWAR scans may take a flag's position from its bit
cdef signed char HEX[256]


cdef void _init_tables():
    cdef int c
    cdef uint64_t one = 1
    global LITTLE_ENDIAN
    LITTLE_ENDIAN = (<unsigned char *>&one)[0] == 1
    fill_token(TOKEN)
    fill_value(VALUE)
    fill_lower(LOWER)
    fill_hex(HEX)
    for c in range(256):
        TARGET[c] = 0x21 <= c <= 0x7E and c != 0x23
        HOST[c] = 0
        TOKEN_LOWER[c] = LOWER[c] if TOKEN[c] else 0
    # unreserved, pct-encoded, sub-delims, the port's ":" and an IP-literal's brackets
    for c in b"-._~%!$&'()*+,;=:[]0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        HOST[c] = 1


_init_tables()


# --- interned header names --------------------------------------------------------------------
# NOTE: names a browser, a proxy or an HTTP library commonly sends map to one shared bytes object,
# so the header list costs no allocation for them, and the special fields below are recognised by
# identity instead of by comparison.

cdef bytes H_CONTENT_LENGTH = b"content-length"
cdef bytes H_TRANSFER_ENCODING = b"transfer-encoding"
cdef bytes H_CONNECTION = b"connection"
cdef bytes H_UPGRADE = b"upgrade"
cdef bytes H_EXPECT = b"expect"
cdef bytes H_HOST = b"host"

_COMMON_NAMES = (
    H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION, H_UPGRADE, H_EXPECT, H_HOST,
    b"accept", b"accept-charset", b"accept-encoding", b"accept-language", b"authorization",
    b"cache-control", b"content-encoding", b"content-type", b"cookie", b"date", b"dnt",
    b"forwarded", b"if-match", b"if-modified-since", b"if-none-match", b"if-range",
    b"if-unmodified-since", b"keep-alive", b"origin", b"pragma", b"priority", b"range", b"referer",
    b"sec-ch-ua", b"sec-ch-ua-mobile", b"sec-ch-ua-platform", b"sec-fetch-dest", b"sec-fetch-mode",
    b"sec-fetch-site", b"sec-fetch-user", b"sec-websocket-extensions", b"sec-websocket-key",
    b"sec-websocket-protocol", b"sec-websocket-version", b"te", b"traceparent",
    b"upgrade-insecure-requests", b"user-agent", b"via", b"x-forwarded-for", b"x-forwarded-host",
    b"x-forwarded-proto", b"x-real-ip", b"x-request-id", b"x-requested-with",
)

cdef enum:
    NAME_SLOTS = 256              # power of two, well above the number of interned names
cdef void *NAME_TABLE[NAME_SLOTS]  # borrowed references: _COMMON_NAMES keeps them alive


cdef inline uint32_t _name_hash(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    # NOTE: length and three sampled bytes, not every byte: the table holds ~50 names in 256
    # slots and every hit is confirmed with memcmp, so a cheap spread beats a full hash.
    return <uint32_t>(n * 97) ^ (<uint32_t>s[0] << 2) ^ (<uint32_t>s[n - 1] * 31) ^ (<uint32_t>s[n >> 1] << 4)


cdef void _init_names():
    cdef bytes name
    cdef uint32_t slot
    cdef Py_ssize_t i
    for i in range(NAME_SLOTS):
        NAME_TABLE[i] = NULL
    for name in _COMMON_NAMES:
        slot = _name_hash(<const unsigned char *>PyBytes_AS_STRING(name), len(name)) & (NAME_SLOTS - 1)
        while NAME_TABLE[slot] != NULL:
            slot = (slot + 1) & (NAME_SLOTS - 1)
        NAME_TABLE[slot] = <void *>name


_init_names()


cdef inline bytes _interned(const unsigned char *low, Py_ssize_t n):
    """The shared object for the lowercase name low[:n] (n <= 32) when it is a common one, else a
    new bytes object."""
    cdef uint32_t slot = _name_hash(low, n) & (NAME_SLOTS - 1)
    cdef void *candidate = NAME_TABLE[slot]
    while candidate != NULL:
        if (PyBytes_GET_SIZE(<object>candidate) == n
                and memcmp(PyBytes_AS_STRING(<object>candidate), low, n) == 0):
            return <bytes>candidate
        slot = (slot + 1) & (NAME_SLOTS - 1)
        candidate = NAME_TABLE[slot]
    return PyBytes_FromStringAndSize(<const char *>low, n)


cdef bytes _lowered(const unsigned char *s, Py_ssize_t n):
    """s[:n] lowercased, as a new bytes object."""
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
    cdef char *w = PyBytes_AS_STRING(out)
    cdef Py_ssize_t i
    for i in range(n):
        w[i] = LOWER[s[i]]
    return out


cdef bytes _header_name(const unsigned char *s, Py_ssize_t n):
    """The lowercased field name: the shared object for a common name, a new one otherwise."""
    cdef unsigned char low[32]
    cdef Py_ssize_t i
    if n > 32:
        return _lowered(s, n)
    for i in range(n):
        low[i] = LOWER[s[i]]
    return _interned(low, n)


cdef bytes _field_name(const unsigned char *s, Py_ssize_t *at):
    """Read the field name (a token) at s[*at:], move *at past it, and return it lowercased
    as _header_name does (b"" when there is none).

    NOTE: scanning, lowercasing and copying in one pass over a table that does both, since
    a browser's request is a dozen names long."""
    cdef const unsigned char *p = s + at[0]
    cdef unsigned char low[32]
    cdef unsigned char c = TOKEN_LOWER[p[0]]
    cdef Py_ssize_t n = 0
    while c != 0 and n < 32:
        low[n] = c
        n += 1
        c = TOKEN_LOWER[p[n]]
    if c != 0:  # longer than any common name
        while TOKEN[p[n]]:
            n += 1
        at[0] += n
        return _lowered(p, n)
    at[0] += n
    if n == 0:
        return EMPTY
    return _interned(low, n)


# --- small helpers ----------------------------------------------------------------------------

cdef str M_GET = "GET"
cdef str M_POST = "POST"
cdef str M_PUT = "PUT"
cdef str M_HEAD = "HEAD"
cdef str M_DELETE = "DELETE"
cdef str M_PATCH = "PATCH"
cdef str M_OPTIONS = "OPTIONS"
cdef str M_CONNECT = "CONNECT"
cdef str V10 = "1.0"
cdef str V11 = "1.1"
cdef bytes EMPTY = b""


cdef inline str _method(const char *s, Py_ssize_t n):
    if n == 3 and memcmp(s, b"GET", 3) == 0:
        return M_GET
    if n == 4 and memcmp(s, b"POST", 4) == 0:
        return M_POST
    if n == 3 and memcmp(s, b"PUT", 3) == 0:
        return M_PUT
    if n == 4 and memcmp(s, b"HEAD", 4) == 0:
        return M_HEAD
    if n == 6 and memcmp(s, b"DELETE", 6) == 0:
        return M_DELETE
    if n == 5 and memcmp(s, b"PATCH", 5) == 0:
        return M_PATCH
    if n == 7 and memcmp(s, b"OPTIONS", 7) == 0:
        return M_OPTIONS
    if n == 7 and memcmp(s, b"CONNECT", 7) == 0:
        return M_CONNECT
    return PyUnicode_DecodeASCII(s, n, NULL)


cdef inline bint _equals_lower(const char *s, Py_ssize_t n, const char *lower_word, Py_ssize_t m):
    """Case-insensitive comparison with an already lowercase ASCII word."""
    cdef Py_ssize_t i
    if n != m:
        return False
    for i in range(n):
        if LOWER[<unsigned char>s[i]] != <unsigned char>lower_word[i]:
            return False
    return True


cdef inline Py_ssize_t _plain_run(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    """The length of the longest prefix of s[:n] with no control character and no DEL.

    NOTE: most field values are long printable runs (user agents, cookies), and a plain value
    ends at its line's CR: this finds that CR and checks the value on the way, 8 bytes at a
    time (SWAR: any byte < 0x20, any byte == 0x7F), so each value is read once. The lowest
    flag of the 8 is exact (a borrow only moves up, from a byte that is itself flagged), so
    on a little-endian machine it is the answer. A run that stops elsewhere (a tab, or a real
    error) is re-checked byte by byte against the VALUE table."""
    cdef Py_ssize_t i = 0
    cdef uint64_t x, d, flags
    while i + 8 <= n:
        memcpy(&x, s + i, 8)
        d = x ^ 0x7F7F7F7F7F7F7F7FULL
        flags = (((x - 0x2020202020202020ULL) & ~x) | ((d - 0x0101010101010101ULL) & ~d)) & 0x8080808080808080ULL
        if flags:
            if LITTLE_ENDIAN:
                return i + _first_flagged_byte(flags)
            break
        i += 8
    while i < n and s[i] >= 0x20 and s[i] != 0x7F:
        i += 1
    return i


cdef inline Py_ssize_t _first_flagged_byte(uint64_t flags) noexcept nogil:
    """The index of the lowest byte of a little-endian word whose 0x80 bit is set in flags
    (flags has only 0x80 bits): the lowest bit, 1 << (8k + 7), times a constant whose top
    byte, shifted k bytes up, reads k."""
    return <Py_ssize_t>((((flags & (~flags + 1)) >> 7) * 0x0001020304050607ULL) >> 56)


cdef inline bint _is_ows(char c):
    return c == b' ' or c == b'\t'


cdef str _decode_path(const char *s, Py_ssize_t n):
    """Percent-decode a path and read it as UTF-8 (invalid sequences replaced, as ASGI servers do)."""
    cdef Py_ssize_t i = 0, w = 0
    cdef signed char hi, lo
    cdef bytes out
    cdef char *buf
    if memchr(s, b'%', n) == NULL:
        return PyUnicode_DecodeASCII(s, n, NULL)
    out = PyBytes_FromStringAndSize(NULL, n)
    buf = PyBytes_AS_STRING(out)
    while i < n:
        if s[i] == b'%' and i + 2 < n:
            hi = HEX[<unsigned char>s[i + 1]]
            lo = HEX[<unsigned char>s[i + 2]]
            if hi >= 0 and lo >= 0:
                buf[w] = <char>(hi * 16 + lo)
                w += 1
                i += 3
                continue
        buf[w] = s[i]
        w += 1
        i += 1
    return PyUnicode_DecodeUTF8(buf, w, "replace")


cdef bint _valid_authority(const unsigned char *s, Py_ssize_t n, bint need_port) noexcept nogil:
    """uri-host [ ":" port ] (RFC 3986 §3.2.2, §3.2.3): a reg-name or IPv4 address, or an
    IP-literal in brackets, then an optional port of digits only. No userinfo ("@")."""
    cdef Py_ssize_t i = 0, colon = -1
    if n and s[0] == b'[':
        while i < n and s[i] != b']':
            if s[i] == b'@' or not HOST[s[i]]:
                return False
            i += 1
        if i == n:
            return False
        i += 1
        if i < n:
            if s[i] != b':':
                return False
            colon = i
    else:
        while i < n:
            if not HOST[s[i]] or s[i] == b'[' or s[i] == b']' or s[i] == b'@':
                return False
            if s[i] == b':':
                if colon >= 0:
                    return False
                colon = i
            i += 1
        if need_port and colon <= 0:
            return False  # CONNECT's authority-form needs a host and a port
    if colon < 0:
        return not need_port
    for i in range(colon + 1, n):
        if not (b'0' <= s[i] <= b'9'):
            return False
    return not need_port or colon + 1 < n


# --- reading a head -------------------------------------------------------------------------

# --- the fields a connection sent last --------------------------------------------------------
# NOTE: a keep-alive client sends the same field lines on request after request (a browser's
# user agent, accept lines and cookie; a proxy's host and forwarding fields). A field line the
# same as the one at its place in the connection's previous request reuses that request's
# (name, value) tuple: a comparison instead of two allocations and their frees. The tuples are
# immutable, so sharing them between two requests' scopes is invisible to an app.

cdef enum:
    RECENT_FIELDS = 24            # a browser's navigation sends 15-20


cdef list new_field_memory():
    """The memory of one connection's recent field lines, for read_head; empty to start."""
    return [None] * RECENT_FIELDS


cdef inline bint _recalled(list recent, Py_ssize_t index, bytes name,
                           const char *value, Py_ssize_t value_len):
    """Whether recent[index] is the field line (name, value). Borrowed pointers only: this
    runs for every field line, and a miss must cost little more than the comparison."""
    cdef PyObject *field = PyList_GET_ITEM(recent, index)
    cdef PyObject *known
    if field == <PyObject *>None:
        return False
    known = PyTuple_GET_ITEM(<tuple>field, 0)
    if known != <PyObject *>name and (
            PyBytes_GET_SIZE(<object>known) != PyBytes_GET_SIZE(name)
            or memcmp(PyBytes_AS_STRING(<object>known), PyBytes_AS_STRING(name),
                      PyBytes_GET_SIZE(name)) != 0):
        return False
    known = PyTuple_GET_ITEM(<tuple>field, 1)
    return (PyBytes_GET_SIZE(<object>known) == value_len
            and memcmp(PyBytes_AS_STRING(<object>known), value, value_len) == 0)


cdef inline void _remember(list recent, Py_ssize_t index, tuple field):
    cdef PyObject *old = PyList_GET_ITEM(recent, index)
    Py_INCREF(field)
    PyList_SET_ITEM(recent, index, field)  # steals the reference taken above
    Py_DECREF(<object>old)


cdef RequestHead read_head(const char *base, Py_ssize_t head_len, Py_ssize_t field_lines,
                           list recent):
    """The head of base[:head_len], which ends with CRLF CRLF and has field_lines lines
    between its request line and its empty line (the parser counted them while finding the
    end): the request line, the field lines, then the body framing they decide together.
    recent is the connection's memory of field lines (new_field_memory), updated here."""
    cdef RequestHead head = RequestHead.__new__(RequestHead)
    cdef FieldFacts facts
    cdef Py_ssize_t line_end
    authority = _request_line(head, base, head_len, &line_end)
    _field_lines(head, base, line_end + 2, head_len, field_lines, authority, recent, &facts)
    _framing(head, &facts)
    return head

cdef object _request_line(RequestHead head, const char *base, Py_ssize_t head_len,
                          Py_ssize_t *line_end_out):
    """Fill the request-line part of head; return the authority of an absolute-form target
    (None otherwise) and set *line_end_out to the offset of the line's CR."""
    cdef const unsigned char *s = <const unsigned char *>base
    cdef Py_ssize_t i = 0, start, end, line_end, tlen, q, k
    cdef bytes target
    cdef bint http11
    cdef object authority = None

    # request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
    while TOKEN[s[i]]:
        i += 1
    if i == 0 or s[i] != b' ':
        if i == 0:
            raise HeadError(HEAD_INVALID, "invalid request line: no method")
        if s[i] == b'\r' and s[i + 1] == b'\n':
            raise HeadError(HEAD_INVALID, "invalid request line: no request target")
        raise HeadError(HEAD_INVALID, "invalid character in method")
    head.method = _method(base, i)
    start = i = i + 1
    while TARGET[s[i]]:
        i += 1
    if i == start:
        raise HeadError(HEAD_INVALID, "invalid request line: no request target")
    if s[i] != b' ':
        if s[i] == b'#':
            raise HeadError(HEAD_INVALID, "fragment in request target")
        if s[i] == b'\r' and s[i + 1] == b'\n':
            raise HeadError(HEAD_INVALID, "invalid request line: no HTTP version")
        raise HeadError(HEAD_INVALID, "invalid character in request target")
    tlen = i - start
    target = PyBytes_FromStringAndSize(base + start, tlen)
    head.target = target
    i += 1
    line_end = <const char *>memchr(base + i, b'\r', head_len - i) - base
    if s[line_end + 1] != b'\n':
        raise HeadError(HEAD_INVALID, "bare CR in request line")
    # HTTP/1.2 to 1.9 are served as 1.1, the highest 1.x we speak (RFC 9110 §2.5).
    if line_end - i != 8 or memcmp(base + i, b"HTTP/1.", 7) != 0 or not (b'0' <= s[i + 7] <= b'9'):
        if line_end - i == 8 and memcmp(base + i, b"HTTP/2.0", 8) == 0 and head.method == "PRI":
            raise HeadError(HEAD_HTTP2_PREFACE, "HTTP/2 connection preface on an HTTP/1.1 port")
        if (line_end - i == 8 and memcmp(base + i, b"HTTP/", 5) == 0 and HEX[s[i + 5]] >= 0
                and HEX[s[i + 5]] <= 9 and s[i + 6] == b'.' and HEX[s[i + 7]] >= 0
                and HEX[s[i + 7]] <= 9):
            raise HeadError(HEAD_UNSUPPORTED_VERSION, "unsupported HTTP version")
        raise HeadError(HEAD_INVALID, "invalid request line: bad HTTP version")
    http11 = s[i + 7] != b'0'
    head.http_version = V11 if http11 else V10

    # request-target forms (RFC 9112 §3.2); the ASGI path comes from the origin-form part.
    end = start + tlen
    if head.method == "CONNECT":
        # ASGI has no tunnels: a 2xx to CONNECT would put a proxy in front into tunnel mode
        # while we went on parsing requests from the same bytes (RFC 9110 §9.3.6).
        if not _valid_authority(s + start, tlen, True):
            raise HeadError(HEAD_INVALID, "CONNECT target is not host:port")
        raise HeadError(HEAD_METHOD_NOT_IMPLEMENTED, "CONNECT is not supported")
    if s[start] == b'/':
        k = start
    elif tlen == 1 and s[start] == b'*':
        if head.method != "OPTIONS":
            raise HeadError(HEAD_INVALID, "asterisk-form target is only for OPTIONS")
        k = start
    elif (tlen > 7 and _equals_lower(base + start, 7, b"http://", 7)) or (
            tlen > 8 and _equals_lower(base + start, 8, b"https://", 8)):
        k = q = start + (7 if s[start + 4] == b':' else 8)
        while k < end and s[k] != b'/' and s[k] != b'?':
            k += 1
        if k == q:
            # An http(s) URI with an empty host is invalid (RFC 9110 §4.2.1, §4.2.2).
            raise HeadError(HEAD_INVALID, "empty host in request target")
        if memchr(base + q, b'@', k - q) != NULL:
            # RFC 9110 §4.2.4: userinfo is deprecated and a phishing vector; refuse it.
            raise HeadError(HEAD_INVALID, "userinfo in request target")
        if not _valid_authority(s + q, k - q, False):
            raise HeadError(HEAD_INVALID, "invalid host in request target")
        # RFC 9112 §3.2.2: the target's authority replaces the Host field's value.
        authority = PyBytes_FromStringAndSize(base + q, k - q)
    else:
        raise HeadError(HEAD_INVALID, "invalid request target")
    q = k
    while q < end and s[q] != b'?':
        q += 1
    if q == k:
        head.raw_path = b"/"
        head.path = "/"
    elif k == start and q == end:
        head.raw_path = target
        head.path = _decode_path(base + k, q - k)
    else:
        head.raw_path = PyBytes_FromStringAndSize(base + k, q - k)
        head.path = _decode_path(base + k, q - k)
    head.query_string = PyBytes_FromStringAndSize(base + q + 1, end - q - 1) if q < end else EMPTY
    line_end_out[0] = line_end
    return authority

cdef int _field_lines(RequestHead head, const char *base, Py_ssize_t i,
                      Py_ssize_t head_len, Py_ssize_t count, object authority,
                      list recent, FieldFacts *facts) except -1:
    """Read the count field lines from offset i to the head's final CRLF into head.headers,
    and what the framing step needs to know from them into facts."""
    cdef const unsigned char *s = <const unsigned char *>base
    cdef Py_ssize_t start, end, vstart, vend, q, k
    # NOTE: made at its final size, not grown by appends: a browser's dozen fields would
    # reallocate it three times.
    cdef list headers = PyList_New(count)
    cdef Py_ssize_t filled = 0
    cdef tuple field
    cdef bytes name, value
    cdef long long n
    cdef int hosts = 0, codings
    cdef Py_ssize_t host_index = -1
    cdef object upgrade = None
    facts.conn_close = facts.conn_keep_alive = facts.conn_upgrade = False
    facts.has_length = facts.chunked = facts.te_seen = facts.te_unknown = False
    facts.length = -1
    head.expect_continue = False

    # field lines: field-name ":" OWS field-value OWS CRLF (RFC 9112 §5)
    while i < head_len - 2:
        start = i
        name = _field_name(s, &i)
        if s[i] != b':':
            if i == start and _is_ows(s[i]):
                raise HeadError(HEAD_INVALID,
                                "obs-fold or whitespace at the start of a header line")
            if _is_ows(s[i]):
                raise HeadError(HEAD_INVALID, "whitespace between header name and colon")
            if s[i] == b'\r' and s[i + 1] == b'\n':
                raise HeadError(HEAD_INVALID, "header line without a colon")
            raise HeadError(HEAD_INVALID, "invalid character in header name")
        if i == start:
            raise HeadError(HEAD_INVALID, "empty header name")
        i += 1
        while _is_ows(s[i]):
            i += 1
        vstart = i
        i += _plain_run(s + i, head_len - i)
        if s[i] != b'\r' or s[i + 1] != b'\n':
            # The head ends in CRLF CRLF, so a CR is always found; it must end this line.
            i = <const char *>memchr(base + i, b'\r', head_len - i) - base
            for k in range(vstart, i + 1):
                if not VALUE[s[k]]:
                    break
            if k < i or s[i + 1] != b'\n':
                raise HeadError(HEAD_INVALID, "invalid character in header value")
        vend = i
        while vend > vstart and _is_ows(s[vend - 1]):
            vend -= 1
        i += 2
        if filled < RECENT_FIELDS and _recalled(recent, filled, name, base + vstart,
                                                vend - vstart):
            field = <tuple>PyList_GET_ITEM(recent, filled)
        else:
            if vend == vstart:
                value = EMPTY
            else:
                value = PyBytes_FromStringAndSize(base + vstart, vend - vstart)
            field = (name, value)
            if filled < RECENT_FIELDS:
                _remember(recent, filled, field)
        if filled == count:
            raise HeadError(HEAD_INVALID, "more field lines than the parser counted")
        Py_INCREF(field)
        PyList_SET_ITEM(headers, filled, field)  # steals the reference taken above
        filled += 1

        if name is H_HOST:
            hosts += 1
            if hosts > 1:
                raise HeadError(HEAD_INVALID, "more than one Host header")
            # RFC 9112 §3.2: a Host field with an invalid value gets a 400.
            if not _valid_authority(s + vstart, vend - vstart, False):
                raise HeadError(HEAD_INVALID, "invalid Host header")
            host_index = filled - 1
        elif name is H_CONTENT_LENGTH:
            n = 0
            if vend == vstart:
                raise HeadError(HEAD_INVALID, "invalid Content-Length")
            for k in range(vstart, vend):
                if not (b'0' <= s[k] <= b'9'):
                    raise HeadError(HEAD_INVALID, "invalid Content-Length")
                if k - vstart < 18:  # 18 digits always fit a signed 64-bit integer
                    n = n * 10 + (s[k] - 48)  # ASCII '0'
            if vend - vstart > 18:
                raise HeadError(HEAD_INVALID, "Content-Length too large")
            if facts.has_length and n != facts.length:
                raise HeadError(HEAD_INVALID, "conflicting Content-Length headers")
            facts.has_length = True
            facts.length = n
        elif name is H_TRANSFER_ENCODING:
            # Several field lines are one list (RFC 9110 §5.3): nothing may follow chunked.
            if _equals_lower(base + vstart, vend - vstart, b"chunked", 7):
                if facts.chunked:
                    raise HeadError(HEAD_INVALID, "chunked applied more than once")
                facts.chunked = True
            elif facts.chunked:
                raise HeadError(HEAD_INVALID, "chunked is not the final Transfer-Encoding")
            else:
                codings = _check_coding_list(base + vstart, vend - vstart)
                facts.chunked = codings & 1
                facts.te_unknown = True
            facts.te_seen = True
        elif name is H_CONNECTION:
            k = vstart
            while k < vend:
                q = k
                while q < vend and s[q] != b',':
                    q += 1
                end = q
                while k < end and _is_ows(s[k]):
                    k += 1
                while end > k and _is_ows(s[end - 1]):
                    end -= 1
                if _equals_lower(base + k, end - k, b"close", 5):
                    facts.conn_close = True
                elif _equals_lower(base + k, end - k, b"keep-alive", 10):
                    facts.conn_keep_alive = True
                elif _equals_lower(base + k, end - k, b"upgrade", 7):
                    facts.conn_upgrade = True
                k = q + 1
        elif name is H_UPGRADE:
            upgrade = _header_name(s + vstart, vend - vstart) if vend > vstart else None
        elif name is H_EXPECT:
            head.expect_continue = _equals_lower(base + vstart, vend - vstart, b"100-continue", 12)

    if filled != count:
        raise HeadError(HEAD_INVALID, "fewer field lines than the parser counted")
    if hosts == 0 and head.http_version is V11:
        raise HeadError(HEAD_INVALID, "missing Host header")
    if authority is not None:
        if host_index >= 0:
            headers[host_index] = (H_HOST, authority)
        else:
            headers.append((H_HOST, authority))
    head.headers = headers
    head.upgrade = upgrade
    return 0

cdef int _framing(RequestHead head, FieldFacts *facts) except -1:
    """Decide how the body is framed (RFC 9112 §6.1, §6.3) and whether the connection
    stays open."""
    cdef bint http11 = head.http_version is V11
    if facts.te_seen and facts.has_length:
        raise HeadError(HEAD_INVALID, "both Content-Length and Transfer-Encoding")
    if facts.te_seen and not http11:
        raise HeadError(HEAD_INVALID, "Transfer-Encoding in an HTTP/1.0 request")
    if facts.te_seen and not facts.chunked:
        raise HeadError(HEAD_INVALID, "chunked is not the final Transfer-Encoding")
    if facts.te_unknown:
        raise HeadError(HEAD_UNSUPPORTED_CODING, "unsupported transfer coding before chunked")
    head.keep_alive = not facts.conn_close and (http11 or facts.conn_keep_alive)
    if not facts.conn_upgrade:
        head.upgrade = None
    head.content_length = -1
    if facts.chunked:
        head.body_framing = FRAMING_CHUNKED
    elif facts.has_length:
        head.body_framing = FRAMING_LENGTH
        head.content_length = facts.length
    else:
        head.body_framing = FRAMING_NONE
    return 0

cdef int _check_coding_list(const char *v, Py_ssize_t n) except -1:
    """Read a Transfer-Encoding line other than a lone chunked (RFC 9112 §6.1, §6.3).

    Returns 1 when the line ends with chunked, else 0; the codings before it are ones this
    server does not implement. Refuses what makes the framing ambiguous: anything after
    chunked, chunked twice, and empty list elements, which a recipient that does not skip
    them would read as a different final coding."""
    cdef Py_ssize_t i = 0, start, end
    cdef int chunked = 0
    if n == 0:
        raise HeadError(HEAD_INVALID, "empty Transfer-Encoding")
    while i <= n:
        start = i
        while i < n and v[i] != b',':
            i += 1
        end = i
        i += 1
        while start < end and _is_ows(v[start]):
            start += 1
        while end > start and _is_ows(v[end - 1]):
            end -= 1
        if end == start:
            raise HeadError(HEAD_INVALID, "empty element in Transfer-Encoding")
        if _equals_lower(v + start, end - start, b"chunked", 7):
            if chunked:
                raise HeadError(HEAD_INVALID, "chunked applied more than once")
            chunked = 1
        elif chunked:
            raise HeadError(HEAD_INVALID, "chunked is not the final Transfer-Encoding")
    return chunked
