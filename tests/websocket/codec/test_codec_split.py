"""Any split of the input gives the same events, replies and errors."""

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi._websocket import NEED_DATA, DeflateParams, ProtocolError, WebSocketCodec
from tests.support.websocket_frames import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    client_frame,
    close_payload,
    deflate_message,
)


def run(chunks: list[bytes], deflate: DeflateParams | None = None) -> list[object]:
    """Everything observable: the events, the error (code) if one is raised, then the bytes
    owed to the peer (taken once at the end: when pongs are taken decides which pings are
    answered, RFC 6455 §5.5.3)."""
    codec = WebSocketCodec(max_size=4096, deflate=deflate)
    seen: list[object] = []
    try:
        for chunk in chunks:
            codec.feed(chunk)
            while (event := codec.next_event()) is not NEED_DATA:
                seen.append(event)
    except ProtocolError as exc:
        seen.append(("error", exc.code))
    seen.append(codec.data_to_send())
    return seen


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


frame_strategy = st.one_of(
    st.builds(lambda p: client_frame(TEXT, p.encode()), st.text(max_size=300)),
    st.builds(lambda p: client_frame(BINARY, p), st.binary(max_size=300)),
    st.builds(lambda p: client_frame(PING, p), st.binary(max_size=125)),
    st.builds(lambda p: client_frame(PONG, p), st.binary(max_size=10)),
    st.builds(
        lambda a, b: (
            client_frame(TEXT, a, fin=False) + client_frame(PING) + client_frame(CONTINUATION, b)
        ),
        st.binary(max_size=20),
        st.binary(max_size=20),
    ),
    st.builds(lambda p: client_frame(BINARY, p, length=len(p) + 5000), st.binary(max_size=5)),
    st.just(client_frame(TEXT, b"x", mask=None)),
    st.just(client_frame(CLOSE, close_payload(1000, b"done"))),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(frame_strategy, max_size=8), st.lists(st.integers(min_value=0), max_size=12))
def test_any_split_gives_the_same_result(frames, cuts):
    data = b"".join(frames)
    assert run(split(data, cuts)) == run([data])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=200), max_size=6), st.lists(st.integers(min_value=0), max_size=12)
)
def test_any_split_gives_the_same_result_with_compression(messages, cuts):
    compressor = zlib.compressobj(wbits=-15)
    data = b"".join(
        client_frame(BINARY, deflate_message(m, compressor), rsv=0x40) for m in messages
    )
    whole = run([data], DeflateParams())
    assert whole == run(split(data, cuts), DeflateParams())
    assert whole == [*messages, b""]


def test_byte_at_a_time_gives_the_same_result():
    data = (
        client_frame(TEXT, "fragmented ✓".encode()[:5], fin=False)
        + client_frame(PING, b"ping")
        + client_frame(CONTINUATION, "fragmented ✓".encode()[5:])
        + client_frame(BINARY, bytes(range(256)) * 10)
        + client_frame(CLOSE, close_payload(1001))
    )
    one_by_one = [data[i : i + 1] for i in range(len(data))]
    assert run(one_by_one) == run([data])
