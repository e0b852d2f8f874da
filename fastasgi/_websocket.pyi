"""Types of the sans-I/O WebSocket codec, server side (fastasgi/_websocket.pyx).

Use, per connection, after the 101 response went out:

    codec = WebSocketCodec(max_size=..., deflate=params_from_the_handshake_or_None)
    # data_received(data):
    codec.feed(data)
    try:
        while (event := codec.next_event()) is not NEED_DATA:
            ...  # str / bytes -> the app; Ping, Pong (keep-alive), Close -> close the transport
    except ProtocolError as exc:
        ...  # exc.code / exc.reason: the connection failed
    out = codec.data_to_send()  # pongs, the close reply, or the close frame of the error
    if out:
        transport.write(out)
    # the app sends:
    transport.write(codec.encode_text(text))

Closing (RFC 6455 §7.1): after a Close event or a ProtocolError, write data_to_send() and close
the transport (the server closes TCP first). After encode_close(), keep feeding until the Close
event arrives or a timeout runs out, then close the transport.

Memory held between calls: under 14 bytes of input once next_event() returned NEED_DATA (more
if the caller stops pulling events; see ``buffered``), the message being assembled (at most
``max_size`` bytes), and at most one pong and one close frame.
"""

from typing import Final, TypeAlias

from fastasgi._deflate import DeflateParams as DeflateParams
from fastasgi._marker import Marker

class ProtocolError(Exception):
    """The peer broke RFC 6455/7692 or a limit. Close with ``code``:
    1002 protocol error, 1007 invalid UTF-8 / invalid compressed data, 1009 message too big.
    The matching close frame is already queued in data_to_send()."""

    code: int
    reason: str
    def __init__(self, code: int, reason: str) -> None: ...

class WebSocketClosed(Exception):
    """encode_*() after the close frame was sent (by encode_close() or by the codec)."""

NEED_DATA: Final[Marker]
"""next_event(): no complete event until more bytes are fed (also: forever after a Close)."""

class Ping:
    payload: bytes
    def __init__(self, payload: bytes) -> None: ...

class Pong:
    payload: bytes
    def __init__(self, payload: bytes) -> None: ...

class Close:
    """The peer's close frame. ``code`` is 1005 when it carried no payload."""

    code: int
    reason: str
    def __init__(self, code: int, reason: str) -> None: ...

Event: TypeAlias = str | bytes | Ping | Pong | Close

class WebSocketCodec:
    """One server-side WebSocket connection after the opening handshake."""

    max_size: int  # bound of one received message, after decompression
    deflate: DeflateParams | None  # None: permessage-deflate not negotiated
    close_received: bool  # a Close event was returned; later input is ignored
    close_sent: bool  # a close frame was encoded or queued; encode_*() now raise
    def __init__(
        self, *, max_size: int = 16 * 1024 * 1024, deflate: DeflateParams | None = None
    ) -> None: ...
    @property
    def buffered(self) -> int:
        """Input bytes fed but not consumed by next_event() yet."""
    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes. Ignored after a Close; raises the stored ProtocolError after
        a failure."""
    def next_event(self) -> Event | Marker:
        """The next event: a text message (str), a binary message (bytes), Ping, Pong, Close,
        or NEED_DATA. A Ping's pong and a Close's reply are queued in data_to_send().
        Raises ProtocolError, and raises it again on every later call."""
    def data_to_send(self) -> bytes:
        """Bytes the codec owes the peer (pong, then close frame), b"" if none; clears them."""
    def encode_text(self, data: str) -> bytes:
        """One message as one frame (compressed when deflate is set). Raises WebSocketClosed;
        UnicodeEncodeError for a str with lone surrogates."""
    def encode_binary(self, data: bytes | bytearray | memoryview) -> bytes: ...
    def encode_ping(self, data: bytes = b"") -> bytes:
        """ValueError if ``data`` is over 125 bytes."""
    def encode_pong(self, data: bytes = b"") -> bytes: ...
    def encode_close(self, code: int = 1000, reason: str = "") -> bytes:
        """ValueError for a code that may not be sent (allowed: 1000-1003, 1007-1014,
        3000-4999) or a reason over 123 UTF-8 bytes. Drops a pong not yet taken."""
