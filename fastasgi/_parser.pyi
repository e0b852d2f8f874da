"""Types of the sans-I/O HTTP/1.1 request parser (fastasgi/_parser.pyx)."""

from typing import Final

from fastasgi._marker import Marker
from fastasgi.settings import HTTPLimits

class HTTPParseError(Exception):
    """A request the server must refuse. ``status`` is the response status to answer with."""

    status: int

class InvalidRequest(HTTPParseError): ...          # 400
class RequestLineTooLong(HTTPParseError): ...      # 414
class HeadersTooLarge(HTTPParseError): ...         # 431: header bytes or header count
class BodyTooLarge(HTTPParseError): ...            # 413
class ChunkSizeTooLong(InvalidRequest): ...        # 400: too many chunk-size digits
class UnsupportedTransferCoding(HTTPParseError): ...  # 501
class MethodNotImplemented(HTTPParseError): ...    # 501: a method too long to be one, or CONNECT
class UnsupportedVersion(HTTPParseError): ...      # 505
class HTTP2Preface(UnsupportedVersion): ...        # 505: "PRI * HTTP/2.0"

NEED_DATA: Final[Marker]
"""next_event(): nothing more can be parsed until more bytes are fed."""
END_OF_MESSAGE: Final[Marker]
"""next_event(): the current request (head and body) is complete."""

BODY_NONE: Final[int]
BODY_LENGTH: Final[int]
BODY_CHUNKED: Final[int]

class RequestHead:
    method: str
    target: bytes           # the request-target exactly as sent
    path: str               # percent-decoded (UTF-8, errors replaced), as ASGI wants it
    raw_path: bytes         # path part of the target, undecoded
    query_string: bytes     # after '?', undecoded, without the '?'
    http_version: str       # "1.1" or "1.0" (HTTP/1.2 to 1.9 are read as 1.1)
    headers: list[tuple[bytes, bytes]]  # lowercased names, values without OWS, in order
    keep_alive: bool
    upgrade: bytes | None   # lowercased Upgrade value when Connection: upgrade asks for it
    expect_continue: bool
    body_framing: int       # BODY_NONE, BODY_LENGTH or BODY_CHUNKED
    content_length: int     # -1 unless body_framing == BODY_LENGTH

class RequestParser:
    def __init__(self, limits: HTTPLimits) -> None:
        """Enforces limits: request line bytes (414), head bytes and field count (431), body
        bytes (413; 0 = no limit). A chunk size may have 15 significant hex digits, which
        always fit a 64-bit size."""
    @property
    def buffered(self) -> int:
        """Bytes fed but not yet consumed by next_event()."""
    @property
    def in_body(self) -> bool:
        """A head was returned and its body is not complete yet."""
    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes; raises the stored error after a parse error."""
    def next_event(self) -> RequestHead | bytes | Marker:
        """The next event: a RequestHead, a body piece (bytes), END_OF_MESSAGE or NEED_DATA.

        Raises an HTTPParseError subclass on malformed input; after that every call raises it
        again (nothing after a smuggling attempt reaches the app)."""
    def take_end_of_message(self) -> None:
        """Consume the END_OF_MESSAGE of a request without a body (BODY_NONE, or a
        Content-Length of 0), right after its head; RuntimeError if it is not the next event."""
    def take_buffered(self) -> bytes:
        """Remove and return every unconsumed byte (for a protocol switch after an upgrade)."""
