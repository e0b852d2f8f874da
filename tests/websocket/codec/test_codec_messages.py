"""Receiving messages and control frames from a client: the events and the replies."""

import pytest

from fastasgi._websocket import NEED_DATA, Close, Ping, Pong, WebSocketCodec
from tests.support.websocket_frames import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    client_frame,
    close_payload,
    events,
    server_frames,
)


def test_text_message_is_returned_as_str():
    codec = WebSocketCodec()
    assert events(codec, client_frame(TEXT, "héllo wörld €𝄞".encode())) == ["héllo wörld €𝄞"]


def test_binary_message_is_returned_as_bytes():
    codec = WebSocketCodec()
    assert events(codec, client_frame(BINARY, bytes(range(256)))) == [bytes(range(256))]


def test_empty_text_and_binary_messages():
    codec = WebSocketCodec()
    assert events(codec, client_frame(TEXT) + client_frame(BINARY)) == ["", b""]


@pytest.mark.parametrize("size", [1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001])
def test_payload_lengths_across_length_encodings(size):
    payload = bytes(i * 7 % 251 for i in range(size))
    text = ("aé" * size)[:size]
    codec = WebSocketCodec()
    got = events(codec, client_frame(BINARY, payload) + client_frame(TEXT, text.encode()))
    assert got == [payload, text]


def test_mask_is_applied_at_every_payload_offset():
    # A payload fed in odd-sized pieces must be unmasked with the key rotated correctly.
    payload = bytes(range(200)) * 3
    frame = client_frame(BINARY, payload, mask=b"\x01\x02\x03\x04")
    codec = WebSocketCodec()
    out = []
    for i in range(0, len(frame), 13):
        out += events(codec, frame[i : i + 13])
    assert out == [payload]


def test_several_messages_in_one_feed_come_out_in_order():
    data = b"".join(client_frame(TEXT, f"m{i}".encode()) for i in range(50))
    assert events(WebSocketCodec(), data) == [f"m{i}" for i in range(50)]


def test_need_data_until_the_frame_is_complete():
    frame = client_frame(TEXT, b"hello")
    codec = WebSocketCodec()
    codec.feed(frame[:-1])
    assert codec.next_event() is NEED_DATA
    codec.feed(frame[-1:])
    assert codec.next_event() == "hello"
    assert codec.next_event() is NEED_DATA


def test_fragmented_message_is_reassembled():
    codec = WebSocketCodec()
    data = (
        client_frame(TEXT, b"hel", fin=False)
        + client_frame(CONTINUATION, b"lo ", fin=False)
        + client_frame(CONTINUATION, b"", fin=False)
        + client_frame(CONTINUATION, b"world")
    )
    assert events(codec, data) == ["hello world"]


def test_control_frames_interleaved_between_fragments():
    codec = WebSocketCodec()
    data = (
        client_frame(BINARY, b"ab", fin=False)
        + client_frame(PING, b"p1")
        + client_frame(CONTINUATION, b"cd", fin=False)
        + client_frame(PONG, b"p2")
        + client_frame(CONTINUATION, b"ef")
    )
    assert events(codec, data) == [Ping(b"p1"), Pong(b"p2"), b"abcdef"]
    assert server_frames(codec.data_to_send()) == [(True, False, PONG, b"p1")]


def test_ping_is_answered_with_a_pong_carrying_its_payload():
    codec = WebSocketCodec()
    assert events(codec, client_frame(PING, b"x" * 125)) == [Ping(b"x" * 125)]
    assert server_frames(codec.data_to_send()) == [(True, False, PONG, b"x" * 125)]
    assert codec.data_to_send() == b""


def test_only_the_latest_unanswered_ping_is_answered():
    codec = WebSocketCodec()
    got = events(codec, client_frame(PING, b"1") + client_frame(PING, b"2"))
    assert got == [Ping(b"1"), Ping(b"2")]
    assert server_frames(codec.data_to_send()) == [(True, False, PONG, b"2")]


def test_pong_is_reported_and_not_answered():
    codec = WebSocketCodec()
    assert events(codec, client_frame(PONG, b"hb")) == [Pong(b"hb")]
    assert codec.data_to_send() == b""


def test_close_is_reported_and_answered_with_the_same_code():
    codec = WebSocketCodec()
    got = events(codec, client_frame(CLOSE, close_payload(1001, "bye ✓".encode())))
    assert got == [Close(1001, "bye ✓")]
    assert server_frames(codec.data_to_send()) == [(True, False, CLOSE, b"\x03\xe9")]
    assert codec.close_received and codec.close_sent


def test_empty_close_is_reported_as_1005_and_answered_empty():
    codec = WebSocketCodec()
    assert events(codec, client_frame(CLOSE)) == [Close(1005, "")]
    assert server_frames(codec.data_to_send()) == [(True, False, CLOSE, b"")]


@pytest.mark.parametrize("code", [1000, 1003, 1007, 1011, 1012, 1014, 3000, 3999, 4000, 4999])
def test_valid_close_codes_are_accepted(code):
    codec = WebSocketCodec()
    assert events(codec, client_frame(CLOSE, close_payload(code))) == [Close(code, "")]


def test_input_after_a_close_is_ignored():
    codec = WebSocketCodec()
    data = client_frame(CLOSE, close_payload(1000)) + client_frame(TEXT, b"late")
    assert events(codec, data) == [Close(1000, "")]
    codec.feed(client_frame(TEXT, b"later") + b"\xff garbage")
    assert codec.next_event() is NEED_DATA
    assert codec.buffered == 0


def test_pending_pong_goes_out_before_the_close_reply():
    codec = WebSocketCodec()
    events(codec, client_frame(PING, b"p") + client_frame(CLOSE, close_payload(1000)))
    frames = server_frames(codec.data_to_send())
    assert [f.opcode for f in frames] == [PONG, CLOSE]


def test_close_after_our_close_is_not_answered_again():
    codec = WebSocketCodec()
    codec.encode_close(1001, "going away")
    assert events(codec, client_frame(CLOSE, close_payload(1001))) == [Close(1001, "")]
    assert codec.data_to_send() == b""


def test_messages_still_arrive_after_our_close_but_pings_get_no_pong():
    codec = WebSocketCodec()
    codec.encode_close()
    assert events(codec, client_frame(TEXT, b"in flight") + client_frame(PING)) == [
        "in flight",
        Ping(b""),
    ]
    assert codec.data_to_send() == b""


def test_message_of_exactly_max_size_is_accepted():
    codec = WebSocketCodec(max_size=1000)
    got = events(codec, client_frame(BINARY, b"a" * 600, fin=False))
    got += events(codec, client_frame(CONTINUATION, b"b" * 400))
    assert got == [b"a" * 600 + b"b" * 400]


def test_buffered_counts_unconsumed_input():
    codec = WebSocketCodec()
    frame = client_frame(BINARY, b"abc")
    codec.feed(frame[:1])
    assert codec.next_event() is NEED_DATA
    assert codec.buffered == 1
    codec.feed(frame[1:])
    assert codec.buffered == len(frame)
    assert codec.next_event() == b"abc"
    assert codec.buffered == 0


def test_partial_payload_is_consumed_as_it_arrives():
    # The input buffer keeps no payload bytes: they go into the message buffer at once.
    frame = client_frame(BINARY, b"z" * 10000)
    codec = WebSocketCodec()
    codec.feed(frame[:5000])
    assert codec.next_event() is NEED_DATA
    assert codec.buffered == 0
    assert events(codec, frame[5000:]) == [b"z" * 10000]


def test_feed_accepts_bytearray_and_memoryview():
    codec = WebSocketCodec()
    frame = client_frame(TEXT, b"abc")
    codec.feed(bytearray(frame[:3]))
    codec.feed(memoryview(frame)[3:])
    assert events(codec) == ["abc"]
