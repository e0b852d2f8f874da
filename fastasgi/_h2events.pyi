"""Types of the HTTP/2 connection events (fastasgi/_h2events.pyx)."""

from typing import TypeAlias

Headers: TypeAlias = list[tuple[bytes, bytes]]

class RequestReceived:
    stream_id: int
    headers: Headers
    """As decoded, pseudo-header fields first; validated per RFC 9113 §8.1.1 and §8.2-8.3
    (:method a token, :path origin-form or '*', at most one content-length, all digits, and
    zero when end_stream)."""
    end_stream: bool

class DataReceived:
    stream_id: int
    data: bytes
    end_stream: bool
    flow_controlled_length: int
    """What to pass to acknowledge_received_data once the data is consumed."""

class TrailersReceived:
    """The request's trailer section; it ends the request."""
    stream_id: int
    headers: Headers

class StreamReset:
    stream_id: int
    error_code: int
    remote: bool
    """True: the client sent RST_STREAM; False: we reset it for a stream error."""

class ConnectionTerminated:
    error_code: int
    last_stream_id: int
    remote: bool
    """True: the client sent GOAWAY; False: we did, for a connection error (now closed)."""

class WindowUpdated:
    """Send windows grew: stream_id, or 0 for the connection (every stream)."""
    stream_id: int

class PingAcked:
    opaque_data: bytes

class SettingsAcked: ...

Event: TypeAlias = (
    RequestReceived | DataReceived | TrailersReceived | StreamReset | ConnectionTerminated
    | WindowUpdated | PingAcked | SettingsAcked
)
