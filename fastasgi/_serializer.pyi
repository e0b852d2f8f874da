"""Types of the sans-I/O HTTP/1.1 response serializer (fastasgi/_serializer.pyx)."""

from collections.abc import Iterable

from fastasgi._response_fields import BodyLengthError as BodyLengthError
from fastasgi._response_fields import HeaderTypeError as HeaderTypeError
from fastasgi._response_fields import InvalidHeader as InvalidHeader
from fastasgi._response_fields import InvalidStatus as InvalidStatus
from fastasgi._response_fields import ResponseError as ResponseError
from fastasgi._response_fields import ResponseStateError as ResponseStateError
from fastasgi.settings import ResponseDefaults

def current_date() -> bytes:
    """The Date header's value that set_date last set."""

def set_date(value: bytes) -> None:
    """Set the cached value of the Date header (e.g. b"Sat, 21 Nov 2026 19:40:00 GMT").

    The caller refreshes it at most once a second; every encoder with date=True uses it. Until the
    first call, the time of import is used. Raises TypeError (not bytes) or ValueError (empty or
    not a valid field value)."""

class ResponseEncoder:
    """Encodes one response at a time on one connection; reset() between responses.

    Headers we add after the app's own, each only if the app did not send that name: ``date``
    (date=True), ``server`` (when configured), every default header; then, decided by the first
    body() call, ``content-length`` or ``transfer-encoding: chunked`` and ``connection: close`` /
    ``connection: keep-alive``.

    Body framing:
    - app's Content-Length: honoured; BodyLengthError for more bytes, or for a final body()
      that leaves it short (that also sets keep_alive False).
    - app's ``transfer-encoding: chunked``: honoured for HTTP/1.1; for HTTP/1.0 the header is
      not sent (RFC 9112 §6.1) and the body is framed as if the app had given neither.
    - neither: a first body() with more_body=False sends ``content-length``; otherwise
      HTTP/1.1 is chunked and HTTP/1.0 is close-delimited (keep_alive becomes False).
    - HEAD, 1xx, 204, 304: no body bytes; data given to body() is dropped. We add no framing
      header to these; the app's Content-Length / Transfer-Encoding are kept for HEAD and 304
      and dropped for 1xx and 204 (RFC 9110 §8.6, RFC 9112 §6.1).
    - a 1xx as the whole response is allowed (HTTP/1.1 only) but ends the connection.
    """

    keep_alive: bool        # may the connection serve another request? final after the first body()
    status: int             # after start(); 0 before
    bytes_sent: int         # body bytes framed so far, not counting chunk framing (access log)
    headers: object         # the headers given to start(), None before (access log)
    started: bool
    complete: bool          # the final body message was encoded

    def __init__(self, defaults: ResponseDefaults) -> None:
        """A server_header of None or b"" sends no Server header. The default headers (at most
        64) are validated like app headers; content-length, transfer-encoding and connection
        are refused there, and a default named date or server replaces the built-in one."""
    def reset(self) -> None:
        """Ready for the next response on the same keep-alive connection."""
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
        response is one write. keep_alive is what the request allows (for HTTP/1.0, only when it
        asked for keep-alive); the app's ``connection: close`` turns it off.
        Raises InvalidStatus / InvalidHeader / HeaderTypeError / ResponseStateError; a refused
        call leaves the encoder unstarted."""
    def body(self, data: bytes, more_body: bool = False) -> bytes:
        """Bytes to write for this body message: the pending head (first call), then the body
        framed (chunked, Content-Length or close-delimited), and the final chunk when done.
        An empty non-final chunk after the head is b"". data must be bytes (TypeError otherwise).
        Raises BodyLengthError or ResponseStateError; a refused call returns nothing and changes
        nothing but keep_alive."""
    def body_pieces(self, data: bytes, more_body: bool = False) -> bytes | tuple[bytes, ...]:
        """As body(), but for a piece of 32 KiB or more with a head or chunk framing to go
        around it, the pieces to write in order (one writev), ``data`` itself among them: a
        large body is never copied."""
    def file_head(self, size: int) -> bytes:
        """After start(), instead of body(): the head of a response whose body is a file of
        ``size`` bytes, which the caller writes itself; ``bytes_sent`` then says how many
        (0 for HEAD, 204 and 304). Raises BodyLengthError if the app's Content-Length
        differs, ResponseStateError if the response is chunked or a body went out."""
    def promise_trailers(self) -> bool:
        """After start(), before body(): trailer fields will follow the body, if the response
        can carry them (HTTP/1.1, chunked unless a Content-Length was given). True if so; the
        final body() then leaves the message open for trailers()."""
    def trailers(self, fields: Iterable[tuple[bytes, bytes]]) -> bytes:
        """After the final body(): the last chunk, the trailer section and the blank line, or b""
        when promise_trailers() returned False. Raises InvalidHeader for a field RFC 9110
        §6.5.1 keeps out of trailers (framing, connection, routing)."""
