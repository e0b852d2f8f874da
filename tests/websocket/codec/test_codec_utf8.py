"""Text messages must be UTF-8 (RFC 6455 §8.1), checked as the fragments arrive."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi._websocket import NEED_DATA, ProtocolError, WebSocketCodec
from tests.support.websocket_frames import CONTINUATION, TEXT, client_frame, events

INVALID = [
    b"\x80",  # lone continuation byte
    b"\xbf",
    b"\xc0\xaf",  # overlong "/"
    b"\xc1\xbf",  # overlong 2-byte form
    b"\xe0\x80\xaf",  # overlong 3-byte form
    b"\xe0\x9f\xbf",
    b"\xf0\x80\x80\xaf",  # overlong 4-byte form
    b"\xf0\x8f\xbf\xbf",
    b"\xed\xa0\x80",  # surrogate U+D800
    b"\xed\xbf\xbf",  # surrogate U+DFFF
    b"\xf4\x90\x80\x80",  # U+110000
    b"\xf5\x80\x80\x80",
    b"\xf8\x88\x80\x80\x80",  # 5-byte form
    b"\xfe",
    b"\xff",
    b"\xc3\x28",  # continuation byte missing
    b"\xe2\x82\x28",
    b"\xf0\x9f\x98\x28",
]

VALID = [
    "\u0000",
    "\u007f",
    "\u0080",
    "\u07ff",
    "\u0800",
    "\ud7ff",
    "\ue000",
    "\uffff",
    "\U00010000",
    "\U0010ffff",
    "κόσμε",
    "ascii then ☃ then 😀 " * 5,
]


def assert_1007(data: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        events(WebSocketCodec(), data)
    assert info.value.code == 1007


@pytest.mark.parametrize("bad", INVALID)
def test_invalid_utf8_is_1007(bad):
    assert_1007(client_frame(TEXT, b"prefix " + bad + b" suffix"))


@pytest.mark.parametrize("bad", INVALID)
def test_invalid_utf8_after_a_long_ascii_run_is_1007(bad):
    # The ASCII run is checked a word at a time; the bad byte may sit at any word offset.
    for offset in range(8):
        assert_1007(client_frame(TEXT, b"a" * (64 + offset) + bad))


@pytest.mark.parametrize("text", VALID)
def test_valid_utf8_boundaries_are_accepted(text):
    assert events(WebSocketCodec(), client_frame(TEXT, text.encode())) == [text]


@pytest.mark.parametrize("text", VALID)
def test_valid_utf8_split_at_every_byte_across_fragments(text):
    data = text.encode()
    for cut in range(len(data) + 1):
        frames = client_frame(TEXT, data[:cut], fin=False) + client_frame(CONTINUATION, data[cut:])
        assert events(WebSocketCodec(), frames) == [text]


def test_sequence_split_across_three_fragments_is_valid():
    frames = (
        client_frame(TEXT, b"\xf0", fin=False)
        + client_frame(CONTINUATION, b"\x9f\x98", fin=False)
        + client_frame(CONTINUATION, b"\x80")
    )
    assert events(WebSocketCodec(), frames) == ["😀"]


def test_invalid_continuation_in_the_next_fragment_is_1007():
    assert_1007(client_frame(TEXT, b"ok \xe2\x82", fin=False) + client_frame(CONTINUATION, b"("))


def test_truncated_sequence_at_the_end_of_the_final_fragment_is_1007():
    assert_1007(client_frame(TEXT, b"ok ", fin=False) + client_frame(CONTINUATION, b"\xe2\x82"))


def test_truncated_sequence_in_an_unfragmented_message_is_1007():
    assert_1007(client_frame(TEXT, b"ok \xf0\x9f\x98"))


def test_invalid_utf8_fails_before_the_message_is_complete():
    codec = WebSocketCodec()
    codec.feed(client_frame(TEXT, b"\xff", fin=False))
    with pytest.raises(ProtocolError) as info:
        codec.next_event()
    assert info.value.code == 1007


def test_invalid_utf8_fails_before_the_frame_is_complete():
    codec = WebSocketCodec()
    frame = client_frame(TEXT, b"abc\xff" + b"x" * 1000)
    codec.feed(frame[:12])
    with pytest.raises(ProtocolError) as info:
        codec.next_event()
    assert info.value.code == 1007


def test_text_message_ending_exactly_on_a_complete_sequence_needs_no_more_data():
    codec = WebSocketCodec()
    codec.feed(client_frame(TEXT, b"\xe2\x82\xac", fin=False))
    assert codec.next_event() is NEED_DATA
    codec.feed(client_frame(CONTINUATION, b""))
    assert codec.next_event() == "€"


# Random bytes are mostly invalid; encoded text (lone surrogates included) is mostly valid.
UTF8_LIKE = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20).map(lambda s: s.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=400, deadline=None)
@given(UTF8_LIKE, st.integers(min_value=0, max_value=80))
def test_validator_agrees_with_the_python_decoder(data, cut):
    cut = min(cut, len(data))
    frames = client_frame(TEXT, data[:cut], fin=False) + client_frame(CONTINUATION, data[cut:])
    try:
        expected = data.decode("utf-8")
    except UnicodeDecodeError:
        assert_1007(frames)
    else:
        assert events(WebSocketCodec(), frames) == [expected]
