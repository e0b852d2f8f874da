"""Frame serializers against hyperframe's parser, and hyperframe's serializer against our reader."""

import hyperframe.frame as hf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi._h2frames import (
    ContinuationFrame,
    DataFrame,
    FrameReader,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
    encode_data,
    encode_goaway,
    encode_headers,
    encode_ping,
    encode_ping_ack,
    encode_rst_stream,
    encode_settings,
    encode_settings_ack,
    encode_window_update,
)

from .frames import read_all

STREAM_IDS = st.integers(1, 2**31 - 1)


def hyperframe_parse(data: bytes) -> list[hf.Frame]:
    frames = []
    view = memoryview(data)
    while view:
        frame, length = hf.Frame.parse_frame_header(view[:9])
        frame.parse_body(view[9:9 + length])
        frames.append(frame)
        view = view[9 + length:]
    return frames


def read(data: bytes, max_frame_size: int = 16384) -> list:
    return read_all(FrameReader(max_frame_size, expect_preface=False), data)


# --- our serializers -> hyperframe -------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(STREAM_IDS, st.binary(max_size=1000), st.booleans())
def test_data_frame_parses_in_hyperframe(stream_id, data, end_stream):
    (frame,) = hyperframe_parse(encode_data(stream_id, data, end_stream))
    assert isinstance(frame, hf.DataFrame)
    assert (frame.stream_id, frame.data) == (stream_id, data)
    assert ("END_STREAM" in frame.flags) == end_stream


@settings(max_examples=50, deadline=None)
@given(STREAM_IDS, st.binary(max_size=40000), st.booleans(),
       st.sampled_from([16384, 20000, (1 << 24) - 1]))
def test_headers_split_into_continuations_at_the_max_frame_size(stream_id, block, end_stream,
                                                                max_frame_size):
    frames = hyperframe_parse(encode_headers(stream_id, block, end_stream, max_frame_size))
    assert isinstance(frames[0], hf.HeadersFrame)
    assert all(isinstance(f, hf.ContinuationFrame) for f in frames[1:])
    assert len(frames) == max(1, -(-len(block) // max_frame_size))
    assert all(len(f.data) <= max_frame_size for f in frames)
    assert b"".join(f.data for f in frames) == block
    assert [("END_HEADERS" in f.flags) for f in frames] == [False] * (len(frames) - 1) + [True]
    assert ("END_STREAM" in frames[0].flags) == end_stream
    assert {f.stream_id for f in frames} == {stream_id}


def test_settings_and_ack_parse_in_hyperframe():
    frame, ack = hyperframe_parse(encode_settings([(3, 100), (4, 65535)]) + encode_settings_ack())
    assert frame.settings == {3: 100, 4: 65535} and "ACK" not in frame.flags
    assert ack.settings == {} and "ACK" in ack.flags


def test_control_frames_parse_in_hyperframe():
    ping, pong, goaway, rst, update, conn_update = hyperframe_parse(
        encode_ping(b"abcdefgh") + encode_ping_ack(b"abcdefgh")
        + encode_goaway(7, 2, b"debug") + encode_rst_stream(5, 8)
        + encode_window_update(3, 2**31 - 1) + encode_window_update(0, 1))
    assert (ping.opaque_data, "ACK" in ping.flags) == (b"abcdefgh", False)
    assert (pong.opaque_data, "ACK" in pong.flags) == (b"abcdefgh", True)
    assert (goaway.last_stream_id, goaway.error_code, goaway.additional_data) == (7, 2, b"debug")
    assert (rst.stream_id, rst.error_code) == (5, 8)
    assert (update.stream_id, update.window_increment) == (3, 2**31 - 1)
    assert (conn_update.stream_id, conn_update.window_increment) == (0, 1)


@pytest.mark.parametrize("call", [
    lambda: encode_data(0, b"x", False),
    lambda: encode_data(2**31, b"x", False),
    lambda: encode_headers(0, b"x", False, 16384),
    lambda: encode_headers(1, b"x", False, 100),
    lambda: encode_ping(b"short"),
    lambda: encode_ping_ack(b"much too long"),
    lambda: encode_rst_stream(0, 0),
    lambda: encode_window_update(1, 0),
    lambda: encode_window_update(1, 2**31),
    lambda: encode_settings([(0x10000, 1)]),
    lambda: encode_goaway(1, 0, b"x" * 16377),
])
def test_serializers_refuse_frames_that_would_be_invalid(call):
    with pytest.raises(ValueError):
        call()


def test_serializers_refuse_none_payloads():
    for call in (lambda: encode_data(1, None, False), lambda: encode_headers(1, None, False, 16384),
                 lambda: encode_ping(None), lambda: encode_goaway(1, 0, None)):
        with pytest.raises(TypeError):
            call()


def test_our_serializers_round_trip_through_our_reader():
    data = (encode_settings([(1, 0)]) + encode_headers(1, b"h" * 20000, False, 16384)
            + encode_data(1, b"body", True) + encode_ping_ack(b"12345678"))
    frames = read(data)
    assert [type(f) for f in frames] == [SettingsFrame, HeadersFrame, ContinuationFrame,
                                         DataFrame, PingFrame]
    assert frames[1].block + frames[2].block == b"h" * 20000


# --- hyperframe's serializer -> our reader ------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(STREAM_IDS, st.binary(max_size=500), st.booleans(), st.none() | st.integers(0, 255))
def test_hyperframe_data_frames_read_back(stream_id, data, end_stream, pad_length):
    flags = {"END_STREAM"} if end_stream else set()
    if pad_length is not None:
        flags.add("PADDED")
    frame = hf.DataFrame(stream_id, data, flags=flags, pad_length=pad_length or 0)
    (ours,) = read(frame.serialize())
    assert (ours.stream_id, ours.data, ours.end_stream) == (stream_id, data, end_stream)
    assert ours.flow_controlled_length == frame.flow_controlled_length


@settings(max_examples=60, deadline=None)
@given(STREAM_IDS, st.binary(max_size=500), st.booleans(), st.none() | st.integers(0, 255),
       st.none() | st.tuples(STREAM_IDS, st.integers(0, 255), st.booleans()))
def test_hyperframe_headers_frames_read_back(stream_id, block, end_stream, pad_length, priority):
    flags = {"END_HEADERS"} | ({"END_STREAM"} if end_stream else set())
    kwargs = {}
    if pad_length is not None:
        flags.add("PADDED")
        kwargs["pad_length"] = pad_length
    if priority is not None:
        flags.add("PRIORITY")
        depends_on, weight, exclusive = priority
        kwargs.update(depends_on=depends_on, stream_weight=weight, exclusive=exclusive)
    frame = hf.HeadersFrame(stream_id, block, flags=flags, **kwargs)
    reader = FrameReader(expect_preface=False)
    reader.feed(frame.serialize())
    if priority is not None and priority[0] == stream_id:
        return  # depending on itself: a stream error, tested in test_frame_reader
    ours = reader.next_frame()
    assert (ours.stream_id, ours.block, ours.end_stream, ours.end_headers) == (
        stream_id, block, end_stream, True)


def test_hyperframe_control_frames_read_back():
    frames = [
        hf.SettingsFrame(0, {1: 4096, 3: 100, 4: 65535, 5: 16384, 6: 8192}),
        hf.SettingsFrame(0, flags=["ACK"]),
        hf.PriorityFrame(3, depends_on=1, stream_weight=15, exclusive=True),
        hf.RstStreamFrame(3, error_code=8),
        hf.PushPromiseFrame(1, promised_stream_id=2, data=b"\x82",
                            flags=["END_HEADERS", "PADDED"], pad_length=4),
        hf.PingFrame(0, b"pingpong", flags=["ACK"]),
        hf.GoAwayFrame(0, last_stream_id=9, error_code=11, additional_data=b"calm"),
        hf.WindowUpdateFrame(5, window_increment=1024),
        hf.HeadersFrame(7, b"\x82\x84"),
        hf.ContinuationFrame(7, b"\x86", flags=["END_HEADERS"]),
        hf.ExtensionFrame(0xBB, 0, body=b"ignored"),
    ]
    ours = read(b"".join(f.serialize() for f in frames))
    assert [type(f) for f in ours] == [
        SettingsFrame, SettingsFrame, PriorityFrame, RstStreamFrame, PushPromiseFrame,
        PingFrame, GoAwayFrame, WindowUpdateFrame, HeadersFrame, ContinuationFrame,
    ]
    settings_, ack, prio, rst, promise, ping, goaway, update, headers, cont = ours
    assert settings_.settings == [(1, 4096), (3, 100), (4, 65535), (5, 16384), (6, 8192)]
    assert ack.ack and ack.settings == []
    assert (prio.stream_id, prio.depends_on, prio.weight, prio.exclusive) == (3, 1, 16, True)
    assert (rst.stream_id, rst.error_code) == (3, 8)
    assert (promise.promised_stream_id, promise.block, promise.end_headers) == (2, b"\x82", True)
    assert (ping.ack, ping.opaque_data) == (True, b"pingpong")
    assert (goaway.last_stream_id, goaway.error_code, goaway.debug_data) == (9, 11, b"calm")
    assert (update.stream_id, update.increment) == (5, 1024)
    assert (headers.block, headers.end_headers) == (b"\x82\x84", False)
    assert (cont.block, cont.end_headers) == (b"\x86", True)
