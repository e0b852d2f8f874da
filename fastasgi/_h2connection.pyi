"""Types of the sans-I/O HTTP/2 server connection (fastasgi/_h2connection.pyx, RFC 9113).

Use, per connection:

    conn = H2Connection(settings)      # one H2Settings built from Config, handed down whole
    conn.initiate()
    transport.write(conn.data_to_send())
    # data_received(data); the events are the classes of fastasgi._h2events:
    for event in conn.receive_data(data):
        ...  # RequestReceived, DataReceived, TrailersReceived, StreamReset, WindowUpdated,
             # ConnectionTerminated, PingAcked, SettingsAcked
    transport.write(conn.data_to_send())
    # once the application consumed a DataReceived:
    conn.acknowledge_received_data(event.stream_id, event.flow_controlled_length)
"""

from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import Final

from fastasgi._h2events import Event
from fastasgi._h2frames import ErrorCode

DEFAULT_MAX_CONCURRENT_STREAMS: Final[int]
DEFAULT_INITIAL_WINDOW_SIZE: Final[int]
DEFAULT_MAX_FRAME_SIZE: Final[int]
DEFAULT_MAX_HEADER_LIST_SIZE: Final[int]
DEFAULT_MAX_RESETS: Final[int]
DEFAULT_RESET_WINDOW: Final[float]
DEFAULT_MAX_CONTROL_FRAMES: Final[int]
DEFAULT_CONTROL_WINDOW: Final[float]

class StreamState(IntEnum):
    OPEN = 1
    HALF_CLOSED_REMOTE = 2
    HALF_CLOSED_LOCAL = 3

class H2Settings:
    max_concurrent_streams: int
    initial_window_size: int
    max_frame_size: int
    max_header_list_size: int
    max_resets: int
    """Client RST_STREAMs, plus stream errors the client provoked, allowed per reset_window."""
    reset_window: float
    max_control_frames: int
    """SETTINGS, PING, PRIORITY, empty DATA and empty CONTINUATION allowed per control_window."""
    control_window: float
    def __init__(
        self, *, max_concurrent_streams: int, initial_window_size: int, max_frame_size: int,
        max_header_list_size: int, max_resets: int, reset_window: float,
        max_control_frames: int, control_window: float,
    ) -> None: ...

class H2Connection:
    settings: H2Settings
    closed: bool
    last_stream_id: int
    def __init__(self, settings: H2Settings, *, clock: Callable[[], float] = ...) -> None: ...
    def initiate(self) -> None:
        """Queue our SETTINGS (and a connection WINDOW_UPDATE if our window is larger)."""
    def upgrade(self, settings_payload: bytes) -> None:
        """Take over an ``Upgrade: h2c`` request: apply its HTTP2-Settings and open stream 1
        half-closed (remote). Before ``initiate``; H2ConnectionError if the settings are bad."""
    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]: ...
    def data_to_send(self) -> bytes: ...
    def send_headers(self, stream_id: int, headers: Iterable[tuple[bytes, bytes]],
                     end_stream: bool = False) -> None: ...
    def send_data(self, stream_id: int, data: bytes | bytearray | memoryview,
                  end_stream: bool = False) -> int:
        """How many octets went out; wait for WindowUpdated to send the rest."""
    def outbound_window(self, stream_id: int) -> int: ...
    def acknowledge_received_data(self, stream_id: int, n: int) -> None: ...
    def reset_stream(self, stream_id: int, error_code: int = ErrorCode.CANCEL) -> None: ...
    def close(self, error_code: int = ErrorCode.NO_ERROR) -> None:
        """GOAWAY with last_stream_id; NO_ERROR lets open streams finish."""
