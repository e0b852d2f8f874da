"""The h2 library as a client: its bytes through our reader and decoder, ours through it."""

import h2.config
import h2.connection
import h2.events

from fastasgi._h2frames import (
    DataFrame,
    FrameReader,
    HeadersFrame,
    SettingsFrame,
    encode_data,
    encode_headers,
    encode_settings,
    encode_settings_ack,
)
from fastasgi._hpack import Decoder, Encoder

from .frames import read_all


def client() -> h2.connection.H2Connection:
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    return conn


def request(path: bytes) -> list[tuple[bytes, bytes]]:
    return [(b":method", b"GET"), (b":path", path), (b":scheme", b"https"),
            (b":authority", b"example.com"), (b"user-agent", b"h2-test"),
            (b"accept", b"*/*")]


def test_h2_client_requests_decode_across_a_shared_table():
    conn = client()
    reader = FrameReader()
    decoder = Decoder(max_header_list_size=65536)
    for stream_id, path in ((1, b"/"), (3, b"/a"), (5, b"/b?q=1")):
        conn.send_headers(stream_id, request(path), end_stream=True)
        frames = read_all(reader, conn.data_to_send())
        headers = [f for f in frames if type(f) is HeadersFrame]
        assert len(headers) == 1 and headers[0].end_stream and headers[0].end_headers
        assert decoder.decode(headers[0].block) == request(path)
    assert decoder.table.count > 0          # later requests referred to earlier ones


def test_h2_client_preface_starts_with_settings():
    frames = read_all(FrameReader(), client().data_to_send())
    assert type(frames[0]) is SettingsFrame and not frames[0].ack


def test_h2_client_reads_our_responses():
    conn = client()
    conn.send_headers(1, request(b"/"), end_stream=True)
    conn.send_headers(3, request(b"/x"), end_stream=True)
    read_all(FrameReader(), conn.data_to_send())
    encoder = Encoder()
    response = [(b":status", b"200"), (b"content-type", b"text/plain"),
                (b"server", b"fastasgi"), (b"set-cookie", b"a=b")]
    out = encode_settings([]) + encode_settings_ack()
    for stream_id in (1, 3):
        out += encode_headers(stream_id, encoder.encode(response), False, 16384)
        out += encode_data(stream_id, b"hello", True)
    events = conn.receive_data(out)
    received = [e for e in events if isinstance(e, h2.events.ResponseReceived)]
    assert [(e.stream_id, list(e.headers)) for e in received] == [(1, response), (3, response)]
    bodies = [(e.stream_id, e.data) for e in events if isinstance(e, h2.events.DataReceived)]
    assert bodies == [(1, b"hello"), (3, b"hello")]
    assert sum(isinstance(e, h2.events.StreamEnded) for e in events) == 2


def test_h2_client_reads_headers_split_into_continuations():
    conn = client()
    conn.send_headers(1, request(b"/"), end_stream=True)
    conn.data_to_send()
    big = [(b":status", b"200"), (b"x-big", b"v" * 40000)]
    out = encode_settings([]) + encode_headers(1, Encoder().encode(big), True, 16384)
    events = conn.receive_data(out)
    (response,) = [e for e in events if isinstance(e, h2.events.ResponseReceived)]
    assert list(response.headers) == big


def test_h2_client_data_frames_keep_their_flow_controlled_length():
    conn = client()
    conn.send_headers(1, request(b"/upload"), end_stream=False)
    conn.send_data(1, b"x" * 1000, end_stream=True, pad_length=10)
    frames = read_all(FrameReader(), conn.data_to_send())
    (data,) = [f for f in frames if type(f) is DataFrame]
    assert (data.data, data.end_stream, data.flow_controlled_length) == (b"x" * 1000, True, 1011)
