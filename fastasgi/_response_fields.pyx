# cython: language_level=3, boundscheck=False, wraparound=False
"""What an HTTP/1.1 response may carry: its status line (RFC 9112 §4), field names and values
(RFC 9110 §5.5, §5.6.2), and the errors that refuse anything else.

The serializer (``_serializer.ResponseEncoder``) builds response heads from these; the two
responses that need nothing more, an error answered in the app's place and a 103 (Early Hints),
are built here whole.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_GET_SIZE

from fastasgi._chars cimport fill_token, fill_value


# --- errors -----------------------------------------------------------------------------------

class ResponseError(Exception):
    """The app asked for a response that cannot be put on the wire; nothing was written."""


class InvalidHeader(ResponseError):
    """A header name or value that must not be sent, or a malformed framing header."""


class HeaderTypeError(InvalidHeader, TypeError):
    """A header that is not a pair of ``bytes`` (str, bytearray and memoryview are refused too)."""


class InvalidStatus(ResponseError):
    """A status that is not an int in 100..999, or a 1xx status for an HTTP/1.0 client."""


class BodyLengthError(ResponseError):
    """A body longer than its Content-Length, or a final body message that leaves it short."""


class ResponseStateError(ResponseError):
    """start() twice, body() before start(), or body() after the final body message."""


# --- character classes (RFC 9110 §5.6.2 token, §5.5 field values) ----------------------------

cdef unsigned char TOKEN[256]
cdef unsigned char VALUE[256]       # field-vchar, obs-text, SP, HTAB


fill_token(TOKEN)
fill_value(VALUE)


cdef inline bint _is_token(const unsigned char *s, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i
    if n == 0:
        return False
    for i in range(n):
        if not TOKEN[s[i]]:
            return False
    return True


cdef bint is_field_value(const unsigned char *s, Py_ssize_t n) noexcept:
    """RFC 9110 §5.5: visible bytes with inner SP/HTAB; no whitespace at either end."""
    cdef Py_ssize_t i
    if n == 0:
        return True
    if s[0] == 0x20 or s[0] == 0x09 or s[n - 1] == 0x20 or s[n - 1] == 0x09:
        return False
    for i in range(n):
        if not VALUE[s[i]]:
            return False
    return True


cdef int check_field(object name, object value, str role) except -1:
    """Refuse what must never be written: RFC 9110 §5.6.2 (token) and §5.5 (field value)."""
    if not PyBytes_Check(name) or not PyBytes_Check(value):
        raise HeaderTypeError(
            f"{role} name and value must be bytes, not "
            f"({type(name).__name__}, {type(value).__name__})")
    if not _is_token(<const unsigned char *>PyBytes_AS_STRING(name), PyBytes_GET_SIZE(name)):
        raise InvalidHeader(f"{role} name is not an RFC 9110 token: {name!r}")
    if not is_field_value(<const unsigned char *>PyBytes_AS_STRING(value),
                           PyBytes_GET_SIZE(value)):
        raise InvalidHeader(f"{role} value of {name!r} is not a valid field value: {value!r}")
    return 0


cdef bytes checked_header_line(object name, object value, str role):
    check_field(name, value, role)
    return name + b": " + value + b"\r\n"


# Fields a trailer section must not carry (RFC 9110 §6.5.1): framing, connection management and
# routing are settled by the head, before the body.
NOT_IN_TRAILERS = frozenset((b"content-length", b"transfer-encoding", b"connection", b"keep-alive",
                             b"te", b"trailer", b"upgrade", b"host", b"content-type",
                             b"content-encoding"))


# --- status lines -----------------------------------------------------------------------------

# RFC 9110 §15 and the IANA HTTP Status Code Registry.
_REASONS = {
    100: b"Continue", 101: b"Switching Protocols", 102: b"Processing", 103: b"Early Hints",
    200: b"OK", 201: b"Created", 202: b"Accepted", 203: b"Non-Authoritative Information",
    204: b"No Content", 205: b"Reset Content", 206: b"Partial Content", 207: b"Multi-Status",
    208: b"Already Reported", 226: b"IM Used",
    300: b"Multiple Choices", 301: b"Moved Permanently", 302: b"Found", 303: b"See Other",
    304: b"Not Modified", 305: b"Use Proxy", 307: b"Temporary Redirect",
    308: b"Permanent Redirect",
    400: b"Bad Request", 401: b"Unauthorized", 402: b"Payment Required", 403: b"Forbidden",
    404: b"Not Found", 405: b"Method Not Allowed", 406: b"Not Acceptable",
    407: b"Proxy Authentication Required", 408: b"Request Timeout", 409: b"Conflict",
    410: b"Gone", 411: b"Length Required", 412: b"Precondition Failed",
    413: b"Content Too Large", 414: b"URI Too Long", 415: b"Unsupported Media Type",
    416: b"Range Not Satisfiable", 417: b"Expectation Failed", 421: b"Misdirected Request",
    422: b"Unprocessable Content", 423: b"Locked", 424: b"Failed Dependency",
    425: b"Too Early", 426: b"Upgrade Required", 428: b"Precondition Required",
    429: b"Too Many Requests", 431: b"Request Header Fields Too Large",
    451: b"Unavailable For Legal Reasons",
    500: b"Internal Server Error", 501: b"Not Implemented", 502: b"Bad Gateway",
    503: b"Service Unavailable", 504: b"Gateway Timeout", 505: b"HTTP Version Not Supported",
    506: b"Variant Also Negotiates", 507: b"Insufficient Storage", 508: b"Loop Detected",
    510: b"Not Extended", 511: b"Network Authentication Required",
}

# One ready line per status 100..999. A code without a registered reason gets an empty one, which
# the grammar allows: status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4).
# We always answer as HTTP/1.1, the highest version we speak (RFC 9110 §6.2).
cdef list STATUS_LINES = [
    b"HTTP/1.1 %d %s\r\n" % (code, _REASONS.get(code, b"")) for code in range(100, 1000)
]


cdef bytes status_line(int status):
    return <bytes>STATUS_LINES[status - 100]


cpdef bytes error_response(int status, str message):
    """A complete response to a request we will not run, closing the connection: the status,
    and the message as a plain-text body."""
    cdef bytes body = (message + "\n").encode("utf-8", "replace")
    if status < 100 or status > 999:
        raise InvalidStatus(f"the status must be in 100..999, not {status}")
    return b"".join([
        <bytes>STATUS_LINES[status - 100],
        b"content-type: text/plain; charset=utf-8\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
        body,
    ])


cpdef bytes early_hints(object links):
    """A 103 (Early Hints, RFC 8297) with one Link field per value of ``links`` (bytes, each a
    Link field value, RFC 8288)."""
    cdef list lines = [<bytes>STATUS_LINES[103 - 100]]
    if isinstance(links, (bytes, str)):
        raise HeaderTypeError("links must be an iterable of bytes values, not one value")
    for link in links:
        check_field(b"link", link, "link")
        lines.append(b"link: %s\r\n" % link)
    lines.append(b"\r\n")
    return b"".join(lines)
