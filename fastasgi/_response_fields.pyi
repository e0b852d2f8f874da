"""Types of the response field rules (fastasgi/_response_fields.pyx)."""

from collections.abc import Iterable

class ResponseError(Exception):
    """The app asked for a response that cannot be put on the wire; nothing was written."""

class InvalidHeader(ResponseError):
    """CR, LF, NUL or another control byte in a value, whitespace at either end of a value, a name
    that is not an RFC 9110 token, a Content-Length that is not 1..18 digits, a transfer-coding
    other than ``chunked``, Content-Length twice or together with Transfer-Encoding."""

class HeaderTypeError(InvalidHeader, TypeError):
    """A header that is not a (name, value) pair of ``bytes``: str, bytearray and memoryview are
    refused, not converted."""

class InvalidStatus(ResponseError):
    """Not an int in 100..999 (bool refused), or a 1xx status for an HTTP/1.0 request."""

class BodyLengthError(ResponseError):
    """More body bytes than Content-Length, or a final body message that leaves it short."""

class ResponseStateError(ResponseError):
    """start() twice, body() before start(), body() after the final body message."""

def error_response(status: int, message: str) -> bytes:
    """A complete response to a request the server will not run: the status line, a text/plain
    body holding the message, and connection: close."""

# Fields RFC 9110 §6.5.1 keeps out of a trailer section (framing, connection, routing, content
# format); ResponseEncoder.trailers() refuses them.
NOT_IN_TRAILERS: frozenset[bytes]

def early_hints(links: Iterable[bytes]) -> bytes:
    """A complete 103 (Early Hints) response with a Link field per value of ``links``."""
