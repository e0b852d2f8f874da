"""Types of the sans-I/O HTTP/2 frame layer (fastasgi/_h2frames.pyx, RFC 9113 §3.4, §4, §6).

Use, per connection:

    reader = FrameReader(max_frame_size=settings.max_frame_size)
    # data_received(data):
    reader.feed(data)
    try:
        while (frame := reader.next_frame()) is not None:
            ...  # dispatch on type(frame): DataFrame, HeadersFrame, ...
    except H2StreamError as exc:
        ...  # RST_STREAM exc.stream_id with exc.code; exc.frame's field block still goes to
             # HPACK; then keep calling next_frame()
    except H2ConnectionError as exc:
        ...  # GOAWAY with exc.code, close
    transport.write(encode_settings([(SettingCode.MAX_CONCURRENT_STREAMS, 100)]))

Memory held between calls: once next_frame() returned None, less than one frame
(max_frame_size + 9 octets).
"""

from collections.abc import Iterable
from enum import IntEnum
from typing import ClassVar, Final, TypeAlias

BytesLike: TypeAlias = bytes | bytearray | memoryview

PREFACE: Final[bytes]
"""The client connection preface (§3.4)."""

class FrameType(IntEnum):
    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9

class ErrorCode(IntEnum):
    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD

class SettingCode(IntEnum):
    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8
    NO_RFC7540_PRIORITIES = 0x9

class H2Error(Exception):
    """The peer broke RFC 9113; answer with ``code``."""

    code: ErrorCode
    stream_id: int
    frame: Frame | None
    def __init__(
        self, code: int, message: str, stream_id: int = 0, frame: Frame | None = None
    ) -> None: ...

class H2ConnectionError(H2Error):
    """Send GOAWAY with ``code`` and close; the reader raises this again on every call."""

class H2StreamError(H2Error):
    """Send RST_STREAM with ``code`` on ``stream_id``; reading goes on. ``frame`` is set when
    it carries a field block the HPACK decoder must still see (HEADERS), or when its stream
    may be idle, which makes it a connection error (WINDOW_UPDATE, RFC 9113 §5.1)."""

class _FrameBase:
    """Not a runtime class: the fields every frame has."""

    _FIELDS: ClassVar[tuple[str, ...]]
    stream_id: int

class DataFrame(_FrameBase):
    data: bytes
    end_stream: bool
    flow_controlled_length: int
    """The whole payload, padding included: what flow control counts (§6.1)."""

class HeadersFrame(_FrameBase):
    block: bytes
    end_stream: bool
    end_headers: bool

class PriorityFrame(_FrameBase):
    depends_on: int
    weight: int
    exclusive: bool

class RstStreamFrame(_FrameBase):
    error_code: int

class SettingsFrame(_FrameBase):
    ack: bool
    settings: list[tuple[int, int]]

class PushPromiseFrame(_FrameBase):
    promised_stream_id: int
    block: bytes
    end_headers: bool

class PingFrame(_FrameBase):
    ack: bool
    opaque_data: bytes

class GoAwayFrame(_FrameBase):
    last_stream_id: int
    error_code: int
    debug_data: bytes

class WindowUpdateFrame(_FrameBase):
    increment: int

class ContinuationFrame(_FrameBase):
    block: bytes
    end_headers: bool

class FrameReader:
    max_frame_size: int
    def __init__(self, max_frame_size: int = 16384, *, expect_preface: bool = True) -> None: ...
    @property
    def buffered(self) -> int:
        """Octets fed but not consumed yet."""
    def feed(self, data: BytesLike) -> None: ...
    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes are fed."""
    def set_max_frame_size(self, size: int) -> None:
        """Our SETTINGS_MAX_FRAME_SIZE, once acknowledged: 16384 to 16777215."""

Frame: TypeAlias = (
    DataFrame | HeadersFrame | PriorityFrame | RstStreamFrame | SettingsFrame
    | PushPromiseFrame | PingFrame | GoAwayFrame | WindowUpdateFrame | ContinuationFrame
)

def encode_settings(settings: Iterable[tuple[int, int]]) -> bytes: ...
def encode_settings_ack() -> bytes: ...
def encode_headers(stream_id: int, block: bytes, end_stream: bool, max_frame_size: int) -> bytes:
    """HEADERS plus the CONTINUATION frames ``block`` needs at the peer's max frame size."""
def encode_data(stream_id: int, data: BytesLike, end_stream: bool) -> bytes: ...
def encode_ping(opaque_data: bytes) -> bytes: ...
def encode_ping_ack(opaque_data: bytes) -> bytes: ...
def encode_goaway(last_stream_id: int, error_code: int, debug_data: bytes = b"") -> bytes: ...
def encode_rst_stream(stream_id: int, error_code: int) -> bytes: ...
def encode_window_update(stream_id: int, increment: int) -> bytes: ...
