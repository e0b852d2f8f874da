"""Write the seed inputs of the chunked, websocket and h2 targets to tests/fuzz/seeds/<target>/.

    python tests/fuzz/make_seeds.py

Seeds are valid inputs that reach deep into each decoder, for the fuzzer to mutate: what the
fuzzer finds from them is not kept here (a long run's corpus is large; see README.md). Running
this again rewrites the same files.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = Path(__file__).resolve().parent / "seeds"

if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

from tests.fuzz.targets import (
    COMPRESS,
    UNMASKED,
    WIDE_LENGTH,
    frame_record,
    h2_params,
    make_chunked_input,
    make_h2_input,
    make_websocket_input,
    websocket_params,
)

SMALL_LIMITS = b"\x7f\x7f\x7f\x03\x90\x12\x34\x07"  # body limit 128 bytes, 7 cuts
CUT = b"\xff\xff\xff\x0f\x00\xab\xcd\x05"  # default limits, 5 cuts

CHUNKED = {
    "one_chunk": b"5\r\nhello\r\n0\r\n\r\n",
    "three_chunks": b"3\r\nabc\r\nA\r\n0123456789\r\n1\r\nz\r\n0\r\n\r\n",
    "uppercase_hex_and_zeros": b"000F\r\n" + b"x" * 15 + b"\r\n000\r\n\r\n",
    "extensions": b'4;name=value;q="a \\"b\\""\r\nwiki\r\n0;last\r\n\r\n',
    "extensions_with_whitespace": b"4 ; a = b\r\nwiki\r\n0\r\n\r\n",
    "trailers": b"2\r\nhi\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
    "empty_body": b"0\r\n\r\n",
    "then_pipelined_get": b"2\r\nok\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "large_chunk": b"1f4\r\n" + bytes(range(250)) * 2 + b"\r\n0\r\n\r\n",
}

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x81, 0x82, 0x00, 0x88, 0x89, 0x8A
FIN = 0x80
RSV1 = 0x40


def _records(*frames: tuple[int, bytes] | tuple[int, bytes, int]) -> bytes:
    return b"".join(frame_record(*frame) for frame in frames)


def _websocket_seeds() -> dict[str, bytes]:
    plain = websocket_params()
    small = websocket_params(max_size=64, cuts=5, cut_seed=7)
    deflate = websocket_params(deflate=True)
    no_takeover = websocket_params(deflate=True, client_no_context_takeover=True, cuts=3)
    window_9 = websocket_params(deflate=True, client_max_window_bits=9)
    raw = websocket_params(built=False)
    close_1000 = (1000).to_bytes(2, "big") + b"bye"
    return {
        "text": make_websocket_input(plain, _records((TEXT, "héllo".encode()))),
        "binary_then_close": make_websocket_input(
            plain, _records((BINARY, bytes(range(40))), (CLOSE, close_1000))),
        "fragmented_with_ping": make_websocket_input(
            plain, _records((0x01, b"frag"), (PING, b"p"), (CONT, b"men"), (FIN, b"ted"))),
        "pong_and_empty_close": make_websocket_input(
            plain, _records((PONG, b"x"), (PING, b""), (CLOSE, b""))),
        "long_16_bit_length": make_websocket_input(plain, _records((BINARY, b"L" * 200))),
        "wide_length": make_websocket_input(plain, _records((TEXT, b"wide", WIDE_LENGTH))),
        "over_max_size": make_websocket_input(
            small, _records((0x02, b"a" * 60), (CONT | FIN, b"b" * 60))),
        "unmasked": make_websocket_input(plain, _records((TEXT, b"naked", UNMASKED))),
        "deflate_text": make_websocket_input(
            deflate, _records((TEXT | RSV1, b"hello hello hello", COMPRESS),
                              (TEXT | RSV1, b"hello again", COMPRESS))),
        "deflate_fragmented": make_websocket_input(
            deflate, _records((0x02 | RSV1, b"part one " * 4, COMPRESS), (PING, b"!"),
                              (CONT | FIN, b"part two " * 4, COMPRESS))),
        "deflate_mixed_with_plain": make_websocket_input(
            deflate, _records((TEXT, b"plain"), (BINARY | RSV1, b"\x00" * 120, COMPRESS))),
        "deflate_no_context_takeover": make_websocket_input(
            no_takeover, _records((TEXT | RSV1, b"abcabcabc", COMPRESS),
                                  (TEXT | RSV1, b"abcabcabc", COMPRESS))),
        "deflate_window_9": make_websocket_input(
            window_9, _records((BINARY | RSV1, bytes(range(256))[:250], COMPRESS))),
        "raw_masked_text": make_websocket_input(
            raw, b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),  # "Hello" (RFC 6455 §5.7)
        "raw_close_1001": make_websocket_input(
            raw, b"\x88\x82\x00\x00\x00\x00\x03\xe9"),
    }


REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"),
           (b":authority", b"example.com"), (b"user-agent", b"seed/1.0")]
POST = [(b":method", b"POST"), *REQUEST[1:], (b"content-length", b"11")]


def _client_frames(*frames: object) -> bytes:
    """Frames as a client sends them after its preface (hyperframe builds them)."""
    return b"".join(frame.serialize() for frame in frames)


def _h2_conversations() -> dict[str, bytes]:
    """Real client conversations: what follows the preface, the client's SETTINGS first."""
    import hpack
    from hyperframe.frame import (
        ContinuationFrame,
        DataFrame,
        GoAwayFrame,
        HeadersFrame,
        PingFrame,
        PriorityFrame,
        RstStreamFrame,
        SettingsFrame,
        WindowUpdateFrame,
    )

    def block(fields: list[tuple[bytes, bytes]]) -> bytes:
        """A block that refers to no dynamic-table entry: valid anywhere in a conversation."""
        return hpack.Encoder().encode(fields)

    shared = hpack.Encoder()    # for blocks that refer to the entries earlier ones added

    settings = SettingsFrame(0, settings={SettingsFrame.HEADER_TABLE_SIZE: 4096,
                                          SettingsFrame.ENABLE_PUSH: 0,
                                          SettingsFrame.INITIAL_WINDOW_SIZE: 1 << 20,
                                          SettingsFrame.MAX_FRAME_SIZE: 16384})
    get = block(REQUEST)
    conversations = {
        "get": [settings, HeadersFrame(1, get, flags=["END_HEADERS", "END_STREAM"])],
        "table_shared_by_two_requests": [
            settings, HeadersFrame(1, shared.encode(REQUEST), flags=["END_HEADERS", "END_STREAM"]),
            HeadersFrame(3, shared.encode(REQUEST), flags=["END_HEADERS", "END_STREAM"])],
        "post_with_body": [
            settings, HeadersFrame(1, block(POST), flags=["END_HEADERS"]),
            DataFrame(1, b"hello "), DataFrame(1, b"world", flags=["END_STREAM"])],
        "continuation": [
            settings, HeadersFrame(1, get[:5], flags=["END_STREAM"]),
            ContinuationFrame(1, get[5:9]), ContinuationFrame(1, get[9:], flags=["END_HEADERS"])],
        "settings_and_ack": [
            settings, SettingsFrame(0, flags=["ACK"]),
            SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0,
                                       SettingsFrame.MAX_CONCURRENT_STREAMS: 10}),
            HeadersFrame(1, get, flags=["END_HEADERS", "END_STREAM"]),
            WindowUpdateFrame(1, 100), WindowUpdateFrame(0, 1000)],
        "ping": [settings, PingFrame(0, b"12345678"), PingFrame(0, b"pong-ack", flags=["ACK"])],
        "rst_stream": [
            settings, HeadersFrame(1, get, flags=["END_HEADERS", "END_STREAM"]),
            RstStreamFrame(1, 8), HeadersFrame(3, get, flags=["END_HEADERS", "END_STREAM"]),
            RstStreamFrame(3, 8), HeadersFrame(5, get, flags=["END_HEADERS"])],
        "trailers_and_padding": [
            settings, HeadersFrame(1, block(POST[:-1]), flags=["END_HEADERS"]),
            DataFrame(1, b"padded", flags=["PADDED"], pad_length=4),
            HeadersFrame(1, block([(b"x-checksum", b"abc")]),
                         flags=["END_HEADERS", "END_STREAM"])],
        "priority_and_goaway": [
            settings, PriorityFrame(3, depends_on=1, stream_weight=200),
            HeadersFrame(1, get, flags=["END_HEADERS", "END_STREAM", "PRIORITY"],
                         depends_on=0, stream_weight=16),
            GoAwayFrame(0, last_stream_id=0, error_code=0)],
    }
    return {name: _client_frames(*frames) for name, frames in conversations.items()}


def _hpack_blocks() -> bytes:
    """RFC 7541 C.3 and C.4: three requests on one connection, without and with Huffman."""
    return bytes.fromhex(
        "828684410f7777772e6578616d706c652e636f6d"
        "828684be58086e6f2d6361636865"
        "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565"
        "828684418cf1e3c2e5f23a6ba0ab90f4ff"
        "828684be5886a8eb10649cbf"
        "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf")


def _h2_seeds() -> dict[str, bytes]:
    seeds = {}
    plain = h2_params()
    cut = h2_params(cut_seed=3, cuts=7)
    responding = h2_params(respond=True, cut_seed=5, cuts=4)
    tight = h2_params(respond=True, max_concurrent_streams=2, initial_window_size=32,
                      max_header_list_size=512, max_resets=2, max_control_frames=3,
                      cut_seed=9, cuts=5)
    too_large = h2_params(respond=True, max_header_list_size=128)
    for name, body in _h2_conversations().items():
        seeds[name] = make_h2_input(plain, body)
        seeds[f"{name}_cut"] = make_h2_input(cut, body)
        seeds[f"{name}_responding"] = make_h2_input(responding, body)
        seeds[f"{name}_tight_limits"] = make_h2_input(tight, body)
        seeds[f"{name}_header_list_too_large"] = make_h2_input(too_large, body)
    blocks = _hpack_blocks()
    # Cuts that fall on the block boundaries come from the fuzzer; these seeds give it the
    # blocks whole (no cut) and cut at random.
    seeds["hpack_rfc7541_requests"] = make_h2_input(h2_params(hpack=True), blocks[:20])
    seeds["hpack_rfc7541_cut"] = make_h2_input(h2_params(hpack=True, cut_seed=1, cuts=5), blocks)
    seeds["hpack_small_list_limit"] = make_h2_input(
        h2_params(hpack=True, max_header_list_size=64), blocks[:20])
    return seeds


def main() -> None:
    out = SEEDS / "chunked"
    out.mkdir(parents=True, exist_ok=True)
    for name, body in CHUNKED.items():
        (out / name).write_bytes(make_chunked_input(body, CUT))
        (out / f"{name}_small_limits").write_bytes(make_chunked_input(body, SMALL_LIMITS))
    out = SEEDS / "websocket"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in _websocket_seeds().items():
        (out / name).write_bytes(data)
    out = SEEDS / "h2"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in _h2_seeds().items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
