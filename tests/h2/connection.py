"""Helpers for the connection tests: our server connection driven by the h2 library."""

import h2.config
import h2.connection

from fastasgi._h2connection import (
    DEFAULT_CONTROL_WINDOW,
    DEFAULT_INITIAL_WINDOW_SIZE,
    DEFAULT_MAX_CONCURRENT_STREAMS,
    DEFAULT_MAX_CONTROL_FRAMES,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_HEADER_LIST_SIZE,
    DEFAULT_MAX_RESETS,
    DEFAULT_RESET_WINDOW,
    H2Connection,
    H2Settings,
)
from fastasgi._h2frames import (
    FrameReader,
    GoAwayFrame,
    RstStreamFrame,
    encode_headers,
    encode_settings_ack,
)
from fastasgi._hpack import Encoder

from .frames import CLIENT_START, read_all

REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"),
           (b":authority", b"example.com")]
POST = [(b":method", b"POST"), *REQUEST[1:]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_settings(**overrides) -> H2Settings:
    values = {
        "max_concurrent_streams": DEFAULT_MAX_CONCURRENT_STREAMS,
        "initial_window_size": DEFAULT_INITIAL_WINDOW_SIZE,
        "max_frame_size": DEFAULT_MAX_FRAME_SIZE,
        "max_header_list_size": DEFAULT_MAX_HEADER_LIST_SIZE,
        "max_resets": DEFAULT_MAX_RESETS,
        "reset_window": DEFAULT_RESET_WINDOW,
        "max_control_frames": DEFAULT_MAX_CONTROL_FRAMES,
        "control_window": DEFAULT_CONTROL_WINDOW,
    }
    values.update(overrides)
    return H2Settings(**values)


def h2_client(**config) -> h2.connection.H2Connection:
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None, **config))
    client.initiate_connection()
    return client


def connected(clock=None, **overrides):
    """A server and an h2 client past the preface, both settings acknowledged."""
    server = H2Connection(make_settings(**overrides), clock=clock or FakeClock())
    server.initiate()
    client = h2_client()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    events = server.receive_data(client.data_to_send())
    assert [type(e).__name__ for e in events] == ["SettingsAcked"]
    return server, client


def exchange(server, client):
    """Client bytes to the server, then the server's answer to the client."""
    server_events = server.receive_data(client.data_to_send())
    client_events = client.receive_data(server.data_to_send())
    return server_events, client_events


def of_type(events, kind):
    return [e for e in events if isinstance(e, kind)]


def raw_connected(**overrides) -> H2Connection:
    """A server talking to a hand-written client (for frames the h2 library refuses to send)."""
    server = H2Connection(make_settings(**overrides), clock=FakeClock())
    server.initiate()
    assert server.receive_data(CLIENT_START + encode_settings_ack())[0].__class__.__name__ \
        == "SettingsAcked"
    server.data_to_send()
    return server


def sent_frames(server: H2Connection) -> list:
    return read_all(FrameReader(expect_preface=False), server.data_to_send())


def goaway_code(server: H2Connection) -> int | None:
    codes = [f.error_code for f in sent_frames(server) if isinstance(f, GoAwayFrame)]
    return codes[-1] if codes else None


def rst_codes(frames: list) -> dict[int, int]:
    return {f.stream_id: f.error_code for f in frames if isinstance(f, RstStreamFrame)}


def raw_headers(stream_id: int, headers, end_stream: bool = True, encoder=None) -> bytes:
    block = (encoder or Encoder()).encode(headers)
    return encode_headers(stream_id, block, end_stream, 16384)
