"""Flow control (RFC 9113 §6.9) and SETTINGS (§6.5) against the h2 library as client."""

import h2.events
import h2.settings
import pytest

from fastasgi._h2events import DataReceived, RequestReceived, StreamReset, WindowUpdated
from fastasgi._h2frames import (
    DataFrame,
    ErrorCode,
    GoAwayFrame,
    SettingsFrame,
    encode_data,
    encode_settings,
    encode_window_update,
)
from fastasgi._hpack import Encoder

from .connection import (
    POST,
    REQUEST,
    connected,
    exchange,
    goaway_code,
    of_type,
    raw_connected,
    raw_headers,
    rst_codes,
    sent_frames,
)
from .frames import raw_frame


def test_large_body_arrives_only_as_the_application_acknowledges():
    window = 16384
    server, client = connected(initial_window_size=window)
    client.send_headers(1, POST)
    exchange(server, client)
    body = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    sent = received = acknowledged = 0
    pieces = []
    while received < len(body):
        room = min(client.local_flow_control_window(1), len(body) - sent)
        while room > 0:
            n = min(room, client.max_outbound_frame_size)
            client.send_data(1, body[sent:sent + n], end_stream=sent + n == len(body))
            sent += n
            room -= n
        events = server.receive_data(client.data_to_send())
        if not events:
            break                                   # stalled: the test fails below
        for event in of_type(events, DataReceived):
            pieces.append(event.data)
            received += event.flow_controlled_length
            # nothing beyond the advertised stream window is ever outstanding
            assert received - acknowledged <= window
        server.acknowledge_received_data(1, received - acknowledged)
        acknowledged = received
        client.receive_data(server.data_to_send())
    assert b"".join(pieces) == body


def test_unacknowledged_data_stalls_the_client():
    server, client = connected(initial_window_size=16384)
    client.send_headers(1, POST)
    client.send_data(1, b"x" * 16384)
    exchange(server, client)
    assert client.local_flow_control_window(1) == 0
    server.acknowledge_received_data(1, 4000)          # under half the window: no update yet
    assert server.data_to_send() == b""
    server.acknowledge_received_data(1, 5000)
    seen = client.receive_data(server.data_to_send())
    assert {e.stream_id for e in of_type(seen, h2.events.WindowUpdated)} == {1}
    assert client.local_flow_control_window(1) == 9000


def test_send_data_takes_only_what_the_windows_allow():
    server, client = connected()
    client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100})
    client.send_headers(1, REQUEST, end_stream=True)
    exchange(server, client)
    server.send_headers(1, [(b":status", b"200")])
    assert server.outbound_window(1) == 100
    assert server.send_data(1, b"a" * 1000, end_stream=True) == 100
    assert server.send_data(1, b"a" * 900, end_stream=True) == 0
    seen = client.receive_data(server.data_to_send())
    data = of_type(seen, h2.events.DataReceived)
    assert sum(len(e.data) for e in data) == 100 and not of_type(seen, h2.events.StreamEnded)
    client.increment_flow_control_window(900, stream_id=1)
    events, _ = exchange(server, client)
    assert [e.stream_id for e in of_type(events, WindowUpdated)] == [1]
    assert server.send_data(1, b"a" * 900, end_stream=True) == 900
    seen = client.receive_data(server.data_to_send())
    assert of_type(seen, h2.events.StreamEnded)


def test_send_data_splits_at_the_peer_max_frame_size():
    server, client = connected()
    client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100000})
    client.increment_flow_control_window(100000)
    client.send_headers(1, REQUEST, end_stream=True)
    exchange(server, client)
    server.send_headers(1, [(b":status", b"200")])
    assert server.send_data(1, b"z" * 40000, end_stream=True) == 40000
    frames = [f for f in sent_frames(server) if isinstance(f, DataFrame)]
    assert [len(f.data) for f in frames] == [16384, 16384, 40000 - 32768]


def test_peer_initial_window_change_adjusts_open_streams():
    server, client = connected()
    client.send_headers(1, REQUEST, end_stream=True)
    exchange(server, client)
    assert server.outbound_window(1) == 65535
    client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
    exchange(server, client)
    assert server.outbound_window(1) == 1000
    client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 5000})
    events, _ = exchange(server, client)
    assert [e.stream_id for e in of_type(events, WindowUpdated)] == [1]
    assert server.outbound_window(1) == 5000


def test_settings_are_acknowledged():
    server = raw_connected()
    server.receive_data(encode_settings([(0x3, 10)]))
    frames = sent_frames(server)
    assert len(frames) == 1 and isinstance(frames[0], SettingsFrame) and frames[0].ack


def test_peer_header_table_size_reaches_the_encoder():
    server, client = connected()
    client.update_settings({h2.settings.SettingCodes.HEADER_TABLE_SIZE: 0})
    client.send_headers(1, REQUEST, end_stream=True)
    exchange(server, client)
    server.send_headers(1, [(b":status", b"200"), (b"x-a", b"b")], end_stream=True)
    out = sent_frames(server)
    assert out[0].block[0] == 0x20                  # a table size update to 0 opens the block


def test_peer_header_table_size_takes_any_32_bit_value():
    # Found by fuzzing: 2**32-1 (allowed, RFC 9113 §6.5.2) escaped receive_data as ValueError.
    server = raw_connected()
    server.receive_data(encode_settings([(0x1, 2**32 - 1)]))
    frames = sent_frames(server)
    assert len(frames) == 1 and isinstance(frames[0], SettingsFrame) and frames[0].ack
    [request] = server.receive_data(raw_headers(1, REQUEST, True))
    assert isinstance(request, RequestReceived)
    server.send_headers(1, [(b":status", b"200")], end_stream=True)
    assert sent_frames(server)[0].block == b"\x88"   # no table size update: still 4096


def test_enable_push_other_than_0_or_1_is_protocol_error():
    server = raw_connected()
    server.receive_data(encode_settings([(0x2, 2)]))
    assert server.closed and goaway_code(server) == ErrorCode.PROTOCOL_ERROR


def test_data_beyond_our_window_is_flow_control_error():
    server = raw_connected(initial_window_size=1000)
    server.receive_data(raw_headers(1, POST, end_stream=False))
    server.receive_data(encode_data(1, b"x" * 1001, False))
    frames = sent_frames(server)
    assert rst_codes(frames) == {1: ErrorCode.FLOW_CONTROL_ERROR}
    assert not server.closed
    server = raw_connected()                        # stream and connection windows 65535
    encoder = Encoder()
    server.receive_data(raw_headers(1, POST, False, encoder))
    server.receive_data(encode_data(1, b"x" * 16383, False) * 4 + encode_data(1, b"x" * 3, False))
    assert not server.closed
    server.receive_data(raw_headers(3, POST, False, encoder))
    server.receive_data(encode_data(3, b"x", False))    # 65536 unacknowledged on the connection
    assert server.closed and goaway_code(server) == ErrorCode.FLOW_CONTROL_ERROR


def test_window_update_of_zero_is_protocol_error():
    server = raw_connected()
    server.receive_data(raw_frame(0x8, 0, 0, b"\x00\x00\x00\x00"))
    assert server.closed and goaway_code(server) == ErrorCode.PROTOCOL_ERROR


def test_window_update_of_zero_on_an_open_stream_resets_only_that_stream():
    server = raw_connected()
    server.receive_data(raw_headers(1, POST, end_stream=False))
    server.receive_data(raw_frame(0x8, 0, 1, b"\x00\x00\x00\x00"))
    assert rst_codes(sent_frames(server)) == {1: ErrorCode.PROTOCOL_ERROR}
    assert not server.closed


@pytest.mark.parametrize("stream_id", [3, 2])
def test_window_update_of_zero_on_an_idle_stream_is_a_connection_error(stream_id):
    # Found by fuzzing: it was answered with RST_STREAM, which never goes to an idle stream
    # (RFC 9113 §5.1), on an even id too.
    server = raw_connected()
    server.receive_data(raw_frame(0x8, 0, stream_id, b"\x00\x00\x00\x00"))
    frames = sent_frames(server)
    assert [type(f) for f in frames] == [GoAwayFrame]     # no RST_STREAM before it
    assert server.closed and frames[0].error_code == ErrorCode.PROTOCOL_ERROR


def test_stream_error_on_an_even_stream_is_a_connection_error():
    server = raw_connected()
    server.receive_data(raw_frame(0x2, 0, 2, b"\x00\x00\x00\x01"))   # PRIORITY of 4 octets
    frames = sent_frames(server)
    assert [type(f) for f in frames] == [GoAwayFrame]
    assert server.closed and frames[0].error_code == ErrorCode.FRAME_SIZE_ERROR


def test_window_over_2_31_minus_1_is_flow_control_error():
    server = raw_connected()
    server.receive_data(raw_headers(1, REQUEST))
    events = server.receive_data(encode_window_update(1, 0x7FFFFFFF))
    assert rst_codes(sent_frames(server)) == {1: ErrorCode.FLOW_CONTROL_ERROR}
    assert [type(e) for e in events] == [StreamReset]
    server.receive_data(encode_window_update(0, 0x7FFFFFFF))
    assert server.closed and goaway_code(server) == ErrorCode.FLOW_CONTROL_ERROR


def test_window_updates_in_a_row_make_one_event_and_all_count():
    server = raw_connected()
    server.receive_data(raw_headers(1, REQUEST))
    server.send_headers(1, [(b":status", b"200")])
    start = server.outbound_window(1)
    flood = encode_window_update(0, 1) * 1000
    events = server.receive_data(flood + encode_window_update(1, 5) * 3 + flood)
    assert [(type(e), e.stream_id) for e in events] == [
        (WindowUpdated, 0), (WindowUpdated, 1), (WindowUpdated, 0)]
    assert server.outbound_window(1) == start + 15   # the stream's own window, now the smaller
    events = server.receive_data(encode_window_update(0, 1))
    assert [(type(e), e.stream_id) for e in events] == [(WindowUpdated, 0)]   # a new read's own


def test_ping_is_answered():
    server, client = connected()
    client.ping(b"abcdefgh")
    _, seen = exchange(server, client)
    assert [(type(e), e.ping_data) for e in seen] == [(h2.events.PingAckReceived, b"abcdefgh")]


def test_request_received_counts_in_the_connection_window_once_acknowledged():
    server, client = connected()
    client.send_headers(1, POST)
    for size in (16384, 16384, 7232):
        client.send_data(1, b"q" * size)
    events, _ = exchange(server, client)
    assert isinstance(events[0], RequestReceived)
    server.acknowledge_received_data(1, 40000)
    seen = client.receive_data(server.data_to_send())
    assert {e.stream_id for e in of_type(seen, h2.events.WindowUpdated)} == {0, 1}
    assert client.outbound_flow_control_window == 65535
