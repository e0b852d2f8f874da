"""Types of the sans-I/O HTTP/1.1 response serializer (fastasgi/_serializer.pyx)."""

from collections.abc import Iterable

class ResponseError(Exception):
    """The app asked for a response that cannot be put on the wire; nothing was written."""

class InvalidHeader(ResponseError): ...     # CR/LF/NUL in a name or value, a non-token name
class InvalidStatus(ResponseError): ...     # not an int in 100..999 (1xx interim responses refused)
class BodyLengthError(ResponseError): ...   # more bytes than Content-Length, or fewer at the end
class ResponseStateError(ResponseError): ...  # start twice, body before start, body after the end

def set_date(value: bytes) -> None:
    """Set the cached value of the Date header (e.g. b"Sat, 21 Nov 2026 19:40:00 GMT").

    The caller refreshes it at most once a second; every encoder with date=True uses it."""

class ResponseEncoder:
    """Encodes one response at a time on one connection; reset() between responses."""

    keep_alive: bool        # after start(): may the connection serve another request?
    status: int             # after start()
    bytes_sent: int         # body bytes framed so far (for the access log)
    started: bool
    complete: bool          # the final body message was encoded

    def __init__(
        self,
        *,
        date: bool = True,
        server: bytes | None = b"fastasgi",
        default_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None: ...
    def reset(self) -> None: ...
    def start(
        self,
        status: int,
        headers: Iterable[tuple[bytes, bytes]] | Iterable[list[bytes]],
        *,
        head_request: bool = False,
        http11: bool = True,
        keep_alive: bool = True,
    ) -> None:
        """Validate and remember the head; it goes out with the first body() call, so a small
        response is one write. Raises InvalidStatus / InvalidHeader / ResponseStateError."""
    def body(self, data: bytes, more_body: bool = False) -> bytes:
        """Bytes to write for this body message: the pending head (first call), then the body
        framed (chunked, Content-Length or close-delimited), and the final chunk when done.
        HEAD, 1xx, 204 and 304 responses carry no body bytes. Raises BodyLengthError."""
