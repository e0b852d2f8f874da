"""Build client frames and read server frames, byte by byte as RFC 6455 §5.2 lays them out."""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from fastasgi._websocket import NEED_DATA, WebSocketCodec

TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
MASK = b"\x37\xfa\x21\x3d"


def client_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = MASK,
    length: int | None = None,
) -> bytes:
    """One client frame. ``rsv`` is the RSV bits as in the first byte (0x40 = RSV1); ``mask``
    None sends it unmasked; ``length`` overrides the announced payload length."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    mask_bit = 0x80 if mask is not None else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


class ServerFrame(NamedTuple):
    fin: bool
    rsv1: bool
    opcode: int
    payload: bytes


def server_frames(data: bytes) -> list[ServerFrame]:
    """Split bytes the codec produced into frames; they must be unmasked and complete."""
    frames = []
    pos = 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert not b1 & 0x80, "server frames must not be masked"
        assert not b0 & 0x30, "RSV2/RSV3 must be clear"
        n = b1 & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack_from("!H", data, pos)
            assert n >= 126, "length not in its shortest form"
            pos += 2
        elif n == 127:
            (n,) = struct.unpack_from("!Q", data, pos)
            assert n >= 65536, "length not in its shortest form"
            pos += 8
        payload = data[pos : pos + n]
        assert len(payload) == n, "truncated frame"
        pos += n
        frames.append(ServerFrame(bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F, payload))
    return frames


def events(codec: WebSocketCodec, data: bytes = b"") -> list[object]:
    """Feed ``data`` and pull every event until NEED_DATA."""
    if data:
        codec.feed(data)
    out: list[object] = []
    while (event := codec.next_event()) is not NEED_DATA:
        out.append(event)
    return out


def deflate_message(
    data: bytes, compressor: zlib._Compress | None = None, wbits: int = 15
) -> bytes:
    """A message body compressed as a client would (RFC 7692 §7.2.1)."""
    if compressor is None:
        compressor = zlib.compressobj(wbits=-wbits)
    body = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(b"\x00\x00\xff\xff")
    return body[:-4]


def inflate_message(body: bytes, decompressor: zlib._Decompress | None = None) -> bytes:
    """Decompress a server message body as a client would (RFC 7692 §7.2.2)."""
    if decompressor is None:
        decompressor = zlib.decompressobj(wbits=-15)
    return decompressor.decompress(body + b"\x00\x00\xff\xff")
