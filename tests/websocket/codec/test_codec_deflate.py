"""permessage-deflate (RFC 7692 §7.2): inflating what clients send, deflating what we send."""

import random
import zlib

import pytest

from fastasgi._websocket import DeflateParams, ProtocolError, WebSocketCodec
from tests.support.websocket_frames import (
    BINARY,
    CONTINUATION,
    PING,
    TEXT,
    client_frame,
    deflate_message,
    events,
    inflate_message,
    server_frames,
)

RSV1 = 0x40
JSON = b'{"type": "update", "id": 12345, "values": [1, 2, 3, 4, 5], "ok": true}'


def compressed(opcode: int, data: bytes, compressor=None, wbits: int = 15) -> bytes:
    return client_frame(opcode, deflate_message(data, compressor, wbits), rsv=RSV1)


def test_compressed_text_and_binary_messages_with_context_takeover():
    client = zlib.compressobj(wbits=-15)
    codec = WebSocketCodec(deflate=DeflateParams())
    data = b"".join(
        [
            compressed(TEXT, "héllo ✓".encode(), client),
            compressed(BINARY, JSON, client),
            compressed(BINARY, JSON, client),  # refers back to the previous message
        ]
    )
    assert events(codec, data) == ["héllo ✓", JSON, JSON]


def test_compressed_messages_without_client_context_takeover():
    codec = WebSocketCodec(deflate=DeflateParams(client_no_context_takeover=True))
    data = b"".join(compressed(BINARY, JSON) for _ in range(3))
    assert events(codec, data) == [JSON] * 3


def test_inflater_is_reset_between_messages_without_client_context_takeover():
    # A client that keeps its context anyway produces back-references we cannot resolve.
    client = zlib.compressobj(wbits=-15)
    codec = WebSocketCodec(deflate=DeflateParams(client_no_context_takeover=True))
    assert events(codec, compressed(BINARY, JSON * 4, client)) == [JSON * 4]
    with pytest.raises(ProtocolError) as info:
        events(codec, compressed(BINARY, JSON * 4, client))
    assert info.value.code == 1007


def test_fragmented_compressed_message_with_interleaved_ping():
    body = deflate_message(JSON * 20)
    third = len(body) // 3
    data = (
        client_frame(TEXT, body[:third], fin=False, rsv=RSV1)
        + client_frame(PING, b"hb")
        + client_frame(CONTINUATION, body[third : 2 * third], fin=False)
        + client_frame(CONTINUATION, body[2 * third :])
    )
    got = events(WebSocketCodec(deflate=DeflateParams()), data)
    assert got[-1] == (JSON * 20).decode()


def test_uncompressed_message_is_accepted_when_deflate_was_negotiated():
    codec = WebSocketCodec(deflate=DeflateParams())
    assert events(codec, client_frame(TEXT, b"plain")) == ["plain"]


def test_empty_compressed_message():
    codec = WebSocketCodec(deflate=DeflateParams())
    assert events(codec, compressed(TEXT, b"") + compressed(BINARY, b"")) == ["", b""]


def test_message_ending_with_a_final_deflate_block():
    # RFC 7692 §7.2.3.4: a sender may end the stream; the next message starts a new one.
    client = zlib.compressobj(wbits=-15)
    final = client.compress(JSON) + client.flush(zlib.Z_FINISH)
    data = client_frame(BINARY, final, rsv=RSV1) + compressed(BINARY, b"next")
    assert events(WebSocketCodec(deflate=DeflateParams()), data) == [JSON, b"next"]


def test_client_window_of_9_bits_is_inflated():
    client = zlib.compressobj(wbits=-9)
    codec = WebSocketCodec(deflate=DeflateParams(client_max_window_bits=9))
    data = compressed(BINARY, JSON * 50, client) + compressed(BINARY, JSON * 50, client)
    assert events(codec, data) == [JSON * 50] * 2


def test_zip_bomb_is_1009():
    bomb = deflate_message(b"\x00" * (50 * 1024 * 1024))
    assert len(bomb) < 100_000
    codec = WebSocketCodec(max_size=1024 * 1024, deflate=DeflateParams())
    with pytest.raises(ProtocolError) as info:
        events(codec, client_frame(BINARY, bomb, rsv=RSV1))
    assert (info.value.code, info.value.reason) == (1009, "message too big")


def test_zip_bomb_spread_over_fragments_is_1009():
    body = deflate_message(b"a" * 300_000)
    data = client_frame(BINARY, body[:10], fin=False, rsv=RSV1) + b"".join(
        client_frame(CONTINUATION, body[i : i + 10], fin=False) for i in range(10, len(body), 10)
    )
    with pytest.raises(ProtocolError) as info:
        events(WebSocketCodec(max_size=100_000, deflate=DeflateParams()), data)
    assert info.value.code == 1009


def test_message_inflating_to_exactly_max_size_is_accepted():
    codec = WebSocketCodec(max_size=100_000, deflate=DeflateParams())
    assert events(codec, compressed(BINARY, b"a" * 100_000)) == [b"a" * 100_000]


def test_compressed_payload_over_max_size_on_the_wire_is_1009_at_its_header():
    noise = random.Random(7).randbytes(5000)
    frame = compressed(BINARY, noise)
    assert len(frame) > 1000
    with pytest.raises(ProtocolError) as info:
        events(WebSocketCodec(max_size=1000, deflate=DeflateParams()), frame[:8])
    assert info.value.code == 1009


def test_invalid_compressed_data_is_1007():
    codec = WebSocketCodec(deflate=DeflateParams())
    with pytest.raises(ProtocolError) as info:
        events(codec, client_frame(BINARY, b"\xff\xff\xff\xff", rsv=RSV1))
    assert info.value.code == 1007


def test_compressed_text_with_invalid_utf8_is_1007():
    codec = WebSocketCodec(deflate=DeflateParams())
    with pytest.raises(ProtocolError) as info:
        events(codec, compressed(TEXT, b"bad \xc0\xaf"))
    assert info.value.code == 1007


def test_rsv1_on_a_continuation_frame_is_1002():
    codec = WebSocketCodec(deflate=DeflateParams())
    data = client_frame(BINARY, b"", fin=False, rsv=RSV1) + client_frame(
        CONTINUATION, b"", rsv=RSV1
    )
    with pytest.raises(ProtocolError) as info:
        events(codec, data)
    assert info.value.code == 1002


def test_rsv1_on_a_control_frame_is_1002():
    codec = WebSocketCodec(deflate=DeflateParams())
    with pytest.raises(ProtocolError) as info:
        events(codec, client_frame(PING, b"", rsv=RSV1))
    assert info.value.code == 1002


def test_encoded_messages_use_context_takeover():
    codec = WebSocketCodec(deflate=DeflateParams())
    client = zlib.decompressobj(wbits=-15)
    first = server_frames(codec.encode_binary(JSON))[0]
    second = server_frames(codec.encode_text(JSON.decode()))[0]
    assert first.rsv1 and second.rsv1
    assert (first.opcode, second.opcode) == (BINARY, TEXT)
    assert inflate_message(first.payload, client) == JSON
    assert inflate_message(second.payload, client) == JSON
    assert len(second.payload) < len(first.payload)


def test_encoded_messages_without_server_context_takeover_stand_alone():
    codec = WebSocketCodec(deflate=DeflateParams(server_no_context_takeover=True))
    frames = [server_frames(codec.encode_binary(JSON))[0] for _ in range(3)]
    assert frames[0] == frames[1] == frames[2]
    assert all(inflate_message(f.payload) == JSON for f in frames)


def test_encoded_message_respects_the_server_window():
    codec = WebSocketCodec(deflate=DeflateParams(server_max_window_bits=9))
    data = bytes((i * 31) % 253 for i in range(2000)) * 3
    frame = server_frames(codec.encode_binary(data))[0]
    assert inflate_message(frame.payload, zlib.decompressobj(wbits=-9)) == data


def test_encoded_empty_message_is_one_zero_byte():
    # RFC 7692 §7.2.3.6
    codec = WebSocketCodec(deflate=DeflateParams(server_no_context_takeover=True))
    assert server_frames(codec.encode_text(""))[0].payload == b"\x00"


def test_control_frames_are_never_compressed():
    codec = WebSocketCodec(deflate=DeflateParams())
    assert not server_frames(codec.encode_ping(b"p"))[0].rsv1
    assert not server_frames(codec.encode_close(1000))[0].rsv1


def test_our_own_compressed_frames_round_trip_through_a_codec():
    # The same context-takeover stream, read back by a second codec as if it were the client's.
    sender = WebSocketCodec(deflate=DeflateParams(compress_level=1))
    receiver = WebSocketCodec(deflate=DeflateParams())
    messages = [JSON * i for i in range(1, 6)]
    data = b"".join(
        client_frame(BINARY, server_frames(sender.encode_binary(m))[0].payload, rsv=RSV1)
        for m in messages
    )
    assert events(receiver, data) == messages


@pytest.mark.parametrize(
    "kwargs",
    [
        {"server_max_window_bits": 8},
        {"server_max_window_bits": 16},
        {"client_max_window_bits": 7},
        {"compress_level": 10},
        {"mem_level": 0},
    ],
)
def test_deflate_params_out_of_range_are_refused(kwargs):
    with pytest.raises(ValueError):
        DeflateParams(**kwargs)
