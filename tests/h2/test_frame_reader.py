"""The frame reader (RFC 9113 §3.4, §4, §6): parsing, any split of the input, the local rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi._h2frames import (
    PREFACE,
    ContinuationFrame,
    DataFrame,
    ErrorCode,
    FrameReader,
    FrameType,
    GoAwayFrame,
    H2ConnectionError,
    H2Error,
    H2StreamError,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    WindowUpdateFrame,
    encode_settings,
)

from .frames import CLIENT_START, fields, raw_frame, read_all, read_split

E = ErrorCode
T = FrameType
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20

# A client's opening: every frame type, padding and priority fields, an unknown frame type.
CONVERSATION = b"".join([
    CLIENT_START,
    raw_frame(T.SETTINGS, ACK, 0, b""),
    raw_frame(T.HEADERS, PADDED | PRIORITY, 1,
              b"\x03" + b"\x80\x00\x00\x00\x0f" + b"AB" + b"\0" * 3),   # pad, priority, block
    raw_frame(T.CONTINUATION, END_HEADERS, 1, b"CD"),
    raw_frame(0xFA, 0xFF, 1, b"unknown frames are dropped"),
    raw_frame(T.DATA, PADDED | END_STREAM, 1, b"\x02hello\0\0"),
    raw_frame(T.PRIORITY, 0, 3, b"\x00\x00\x00\x01\xff"),
    raw_frame(T.RST_STREAM, 0, 3, b"\x00\x00\x00\x08"),
    raw_frame(T.PING, 0, 0, b"12345678"),
    raw_frame(T.WINDOW_UPDATE, 0, 0, b"\x80\x00\x01\x00"),       # reserved bit ignored
    raw_frame(T.PUSH_PROMISE, END_HEADERS, 5, b"\x00\x00\x00\x02EF"),
    raw_frame(T.GOAWAY, 0, 0, b"\x00\x00\x00\x05\x00\x00\x00\x00debug"),
])


def conversation_frames() -> list:
    return [fields(f) for f in read_split(CONVERSATION, [])]


def test_every_frame_type_is_parsed_with_padding_and_priority_removed():
    frames = read_split(CONVERSATION, [])
    assert [type(f) for f in frames] == [
        SettingsFrame, SettingsFrame, HeadersFrame, ContinuationFrame, DataFrame,
        PriorityFrame, RstStreamFrame, PingFrame, WindowUpdateFrame, PushPromiseFrame,
        GoAwayFrame,
    ]
    settings_, ack, headers, cont, data, prio, rst, ping, update, promise, goaway = frames
    assert not settings_.ack and settings_.settings == [] and ack.ack
    assert (headers.stream_id, headers.block, headers.end_headers) == (1, b"AB", False)
    assert (cont.block, cont.end_headers) == (b"CD", True)
    assert (data.data, data.end_stream, data.flow_controlled_length) == (b"hello", True, 8)
    assert (prio.depends_on, prio.weight, prio.exclusive) == (1, 256, False)
    assert rst.error_code == E.CANCEL
    assert (ping.opaque_data, ping.ack) == (b"12345678", False)
    assert (update.stream_id, update.increment) == (0, 256)
    assert (promise.promised_stream_id, promise.block) == (2, b"EF")
    assert (goaway.last_stream_id, goaway.error_code, goaway.debug_data) == (5, 0, b"debug")


def test_one_byte_at_a_time_gives_the_same_frames_as_all_at_once():
    one_by_one = read_split(CONVERSATION, list(range(1, len(CONVERSATION))))
    assert [fields(f) for f in one_by_one] == conversation_frames()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, len(CONVERSATION)), max_size=12))
def test_every_split_gives_the_same_frames(cuts):
    assert [fields(f) for f in read_split(CONVERSATION, cuts)] == conversation_frames()


def test_feeding_bytearray_and_memoryview_works():
    reader = FrameReader()
    half = len(CONVERSATION) // 2
    frames = read_all(reader, bytearray(CONVERSATION[:half]))
    frames += read_all(reader, memoryview(CONVERSATION[half:]))
    assert [fields(f) for f in frames] == conversation_frames()


def test_reader_waits_for_a_whole_frame_and_holds_at_most_one():
    reader = FrameReader()
    big = raw_frame(T.DATA, 0, 1, b"x" * 16384)
    assert [type(f) for f in read_all(reader, CLIENT_START + big[:-1])] == [SettingsFrame]
    assert reader.buffered == len(big) - 1
    assert read_all(reader, big[-1:])[0].data == b"x" * 16384
    assert reader.buffered == 0


def test_settings_values_are_listed_in_wire_order():
    pairs = [(SettingCode.HEADER_TABLE_SIZE, 0), (SettingCode.INITIAL_WINDOW_SIZE, 2**31 - 1),
             (SettingCode.MAX_FRAME_SIZE, 16777215), (0x1234, 99), (SettingCode.ENABLE_PUSH, 0),
             (SettingCode.HEADER_TABLE_SIZE, 100)]
    frames = read_split(PREFACE + encode_settings(pairs), [])
    assert frames[0].settings == [(int(k), v) for k, v in pairs]


# --- preface ---------------------------------------------------------------------------------

def test_partial_preface_waits_for_more():
    reader = FrameReader()
    assert read_all(reader, PREFACE[:10]) == []
    assert read_all(reader, PREFACE[10:] + encode_settings([]))[0].settings == []


@pytest.mark.parametrize("data", [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", PREFACE[:-1] + b"X"])
def test_invalid_preface_is_a_protocol_error(data):
    with pytest.raises(H2ConnectionError) as info:
        read_all(FrameReader(), data)
    assert info.value.code == E.PROTOCOL_ERROR


def test_preface_mismatch_fails_at_the_first_wrong_octet():
    reader = FrameReader()
    assert read_all(reader, b"PRI") == []
    with pytest.raises(H2ConnectionError):
        read_all(reader, b"!")


@pytest.mark.parametrize("first", [
    raw_frame(T.PING, 0, 0, b"12345678"),
    raw_frame(T.SETTINGS, ACK, 0, b""),
    raw_frame(0xFA, 0, 0, b""),
])
def test_preface_must_be_followed_by_settings(first):
    with pytest.raises(H2ConnectionError) as info:
        read_split(PREFACE + first, [])
    assert info.value.code == E.PROTOCOL_ERROR


# --- §6 rules ----------------------------------------------------------------------------------

CONNECTION_ERRORS = [
    # frame, expected code, rule
    (raw_frame(T.DATA, 0, 0, b"x"), E.PROTOCOL_ERROR, "§6.1 DATA on stream 0"),
    (raw_frame(T.DATA, PADDED, 1, b"\x01"), E.PROTOCOL_ERROR, "§6.1 padding = payload"),
    (raw_frame(T.DATA, PADDED, 1, b"\x05abc"), E.PROTOCOL_ERROR, "§6.1 padding > payload"),
    (raw_frame(T.DATA, PADDED, 1, b""), E.FRAME_SIZE_ERROR, "§6.1 no Pad Length octet"),
    (raw_frame(T.HEADERS, END_HEADERS, 0, b"\x82"), E.PROTOCOL_ERROR, "§6.2 stream 0"),
    (raw_frame(T.HEADERS, END_HEADERS | PADDED, 1, b"\x03\x82\0"), E.PROTOCOL_ERROR,
     "§6.2 padding too long"),
    (raw_frame(T.HEADERS, END_HEADERS | PRIORITY, 1, b"\0\0\0"), E.FRAME_SIZE_ERROR,
     "§6.2 too short for the priority fields"),
    (raw_frame(T.PRIORITY, 0, 0, b"\0\0\0\1\1"), E.PROTOCOL_ERROR, "§6.3 stream 0"),
    (raw_frame(T.RST_STREAM, 0, 1, b"\0\0\0"), E.FRAME_SIZE_ERROR, "§6.4 length 3"),
    (raw_frame(T.RST_STREAM, 0, 0, b"\0\0\0\0"), E.PROTOCOL_ERROR, "§6.4 stream 0"),
    (raw_frame(T.SETTINGS, 0, 1, b""), E.PROTOCOL_ERROR, "§6.5 on a stream"),
    (raw_frame(T.SETTINGS, ACK, 0, b"\0\1\0\0\0\0"), E.FRAME_SIZE_ERROR, "§6.5 ACK + payload"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\1\0\0\0"), E.FRAME_SIZE_ERROR, "§6.5 length 5"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\2\0\0\0\2"), E.PROTOCOL_ERROR, "§6.5.2 ENABLE_PUSH 2"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\4\x80\0\0\0"), E.FLOW_CONTROL_ERROR,
     "§6.5.2 INITIAL_WINDOW_SIZE 2**31"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\5\0\0\x3f\xff"), E.PROTOCOL_ERROR,
     "§6.5.2 MAX_FRAME_SIZE 16383"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\5\1\0\0\0"), E.PROTOCOL_ERROR,
     "§6.5.2 MAX_FRAME_SIZE 2**24"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\x08\0\0\0\2"), E.PROTOCOL_ERROR,
     "RFC 8441 ENABLE_CONNECT_PROTOCOL 2"),
    (raw_frame(T.SETTINGS, 0, 0, b"\0\x09\0\0\0\2"), E.PROTOCOL_ERROR,
     "RFC 9218 NO_RFC7540_PRIORITIES 2"),
    (raw_frame(T.PUSH_PROMISE, END_HEADERS, 0, b"\0\0\0\2"), E.PROTOCOL_ERROR, "§6.6 stream 0"),
    (raw_frame(T.PUSH_PROMISE, END_HEADERS, 1, b"\0\0\0"), E.FRAME_SIZE_ERROR,
     "§6.6 no promised stream id"),
    (raw_frame(T.PUSH_PROMISE, END_HEADERS | PADDED, 1, b"\x01\0\0\0\2"), E.PROTOCOL_ERROR,
     "§6.6 padding too long"),
    (raw_frame(T.PING, 0, 0, b"1234567"), E.FRAME_SIZE_ERROR, "§6.7 length 7"),
    (raw_frame(T.PING, ACK, 0, b"123456789"), E.FRAME_SIZE_ERROR, "§6.7 length 9"),
    (raw_frame(T.PING, 0, 1, b"12345678"), E.PROTOCOL_ERROR, "§6.7 on a stream"),
    (raw_frame(T.GOAWAY, 0, 0, b"\0\0\0\0\0\0\0"), E.FRAME_SIZE_ERROR, "§6.8 length 7"),
    (raw_frame(T.GOAWAY, 0, 1, b"\0" * 8), E.PROTOCOL_ERROR, "§6.8 on a stream"),
    (raw_frame(T.WINDOW_UPDATE, 0, 1, b"\0\0\1"), E.FRAME_SIZE_ERROR, "§6.9 length 3"),
    (raw_frame(T.WINDOW_UPDATE, 0, 0, b"\0\0\0\1\0"), E.FRAME_SIZE_ERROR, "§6.9 length 5"),
    (raw_frame(T.WINDOW_UPDATE, 0, 0, b"\0\0\0\0"), E.PROTOCOL_ERROR,
     "§6.9 increment 0 on the connection"),
    (raw_frame(T.CONTINUATION, END_HEADERS, 1, b"\x82"), E.PROTOCOL_ERROR,
     "§6.10 CONTINUATION without HEADERS"),
    (raw_frame(T.HEADERS, 0, 1, b"\x82") + raw_frame(T.DATA, 0, 1, b""), E.PROTOCOL_ERROR,
     "§6.10 other frame inside a field block"),
    (raw_frame(T.HEADERS, 0, 1, b"\x82") + raw_frame(T.CONTINUATION, 4, 3, b""),
     E.PROTOCOL_ERROR, "§6.10 CONTINUATION on another stream"),
    (raw_frame(T.HEADERS, 0, 1, b"\x82") + raw_frame(0xFA, 0, 1, b""), E.PROTOCOL_ERROR,
     "§6.10 unknown frame inside a field block"),
    (raw_frame(T.PUSH_PROMISE, 0, 1, b"\0\0\0\2") + raw_frame(T.PING, 0, 0, b"1" * 8),
     E.PROTOCOL_ERROR, "§6.10 PING inside a PUSH_PROMISE field block"),
    (raw_frame(T.DATA, 0, 1, b"x" * 16385), E.FRAME_SIZE_ERROR, "§4.2 over max frame size"),
]


@pytest.mark.parametrize(("data", "code", "rule"), CONNECTION_ERRORS,
                         ids=[rule for _, _, rule in CONNECTION_ERRORS])
def test_connection_errors_carry_their_code(data, code, rule):
    reader = FrameReader()
    read_all(reader, CLIENT_START)
    with pytest.raises(H2ConnectionError) as info:
        read_all(reader, data)
    assert info.value.code == code, rule
    # the reader is dead: the same error again, whatever comes next
    with pytest.raises(H2ConnectionError) as again:
        read_all(reader, raw_frame(T.PING, 0, 0, b"12345678"))
    assert again.value is info.value


def test_oversized_frame_fails_on_its_header_alone():
    reader = FrameReader()
    read_all(reader, CLIENT_START)
    with pytest.raises(H2ConnectionError) as info:
        read_all(reader, raw_frame(T.DATA, 0, 1, b"x" * 16385)[:9])
    assert info.value.code == E.FRAME_SIZE_ERROR


def test_raised_max_frame_size_admits_larger_frames():
    reader = FrameReader()
    reader.set_max_frame_size(1 << 20)
    frames = read_split(CLIENT_START + raw_frame(T.DATA, 0, 1, b"x" * 100000), [],
                        max_frame_size=1 << 20)
    assert frames[1].data == b"x" * 100000
    with pytest.raises(ValueError):
        reader.set_max_frame_size(16383)


STREAM_ERRORS = [
    (raw_frame(T.PRIORITY, 0, 1, b"\0\0\0\2"), E.FRAME_SIZE_ERROR, "§6.3 length 4"),
    (raw_frame(T.PRIORITY, 0, 1, b"\0\0\0\2\0\0"), E.FRAME_SIZE_ERROR, "§6.3 length 6"),
    (raw_frame(T.PRIORITY, 0, 3, b"\x80\0\0\3\0"), E.PROTOCOL_ERROR,
     "RFC 7540 §5.3.1 depends on self"),
    (raw_frame(T.WINDOW_UPDATE, 0, 1, b"\0\0\0\0"), E.PROTOCOL_ERROR, "§6.9 increment 0"),
]


@pytest.mark.parametrize(("data", "code", "rule"), STREAM_ERRORS,
                         ids=[rule for _, _, rule in STREAM_ERRORS])
def test_stream_errors_name_the_stream_and_reading_goes_on(data, code, rule):
    reader = FrameReader()
    read_all(reader, CLIENT_START)
    stream_id = int.from_bytes(data[5:9], "big")
    with pytest.raises(H2StreamError) as info:
        read_all(reader, data + raw_frame(T.PING, 0, 0, b"12345678"))
    assert (info.value.code, info.value.stream_id) == (code, stream_id), rule
    assert fields(reader.next_frame()) == (PingFrame, 0, False, b"12345678")


def test_headers_depending_on_their_own_stream_keep_the_block_for_hpack():
    reader = FrameReader()
    read_all(reader, CLIENT_START)
    data = raw_frame(T.HEADERS, PRIORITY, 1, b"\0\0\0\1\x10" + b"\x82")
    with pytest.raises(H2StreamError) as info:
        read_all(reader, data + raw_frame(T.CONTINUATION, END_HEADERS, 1, b"\x84"))
    assert (info.value.code, info.value.stream_id) == (E.PROTOCOL_ERROR, 1)
    assert info.value.frame.block == b"\x82"
    # the field block is still open: its CONTINUATION is accepted
    assert reader.next_frame().block == b"\x84"


def test_errors_are_one_family():
    assert issubclass(H2ConnectionError, H2Error) and issubclass(H2StreamError, H2Error)
    error = H2ConnectionError(6, "too big")
    assert error.code is E.FRAME_SIZE_ERROR and str(error) == "FRAME_SIZE_ERROR: too big"


def test_client_side_reader_needs_no_preface():
    reader = FrameReader(expect_preface=False)
    assert read_all(reader, raw_frame(T.PING, ACK, 0, b"12345678"))[0].ack


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_raise_only_h2_errors(data, preface):
    reader = FrameReader(expect_preface=preface)
    try:
        read_all(reader, (CLIENT_START if preface else b"") + data)
    except H2Error:
        pass


FRAME_HEADERS = st.tuples(st.integers(0, 12), st.integers(0, 255), st.integers(0, 7),
                          st.binary(max_size=40))


@settings(max_examples=200, deadline=None)
@given(st.lists(FRAME_HEADERS, max_size=8))
def test_random_frames_raise_only_h2_errors(frames):
    reader = FrameReader()
    read_all(reader, CLIENT_START)
    for frame_type, flags, stream_id, payload in frames:
        try:
            read_all(reader, raw_frame(frame_type, flags, stream_id, payload))
        except H2StreamError:
            continue
        except H2ConnectionError:
            return
