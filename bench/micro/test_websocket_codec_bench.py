"""WebSocket codec per message: fastasgi's WebSocketCodec beside websockets' sans-I/O protocol.

Both sides do what a server needs per message, on an open connection that is reused across
rounds, and each benchmark first checks its output, so a faster number cannot come from doing less:

- decode: one read holding 100 masked client frames of a 52-byte JSON text message -> 100 ``str``.
  Ours: ``feed`` then ``next_event`` until ``NEED_DATA`` (unmasking, UTF-8 check and ``str`` in C).
  websockets: ``ServerProtocol.receive_data`` then ``events_received``, then ``bytes.decode`` of
  each text frame, since its protocol hands out frames and an ASGI server needs ``str``.
- decode 64 KiB: one binary message of 64 KiB (unmasking throughput; both unmask in C).
- encode: 100 of the same text message -> the bytes to write. Ours: ``encode_text``; websockets:
  ``send_text(text.encode())`` then ``data_to_send()``.
- the same with permessage-deflate (context takeover, 15-bit windows, zlib level 6 on both).

Figures are messages per second (100 / time per round for the batches).

Run: pytest bench/micro/test_websocket_codec_bench.py --benchmark-only
 or: python -m bench.micro.test_websocket_codec_bench  (a side-by-side table without pytest)
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from fastasgi._websocket import NEED_DATA, DeflateParams, WebSocketCodec

BATCH = 100
TEXT = '{"type":"chat","user":"alice","text":"hello, world!"}'
BIG = bytes(i * 7 % 256 for i in range(64 * 1024))
MASK = b"\x9a\x4e\x13\xd7"


def client_frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    n = len(payload)
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 0xFE, n)
    else:
        head = struct.pack("!BBQ", first, 0xFF, n)
    key = (MASK * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + MASK + masked


def compressed_batch() -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    frames = []
    for _ in range(BATCH):
        body = compressor.compress(TEXT.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
        frames.append(client_frame(0x1, body[:-4], rsv1=True))
    return b"".join(frames)


TEXT_BATCH = client_frame(0x1, TEXT.encode()) * BATCH
BIG_FRAME = client_frame(0x2, BIG)


# --- the two implementations ----------------------------------------------------------------


def ours_codec(deflate: bool = False) -> WebSocketCodec:
    return WebSocketCodec(deflate=DeflateParams() if deflate else None)


def ours_decode(codec: WebSocketCodec, data: bytes) -> list[Any]:
    codec.feed(data)
    out = []
    while (event := codec.next_event()) is not NEED_DATA:
        out.append(event)
    return out


def ours_encode(codec: WebSocketCodec) -> list[bytes]:
    return [codec.encode_text(TEXT) for _ in range(BATCH)]


def theirs_protocol(deflate: bool = False) -> ServerProtocol:
    protocol = ServerProtocol(state=State.OPEN, max_size=None)
    if deflate:
        protocol.extensions = [PerMessageDeflate(False, False, 15, 15)]
    return protocol


def theirs_decode(protocol: ServerProtocol, data: bytes) -> list[Any]:
    protocol.receive_data(data)
    # Past the handshake a server protocol receives only frames, and their data is bytes.
    return [
        frame.data.decode() if frame.opcode is Opcode.TEXT else frame.data  # type: ignore[union-attr]
        for frame in protocol.events_received()
    ]


def theirs_encode(protocol: ServerProtocol) -> list[bytes]:
    out = []
    for _ in range(BATCH):
        protocol.send_text(TEXT.encode())
        out.extend(protocol.data_to_send())
    return out


def check_encoded(frames: list[bytes], deflate: bool) -> None:
    """Read back what a side encoded, as a client would."""
    decompressor = zlib.decompressobj(wbits=-15)
    assert len(frames) == BATCH
    for frame in frames:
        assert frame[0] == (0xC1 if deflate else 0x81) and frame[1] < 126
        payload = frame[2:]
        if deflate:
            payload = decompressor.decompress(payload + b"\x00\x00\xff\xff")
        assert payload.decode() == TEXT


def decode_cases() -> dict[str, tuple[bytes, list[Any], bool, int]]:
    """kind -> (input of one round, expected events, deflate, messages per round)."""
    return {
        "decode text": (TEXT_BATCH, [TEXT] * BATCH, False, BATCH),
        "decode 64 KiB": (BIG_FRAME, [BIG], False, 1),
        "decode text deflate": (compressed_batch(), [TEXT] * BATCH, True, BATCH),
    }


def runner(kind: str, impl: str) -> tuple[Callable[[], Any], int]:
    """A zero-argument function doing one round, checked once before it is returned."""
    if kind.startswith("decode"):
        data, expected, deflate, messages = decode_cases()[kind]
        if impl == "ours":
            codec = ours_codec(deflate)
            run = lambda: ours_decode(codec, data)
        else:
            protocol = theirs_protocol(deflate)
            run = lambda: theirs_decode(protocol, data)
        if deflate:
            # A compressed batch refers back to the stream it came from, so every round starts
            # a new connection (its set-up is shared by the 100 messages).
            if impl == "ours":
                run = lambda: ours_decode(ours_codec(True), data)
            else:
                run = lambda: theirs_decode(theirs_protocol(True), data)
        assert run() == expected
        return run, messages
    deflate = kind.endswith("deflate")
    if impl == "ours":
        codec = ours_codec(deflate)
        run = lambda: ours_encode(codec)
    else:
        protocol = theirs_protocol(deflate)
        run = lambda: theirs_encode(protocol)
    check_encoded(run(), deflate)
    return run, BATCH


KINDS = [
    "decode text",
    "decode 64 KiB",
    "encode text",
    "decode text deflate",
    "encode text deflate",
]
IMPLS = ["ours", "websockets"]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_websocket_codec(benchmark: Any, kind: str, impl: str) -> None:
    benchmark.group = f"websocket {kind}"
    run, messages = runner(kind, impl)
    benchmark(run)
    if benchmark.stats is not None:
        benchmark.extra_info["messages_per_second"] = round(messages / benchmark.stats.stats.median)


# --- without pytest -----------------------------------------------------------------------------


def _messages_per_second(run: Callable[[], Any], messages: int, seconds: float = 0.5) -> float:
    best = float("inf")
    for _ in range(5):
        rounds = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 5:
            run()
            rounds += 1
        best = min(best, elapsed / rounds)
    return messages / best


def main() -> None:
    print(f"pid {os.getpid()}; best of 5, messages per second")
    print(f"{'case':<22}{'ours':>14}{'websockets':>14}{'ours/theirs':>13}")
    for kind in KINDS:
        rates = [_messages_per_second(*runner(kind, impl)) for impl in IMPLS]
        print(f"{kind:<22}{rates[0]:>14,.0f}{rates[1]:>14,.0f}{rates[0] / rates[1]:>12.1f}x")


if __name__ == "__main__":
    main()
