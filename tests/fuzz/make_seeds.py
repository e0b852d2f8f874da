"""Write the seed inputs of the chunked and websocket targets to tests/fuzz/seeds/<target>/.

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
    make_chunked_input,
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


if __name__ == "__main__":
    main()
