"""Requests, responses and stream states (RFC 9113 §5.1, §8) against the h2 library as client."""

import base64

import h2.config
import h2.connection
import h2.events
import pytest

from fastasgi._h2events import (
    ConnectionTerminated,
    DataReceived,
    RequestReceived,
    StreamReset,
    TrailersReceived,
)
from fastasgi._h2frames import (
    ContinuationFrame,
    ErrorCode,
    FrameReader,
    H2ConnectionError,
    HeadersFrame,
    encode_data,
    encode_rst_stream,
)
from fastasgi._hpack import Decoder, Encoder

from .connection import (
    POST,
    REQUEST,
    FakeClock,
    H2Connection,
    connected,
    exchange,
    goaway_code,
    h2_client,
    make_settings,
    of_type,
    raw_connected,
    raw_headers,
    rst_codes,
    sent_frames,
)
from .frames import raw_frame


def test_request_answered_with_headers_and_body():
    server, client = connected()
    client.send_headers(1, REQUEST + [(b"user-agent", b"t")], end_stream=True)
    events = server.receive_data(client.data_to_send())
    assert len(events) == 1 and isinstance(events[0], RequestReceived)
    assert events[0].stream_id == 1 and events[0].end_stream
    assert events[0].headers == REQUEST + [(b"user-agent", b"t")]
    server.send_headers(1, [(b":status", b"200"), (b"content-type", b"text/plain")])
    assert server.send_data(1, b"hello", end_stream=True) == 5
    seen = client.receive_data(server.data_to_send())
    response = of_type(seen, h2.events.ResponseReceived)[0]
    assert response.headers == [(b":status", b"200"), (b"content-type", b"text/plain")]
    assert of_type(seen, h2.events.DataReceived)[0].data == b"hello"
    assert of_type(seen, h2.events.StreamEnded)[0].stream_id == 1
    with pytest.raises(ValueError):                 # closed now
        server.send_data(1, b"more")


def test_large_response_headers_split_into_continuation_at_peer_frame_size():
    server, client = connected()
    client.send_headers(1, REQUEST, end_stream=True)
    server.receive_data(client.data_to_send())
    big = [(b":status", b"200")] + [(b"x-h%d" % i, b"v" * 1000) for i in range(40)]
    server.send_headers(1, big, end_stream=True)
    out = server.data_to_send()
    frames = FrameReader(expect_preface=False)
    frames.feed(out)
    kinds = []
    while (frame := frames.next_frame()) is not None:
        kinds.append(type(frame))
        assert len(getattr(frame, "block", b"")) <= 16384
    assert kinds[0] is HeadersFrame and ContinuationFrame in kinds
    seen = client.receive_data(out)
    assert of_type(seen, h2.events.ResponseReceived)[0].headers == big


def test_request_body_and_trailers_end_the_stream():
    server, client = connected()
    client.send_headers(1, POST)
    client.send_data(1, b"abc")
    client.send_headers(1, [(b"x-checksum", b"1")], end_stream=True)
    events = server.receive_data(client.data_to_send())
    assert [type(e) for e in events] == [RequestReceived, DataReceived, TrailersReceived]
    assert events[1].data == b"abc" and events[1].flow_controlled_length == 3
    assert events[2].headers == [(b"x-checksum", b"1")]
    assert server.outbound_window(1) > 0           # half-closed (remote): we may still send


def _client_bytes_of_a_conversation() -> bytes:
    client = h2_client()
    client.send_headers(1, POST + [(b"content-type", b"text/plain")])
    client.send_data(1, b"x" * 5000)
    client.send_data(1, b"y" * 70, end_stream=True)
    client.send_headers(3, REQUEST, end_stream=True)
    client.ping(b"12345678")
    client.reset_stream(3)
    return client.data_to_send()


def _events_of(chunks) -> list[str]:
    server = H2Connection(make_settings(), clock=FakeClock())
    server.initiate()
    events = []
    for chunk in chunks:
        events += [repr(e) for e in server.receive_data(chunk)]
    return events


def test_every_split_of_the_input_gives_the_same_events():
    data = _client_bytes_of_a_conversation()
    whole = _events_of([data])
    assert any("DataReceived(1" in e for e in whole) and any("StreamReset(3" in e for e in whole)
    assert _events_of([data[i:i + 1] for i in range(len(data))]) == whole
    for cut in range(0, len(data), 37):
        assert _events_of([data[:cut], data[cut:]]) == whole


def test_even_stream_id_is_a_connection_protocol_error():
    server = raw_connected()
    events = server.receive_data(raw_headers(2, REQUEST))
    assert isinstance(events[-1], ConnectionTerminated) and server.closed
    assert goaway_code(server) == ErrorCode.PROTOCOL_ERROR


def test_decreasing_stream_id_is_a_connection_error():
    # opening 5 closed the idle stream 3 (§5.1.1), so HEADERS on it is on a closed stream
    server = raw_connected()
    encoder = Encoder()
    server.receive_data(raw_headers(5, REQUEST, encoder=encoder))
    server.receive_data(raw_headers(3, REQUEST, encoder=encoder))
    assert server.closed and goaway_code(server) == ErrorCode.STREAM_CLOSED


def test_push_promise_from_client_is_protocol_error():
    server = raw_connected()
    server.receive_data(raw_headers(1, REQUEST, end_stream=False))
    server.receive_data(raw_frame(0x5, 0x4, 1, b"\x00\x00\x00\x02" + Encoder().encode(REQUEST)))
    assert server.closed and goaway_code(server) == ErrorCode.PROTOCOL_ERROR


def test_data_after_end_stream_is_stream_closed():
    server = raw_connected()
    server.receive_data(raw_headers(1, REQUEST, end_stream=True))
    events = server.receive_data(encode_data(1, b"late", False))
    assert rst_codes(sent_frames(server)) == {1: ErrorCode.STREAM_CLOSED}
    assert [(e.stream_id, e.error_code, e.remote) for e in events] == [
        (1, ErrorCode.STREAM_CLOSED, False)]
    assert not server.closed


def test_headers_on_a_closed_stream_is_stream_closed():
    encoder = Encoder()
    raw = raw_connected()
    raw.receive_data(raw_headers(1, REQUEST, encoder=encoder))
    raw.send_headers(1, [(b":status", b"204")], end_stream=True)     # stream 1 closed
    raw.data_to_send()
    raw.receive_data(raw_headers(1, [(b"x-late", b"1")], encoder=encoder))
    assert raw.closed and goaway_code(raw) == ErrorCode.STREAM_CLOSED


def test_data_on_idle_stream_is_protocol_error():
    server = raw_connected()
    server.receive_data(encode_data(7, b"x", True))
    assert server.closed and goaway_code(server) == ErrorCode.PROTOCOL_ERROR


def test_reset_of_idle_stream_is_protocol_error():
    server = raw_connected()
    server.receive_data(encode_rst_stream(9, ErrorCode.CANCEL))
    assert server.closed and goaway_code(server) == ErrorCode.PROTOCOL_ERROR


def test_client_reset_is_reported_and_closes_the_stream():
    server, client = connected()
    client.send_headers(1, POST)
    exchange(server, client)
    client.reset_stream(1, error_code=ErrorCode.CANCEL)
    events = server.receive_data(client.data_to_send())
    assert [(type(e), e.stream_id, e.error_code, e.remote) for e in events] == [
        (StreamReset, 1, ErrorCode.CANCEL, True)]
    with pytest.raises(ValueError):
        server.send_headers(1, [(b":status", b"200")])


def test_streams_beyond_max_concurrent_are_refused():
    server, client = connected(max_concurrent_streams=2)
    for stream_id in (1, 3):
        client.send_headers(stream_id, POST)
    events = server.receive_data(client.data_to_send())
    assert len(of_type(events, RequestReceived)) == 2
    # the h2 client obeys the limit; a hand-written one does not
    encoder_server = raw_connected(max_concurrent_streams=2)
    encoder = Encoder()
    for stream_id in (1, 3, 5):
        events = encoder_server.receive_data(raw_headers(stream_id, POST, False, encoder))
    assert events == []
    assert rst_codes(sent_frames(encoder_server)) == {5: ErrorCode.REFUSED_STREAM}
    # HPACK stayed in step: a later request on a freed slot decodes
    encoder_server.receive_data(encode_rst_stream(1, ErrorCode.CANCEL))
    events = encoder_server.receive_data(raw_headers(7, REQUEST, True, encoder))
    assert isinstance(events[0], RequestReceived) and events[0].headers == REQUEST


@pytest.mark.parametrize(
    "headers",
    [
        [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), (b"Host", b"x")],
        REQUEST + [(b"connection", b"keep-alive")],
        REQUEST + [(b"transfer-encoding", b"chunked")],
        REQUEST + [(b"upgrade", b"websocket")],
        REQUEST + [(b"te", b"gzip")],
        [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"x")],   # no :path
        [(b":method", b"GET"), (b":path", b"/"), (b":authority", b"x")],         # no :scheme
        REQUEST + [(b":status", b"200")],
        [(b":method", b"GET"), (b"accept", b"*/*"), (b":scheme", b"https"), (b":path", b"/")],
        REQUEST + [(b":path", b"/again")],
        [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"")],
        REQUEST + [(b"x-bad", b"a\r\nb")],
        [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"index.html")],
        [(b":method", b"G T"), (b":scheme", b"https"), (b":path", b"/")],
        [(b":method", b""), (b":scheme", b"https"), (b":path", b"/")],
        REQUEST + [(b"content-length", b"5")],            # END_STREAM: no body follows
        REQUEST + [(b"content-length", b"-1")],
        REQUEST + [(b"content-length", b"0"), (b"content-length", b"0")],
        REQUEST + [(b"content-length", b"1" * 19)],
    ],
    ids=["uppercase", "connection", "transfer-encoding", "upgrade", "te-gzip", "no-path",
         "no-scheme", "response-pseudo", "pseudo-after-regular", "repeated-pseudo",
         "empty-path", "crlf-in-value", "path-not-origin-form", "method-not-token",
         "empty-method", "length-without-body", "negative-length", "repeated-length",
         "length-too-long"],
)
def test_malformed_request_is_reset_with_protocol_error(headers):
    server = raw_connected()
    encoder = Encoder()
    events = server.receive_data(raw_headers(1, headers, True, encoder))
    assert events == []
    assert rst_codes(sent_frames(server)) == {1: ErrorCode.PROTOCOL_ERROR}
    events = server.receive_data(raw_headers(3, REQUEST + [(b"te", b"trailers")], True, encoder))
    assert isinstance(events[0], RequestReceived)


@pytest.mark.parametrize(
    ("headers", "end_stream"),
    [
        ([(b":method", b"OPTIONS"), (b":scheme", b"https"), (b":path", b"*")], True),
        (REQUEST + [(b"content-length", b"000")], True),
        ([(b":method", b"POST"), *REQUEST[1:], (b"content-length", b"12")], False),
        ([(b":method", b"M-SEARCH"), *REQUEST[1:]], True),
    ],
    ids=["asterisk", "zero-length-without-body", "length-with-body", "extension-method"],
)
def test_requests_at_the_edge_of_the_rules_are_received(headers, end_stream):
    server = raw_connected()
    [event] = server.receive_data(raw_headers(1, headers, end_stream))
    assert isinstance(event, RequestReceived) and event.headers == headers


def test_connect_is_refused_with_501():
    server = raw_connected()
    server.receive_data(raw_headers(1, [(b":method", b"CONNECT"), (b":authority", b"h:443")],
                                    end_stream=False))
    frames = sent_frames(server)
    assert Decoder(65536).decode(frames[0].block) == [(b":status", b"501")]
    assert frames[0].end_stream
    assert rst_codes(frames) == {1: ErrorCode.NO_ERROR}


def test_client_goaway_is_reported():
    server, client = connected()
    client.send_headers(1, REQUEST, end_stream=True)
    exchange(server, client)
    client.close_connection(error_code=ErrorCode.NO_ERROR, last_stream_id=0)
    events = server.receive_data(client.data_to_send())
    assert [(type(e), e.error_code, e.remote) for e in events] == [
        (ConnectionTerminated, ErrorCode.NO_ERROR, True)]


def test_close_sends_goaway_with_last_processed_stream():
    server, client = connected()
    client.send_headers(1, REQUEST, end_stream=True)
    client.send_headers(3, REQUEST, end_stream=True)
    exchange(server, client)
    server.close()
    seen = client.receive_data(server.data_to_send())
    assert [(type(e), e.error_code, e.last_stream_id) for e in seen] == [
        (h2.events.ConnectionTerminated, ErrorCode.NO_ERROR, 3)]
    server.send_headers(3, [(b":status", b"200")], end_stream=True)   # open streams finish


def test_reset_stream_sends_rst_stream():
    server, client = connected()
    client.send_headers(1, POST)
    exchange(server, client)
    server.reset_stream(1, ErrorCode.INTERNAL_ERROR)
    seen = client.receive_data(server.data_to_send())
    assert [(type(e), e.error_code) for e in seen] == [
        (h2.events.StreamReset, ErrorCode.INTERNAL_ERROR)]
    assert server.receive_data(encode_data(1, b"in flight", False)) == []   # ignored (§5.1)


# --- Upgrade: h2c (RFC 7540 §3.2) ---------------------------------------------------------

def upgrade_payload(client) -> bytes:
    header = client.initiate_upgrade_connection()
    return base64.urlsafe_b64decode(header + b"=" * (-len(header) % 4))


def test_upgrade_opens_stream_one_for_the_response():
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None))
    server = H2Connection(make_settings(), clock=FakeClock())
    server.upgrade(upgrade_payload(client))
    server.initiate()
    assert server.last_stream_id == 1
    assert server.receive_data(client.data_to_send()) == []
    server.send_headers(1, [(b":status", b"200")])
    assert server.send_data(1, b"upgraded", end_stream=True) == 8
    events = client.receive_data(server.data_to_send())
    kinds = [(type(e).__name__, getattr(e, "stream_id", None)) for e in events]
    assert ("ResponseReceived", 1) in kinds
    assert ("StreamEnded", 1) in kinds


def test_upgrade_with_a_bad_settings_payload_is_refused():
    server = H2Connection(make_settings(), clock=FakeClock())
    with pytest.raises(H2ConnectionError):
        server.upgrade(b"\x00\x03\x00\x00\x00")        # not a multiple of 6 octets
    with pytest.raises(H2ConnectionError):
        server.upgrade(b"\x00\x04\x80\x00\x00\x00")    # INITIAL_WINDOW_SIZE above 2**31-1
