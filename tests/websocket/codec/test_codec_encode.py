"""Frames the server sends (RFC 6455 §5.2): unmasked, one bytes object per message."""

import pytest

from fastasgi._websocket import WebSocketClosed, WebSocketCodec
from tests.support.websocket_frames import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    client_frame,
    close_payload,
    events,
    server_frames,
)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 100_000])
def test_binary_message_is_one_unmasked_frame(size):
    payload = bytes(i % 256 for i in range(size))
    data = WebSocketCodec().encode_binary(payload)
    assert type(data) is bytes
    assert server_frames(data) == [(True, False, BINARY, payload)]


@pytest.mark.parametrize("size,header", [(125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_length_uses_the_shortest_encoding(size, header):
    assert len(WebSocketCodec().encode_binary(b"x" * size)) == size + header


def test_text_message_is_utf8():
    text = "ascii, é, €, 😀"
    assert server_frames(WebSocketCodec().encode_text(text)) == [(True, False, TEXT, text.encode())]


def test_text_with_a_lone_surrogate_cannot_be_encoded():
    with pytest.raises(UnicodeEncodeError):
        WebSocketCodec().encode_text("\ud800")


def test_binary_accepts_bytearray_and_memoryview():
    codec = WebSocketCodec()
    assert server_frames(codec.encode_binary(bytearray(b"ab")))[0].payload == b"ab"
    assert server_frames(codec.encode_binary(memoryview(b"cd")))[0].payload == b"cd"


def test_ping_and_pong():
    codec = WebSocketCodec()
    assert server_frames(codec.encode_ping(b"x")) == [(True, False, PING, b"x")]
    assert server_frames(codec.encode_pong()) == [(True, False, PONG, b"")]


def test_control_payload_over_125_bytes_is_refused():
    with pytest.raises(ValueError):
        WebSocketCodec().encode_ping(b"x" * 126)


def test_close_carries_code_and_reason():
    codec = WebSocketCodec()
    data = codec.encode_close(4001, "rest ✓")
    assert server_frames(data) == [(True, False, CLOSE, close_payload(4001, "rest ✓".encode()))]
    assert codec.close_sent


def test_close_defaults_to_1000():
    assert server_frames(WebSocketCodec().encode_close())[0].payload == b"\x03\xe8"


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000])
def test_close_code_that_may_not_be_sent_is_refused(code):
    codec = WebSocketCodec()
    with pytest.raises(ValueError):
        codec.encode_close(code)
    assert not codec.close_sent


def test_close_reason_over_123_bytes_is_refused():
    with pytest.raises(ValueError):
        WebSocketCodec().encode_close(1000, "é" * 62)
    assert len(WebSocketCodec().encode_close(1000, "x" * 123)) == 127


def test_nothing_can_be_encoded_after_the_close():
    codec = WebSocketCodec()
    codec.encode_close()
    for encode in (
        lambda: codec.encode_text("x"),
        lambda: codec.encode_binary(b"x"),
        lambda: codec.encode_ping(),
        lambda: codec.encode_pong(),
        lambda: codec.encode_close(),
    ):
        with pytest.raises(WebSocketClosed):
            encode()


def test_encode_close_drops_a_pong_not_yet_sent():
    codec = WebSocketCodec()
    events(codec, client_frame(PING, b"late"))
    codec.encode_close()
    assert codec.data_to_send() == b""
