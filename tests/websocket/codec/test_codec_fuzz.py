"""Arbitrary input never crashes the codec: it yields events or one ProtocolError."""

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi._websocket import (
    NEED_DATA,
    Close,
    DeflateParams,
    Ping,
    Pong,
    ProtocolError,
    WebSocketCodec,
)
from tests.support.websocket_frames import BINARY, CONTINUATION, TEXT, client_frame, server_frames

EVENT_TYPES = (str, bytes, Ping, Pong, Close)


def drive(codec: WebSocketCodec, chunks: list[bytes]) -> None:
    try:
        for chunk in chunks:
            codec.feed(chunk)
            while (event := codec.next_event()) is not NEED_DATA:
                assert isinstance(event, EVENT_TYPES)
    except ProtocolError as exc:
        assert exc.code in (1002, 1007, 1009)
        [frame] = server_frames(codec.data_to_send())
        assert frame.payload[:2] == exc.code.to_bytes(2, "big")
    else:
        server_frames(codec.data_to_send())  # whatever is owed is well-formed


# Frames with a valid mask bit and small lengths get past the first checks more often than
# uniformly random bytes do.
header_like = st.builds(
    lambda b0, n, body: bytes([b0, 0x80 | n]) + body,
    st.integers(0, 255),
    st.integers(0, 127),
    st.binary(max_size=40),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=60), header_like), max_size=10))
def test_random_bytes(chunks):
    drive(WebSocketCodec(max_size=256), chunks)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=60), header_like), max_size=10))
def test_random_bytes_with_deflate(chunks):
    drive(WebSocketCodec(max_size=256, deflate=DeflateParams()), chunks)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 300), max_size=4))
def test_random_compressed_payloads(payload, cuts):
    # Valid framing around arbitrary deflate data exercises the inflater's error paths.
    data = client_frame(TEXT, payload[:50], rsv=0x40, fin=False) + client_frame(
        CONTINUATION, payload[50:]
    )
    drive(WebSocketCodec(max_size=256, deflate=DeflateParams()), [data])
    good = zlib.compressobj(wbits=-15)
    body = good.compress(payload) + good.flush(zlib.Z_SYNC_FLUSH)
    drive(WebSocketCodec(deflate=DeflateParams()), [client_frame(BINARY, body[:-4], rsv=0x40)])
