"""Every protocol violation fails the connection with its close code (RFC 6455 §5, §7.4)."""

import struct

import pytest

from fastasgi._websocket import NEED_DATA, ProtocolError, WebSocketCodec
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


def fail(data: bytes, codec: WebSocketCodec | None = None) -> ProtocolError:
    """Feed ``data`` and return the ProtocolError it causes; the close frame for it is queued."""
    codec = codec or WebSocketCodec()
    with pytest.raises(ProtocolError) as info:
        events(codec, data)
    err = info.value
    [frame] = server_frames(codec.data_to_send())
    assert frame.opcode == CLOSE
    assert frame.payload == struct.pack("!H", err.code) + err.reason.encode()
    return err


def test_unmasked_frame_is_1002():
    assert fail(client_frame(TEXT, b"hi", mask=None)).code == 1002


def test_unmasked_frame_fails_before_its_payload_arrives():
    assert fail(client_frame(BINARY, b"x" * 1000, mask=None)[:2]).code == 1002


@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10, 0x70])
def test_reserved_bits_without_an_extension_are_1002(rsv):
    assert fail(client_frame(TEXT, b"hi", rsv=rsv)).code == 1002


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_unknown_opcode_is_1002(opcode):
    assert fail(client_frame(opcode, b"")).code == 1002


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE])
def test_control_frame_over_125_bytes_is_1002(opcode):
    assert fail(client_frame(opcode, b"x" * 126)).code == 1002


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE])
def test_fragmented_control_frame_is_1002(opcode):
    assert fail(client_frame(opcode, b"", fin=False)).code == 1002


def test_continuation_without_a_message_is_1002():
    assert fail(client_frame(CONTINUATION, b"x")).code == 1002


def test_continuation_after_a_finished_message_is_1002():
    data = client_frame(TEXT, b"done") + client_frame(CONTINUATION, b"more")
    codec = WebSocketCodec()
    codec.feed(data)
    assert codec.next_event() == "done"
    assert fail(b"", codec).code == 1002


@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_new_data_frame_inside_a_fragmented_message_is_1002(opcode):
    data = client_frame(TEXT, b"a", fin=False) + client_frame(opcode, b"b")
    assert fail(data).code == 1002


def test_length_with_the_most_significant_bit_set_is_1002():
    header = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 1 << 63)
    assert fail(header).code == 1002


def test_message_over_max_size_is_1009_at_its_header():
    header = client_frame(BINARY, b"", length=1001)[:8]  # header and mask, no payload
    err = fail(header, WebSocketCodec(max_size=1000))
    assert (err.code, err.reason) == (1009, "message too big")


def test_fragmented_message_over_max_size_is_1009():
    codec = WebSocketCodec(max_size=1000)
    data = client_frame(TEXT, b"a" * 600, fin=False) + client_frame(CONTINUATION, b"a" * 401)
    assert fail(data, codec).code == 1009


def test_control_frames_do_not_count_towards_max_size():
    codec = WebSocketCodec(max_size=10)
    data = (
        client_frame(BINARY, b"12345", fin=False)
        + client_frame(PING, b"x" * 100)
        + client_frame(CONTINUATION, b"67890")
    )
    assert events(codec, data)[-1] == b"1234567890"


def test_one_byte_close_payload_is_1002():
    assert fail(client_frame(CLOSE, b"\x03")).code == 1002


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_invalid_close_code_is_1002(code):
    assert fail(client_frame(CLOSE, close_payload(code))).code == 1002


def test_invalid_utf8_in_close_reason_is_1007():
    assert fail(client_frame(CLOSE, close_payload(1000, b"ok\xff"))).code == 1007


def test_truncated_utf8_in_close_reason_is_1007():
    assert fail(client_frame(CLOSE, close_payload(1000, "€".encode()[:2]))).code == 1007


def test_error_is_raised_again_on_every_later_call():
    codec = WebSocketCodec()
    codec.feed(client_frame(TEXT, b"x", mask=None))
    with pytest.raises(ProtocolError) as first:
        codec.next_event()
    with pytest.raises(ProtocolError) as again:
        codec.next_event()
    with pytest.raises(ProtocolError) as on_feed:
        codec.feed(client_frame(TEXT, b"fine"))
    assert first.value is again.value is on_feed.value


def test_events_before_the_bad_frame_are_delivered():
    codec = WebSocketCodec()
    codec.feed(client_frame(TEXT, b"good") + client_frame(TEXT, b"bad", mask=None))
    assert codec.next_event() == "good"
    with pytest.raises(ProtocolError):
        codec.next_event()


def test_no_close_frame_is_queued_when_ours_was_already_sent():
    codec = WebSocketCodec()
    codec.encode_close(1000)
    codec.feed(client_frame(TEXT, b"x", mask=None))
    with pytest.raises(ProtocolError):
        codec.next_event()
    assert codec.data_to_send() == b""


def test_error_does_not_appear_while_a_frame_is_merely_incomplete():
    codec = WebSocketCodec()
    codec.feed(client_frame(BINARY, b"x" * 300)[:3])
    assert codec.next_event() is NEED_DATA
