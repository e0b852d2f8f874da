"""Bounds against abusive clients: Rapid Reset (CVE-2023-44487), control-frame floods,
CONTINUATION floods, oversized header lists."""

import h2.events

from fastasgi._h2events import RequestReceived
from fastasgi._h2frames import (
    ErrorCode,
    encode_data,
    encode_ping,
    encode_settings,
)
from fastasgi._hpack import Encoder

from .connection import (
    POST,
    REQUEST,
    FakeClock,
    connected,
    exchange,
    goaway_code,
    of_type,
    raw_connected,
    raw_headers,
    sent_frames,
)
from .frames import raw_frame


def test_rapid_reset_ends_the_connection_with_enhance_your_calm():
    clock = FakeClock()
    server, client = connected(clock, max_resets=10, reset_window=1.0)
    for stream_id in range(1, 21, 2):               # ten resets: at the bound
        client.send_headers(stream_id, REQUEST)
        client.reset_stream(stream_id)
    exchange(server, client)
    assert not server.closed
    client.send_headers(21, REQUEST)
    client.reset_stream(21)
    _, seen = exchange(server, client)
    assert server.closed
    assert [e.error_code for e in of_type(seen, h2.events.ConnectionTerminated)] == [
        ErrorCode.ENHANCE_YOUR_CALM]


def test_malformed_requests_count_as_resets():
    server = raw_connected(max_resets=10, reset_window=1.0)
    encoder = Encoder()
    bad = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"no-slash")]
    for stream_id in range(1, 21, 2):               # ten stream errors: at the bound
        server.receive_data(raw_headers(stream_id, bad, True, encoder))
    assert not server.closed
    server.receive_data(raw_headers(21, bad, True, encoder))
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM


def test_resets_spread_over_time_are_allowed():
    clock = FakeClock()
    server, client = connected(clock, max_resets=10, reset_window=1.0)
    for stream_id in range(1, 201, 2):
        clock.now += 0.2
        client.send_headers(stream_id, REQUEST)
        client.reset_stream(stream_id)
        exchange(server, client)
    assert not server.closed


def test_ping_flood_ends_the_connection():
    server = raw_connected(max_control_frames=50, control_window=10.0)
    server.receive_data(encode_ping(b"12345678") * 49)     # with the client's first SETTINGS
    assert len(sent_frames(server)) == 49 and not server.closed
    server.receive_data(encode_ping(b"12345678"))
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM


def test_settings_flood_ends_the_connection():
    server = raw_connected(max_control_frames=20, control_window=10.0)
    server.receive_data(encode_settings([]) * 21)
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM


def test_empty_data_flood_ends_the_connection():
    server = raw_connected(max_control_frames=20, control_window=10.0)
    server.receive_data(raw_headers(1, POST, end_stream=False))
    server.receive_data(encode_data(1, b"", False) * 21)
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM


def test_continuation_flood_ends_the_connection_before_the_block_ends():
    server = raw_connected(max_header_list_size=8192)
    block = Encoder().encode(REQUEST + [(b"x-pad", b"p" * 100)])
    server.receive_data(raw_frame(0x1, 0x0, 1, block))      # HEADERS without END_HEADERS
    for _ in range(8192 // 1000):
        server.receive_data(raw_frame(0x9, 0x0, 1, b"\x00" * 1000))
        assert not server.closed
    server.receive_data(raw_frame(0x9, 0x0, 1, b"\x00" * 1000))
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM


def test_empty_continuation_flood_ends_the_connection():
    server = raw_connected(max_control_frames=30, control_window=10.0)
    server.receive_data(raw_frame(0x1, 0x0, 1, Encoder().encode(REQUEST)))
    server.receive_data(raw_frame(0x9, 0x0, 1, b"") * 31)
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM


def test_header_list_too_large_gets_431_and_hpack_stays_in_step():
    server, client = connected(max_header_list_size=16384)
    # indexed repeats: a small block that decodes to a list over the limit
    client.send_headers(1, REQUEST + [(b"x-big", b"a" * 1000)] * 20, end_stream=True)
    events, seen = exchange(server, client)
    assert events == []
    assert of_type(seen, h2.events.ResponseReceived)[0].headers == [(b":status", b"431")]
    client.send_headers(3, REQUEST + [(b"x-big", b"a" * 1000)], end_stream=True)
    events, _ = exchange(server, client)
    assert isinstance(events[0], RequestReceived)
    assert events[0].headers == REQUEST + [(b"x-big", b"a" * 1000)]


def test_reset_stream_errors_provoked_by_the_client_count_as_resets():
    server = raw_connected(max_resets=5, reset_window=10.0)
    encoder = Encoder()
    for stream_id in range(1, 13, 2):           # each one a malformed request
        server.receive_data(raw_headers(stream_id, [(b":method", b"GET")], True, encoder))
    assert server.closed and goaway_code(server) == ErrorCode.ENHANCE_YOUR_CALM
