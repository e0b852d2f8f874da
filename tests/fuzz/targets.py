"""The fuzz targets: one function per target that turns arbitrary bytes into a checked run.

Each target takes the fuzzer's input as it is and raises AssertionError (or anything else) only
when an invariant breaks; a rejected input is not a failure. The same functions serve the
coverage-guided fuzzer (``tests/fuzz/fuzz.py``, atheris) and the corpus regression test
(``test_seed_corpus.py``), so a crash input saved by the fuzzer reproduces under plain pytest.

Input layouts (``make_*`` build them, ``tests/fuzz/make_seeds.py`` writes the seeds):

- ``parser``: an HTTP byte stream (any number of pipelined requests), then PARAMS bytes that
  choose the parser limits and where the stream is cut.
- ``chunked``: a chunked request body, then PARAMS bytes as for ``parser``; it is fed after the
  fixed head ``CHUNKED_HEAD``, so every input reaches the chunked decoder.
- ``websocket``: WS_PARAMS bytes (deflate settings, max_size, cuts, raw or built frames), then
  either raw bytes off the wire or a list of frame records that are masked (and compressed when
  asked) as a client would (``websocket_stream``).
- ``h2``: H2_PARAMS bytes (mode, the server's H2Settings, cuts), then either the client's bytes
  after its preface (``h2_checks.check_connection``) or HPACK blocks, one per cut, decoded in
  order on one decoder (``h2_checks.check_hpack``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tests.fuzz import checks

PARAMS = 8
DEFAULT_PARAMS = b"\xff\xff\xff\x0f\x00\x00\x00\x00"  # default limits, no cuts
CHUNKED_HEAD = b"POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


def limits_and_cuts(params: bytes, size: int) -> tuple[checks.Limits, list[int]]:
    """Decode the trailing parameter bytes: small limits half of the time, and the cut points.

    b[3] chose a chunk-size digit limit when the parser had one; it is read by nothing now, so
    the seeds keep their meaning."""
    b = params.ljust(PARAMS, b"\0")
    limits = checks.Limits(
        max_request_line=b[0] + 1 if b[0] < 128 else 8190,
        max_header_bytes=b[1] * 4 + 1 if b[1] < 128 else 65536,
        max_headers=b[2] % 16 + 1 if b[2] < 128 else 100,
        max_body_size=0 if b[4] < 128 else (b[4] - 128) * 8,
    )
    rng = random.Random(b[5] << 8 | b[6])
    cuts = [rng.randrange(size + 1) for _ in range(b[7] % 12)]
    return limits, cuts


def make_parser_input(stream: bytes, params: bytes = DEFAULT_PARAMS) -> bytes:
    return stream + params


def parser_target(data: bytes) -> None:
    stream, params = data[:-PARAMS], data[-PARAMS:]
    limits, cuts = limits_and_cuts(params, len(stream))
    checks.check_input(stream, cuts, limits)


def make_chunked_input(body: bytes, params: bytes = DEFAULT_PARAMS) -> bytes:
    return body + params


def chunked_target(data: bytes) -> None:
    body, params = data[:-PARAMS], data[-PARAMS:]
    limits, cuts = limits_and_cuts(params, len(body))
    # The head is within every limit the params can choose only when the limits are large, so
    # small head limits are raised here: this target is about what comes after the head.
    limits = checks.Limits(
        max_request_line=max(limits.max_request_line, 64),
        max_header_bytes=max(limits.max_header_bytes, len(CHUNKED_HEAD)),
        max_headers=max(limits.max_headers, 2),
        max_body_size=limits.max_body_size,
    )
    stream = CHUNKED_HEAD + body
    outcome = checks.check_input(stream, [c + len(CHUNKED_HEAD) for c in cuts], limits)
    checks.check_chunked_body(body, outcome, limits)


# --- WebSocket --------------------------------------------------------------------------------

WS_PARAMS = 4
# Frame record flags (third byte of a record).
COMPRESS = 0x01  # deflate the payload as a client with permessage-deflate would
UNMASKED = 0x02  # send it unmasked (a client must not)
WIDE_LENGTH = 0x04  # announce the length in 64 bits even when it is small (non-minimal, allowed)


def websocket_params(
    *,
    deflate: bool = False,
    client_no_context_takeover: bool = False,
    client_max_window_bits: int = 15,
    built: bool = True,
    max_size: int | None = None,
    cut_seed: int = 0,
    cuts: int = 0,
) -> bytes:
    """The WS_PARAMS prefix of a websocket input; ``max_size`` None is 1 MiB."""
    b0 = (deflate | client_no_context_takeover << 1 | (client_max_window_bits - 8) << 2
          | built << 5)
    b1 = 0xFF if max_size is None else max_size // 8 - 1
    assert max_size is None or (max_size % 8 == 0 and 0 <= b1 < 128)
    return bytes([b0, b1, cut_seed & 0xFF, cuts])


def frame_record(first_byte: int, payload: bytes, flags: int = 0) -> bytes:
    """One frame as a record of a built websocket input: FIN/RSV/opcode byte, length, flags."""
    assert len(payload) < 256
    return bytes([first_byte, len(payload), flags]) + payload


def _length_field(n: int, mask_bit: int, wide: bool) -> bytes:
    if wide:
        return bytes([mask_bit | 127]) + n.to_bytes(8, "big")
    if n < 126:
        return bytes([mask_bit | n])
    if n < 65536:
        return bytes([mask_bit | 126]) + n.to_bytes(2, "big")
    return bytes([mask_bit | 127]) + n.to_bytes(8, "big")


def websocket_stream(records: bytes, window_bits: int, no_context_takeover: bool) -> bytes:
    """Client frames built from records; a truncated last record is sent as it stands."""
    import zlib

    out = bytearray()
    compressor: Any = None
    i = 0
    while i + 3 <= len(records):
        first, n, flags = records[i], records[i + 1], records[i + 2]
        payload = records[i + 3:i + 3 + n]
        i += 3 + n
        if flags & COMPRESS:
            if compressor is None:
                # zlib cannot compress with an 8-bit window; 9 bits is what clients send then.
                compressor = zlib.compressobj(wbits=-max(window_bits, 9))
            payload = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
            if first & 0x80 and payload.endswith(b"\x00\x00\xff\xff"):
                payload = payload[:-4]  # the message's last frame (RFC 7692 §7.2.1)
            if no_context_takeover and first & 0x80:
                compressor = None
        if flags & UNMASKED:
            out += bytes([first]) + _length_field(len(payload), 0, bool(flags & WIDE_LENGTH))
            out += payload
            continue
        mask = bytes([first, n, flags ^ 0x5A, 0xC3])
        out += bytes([first]) + _length_field(len(payload), 0x80, bool(flags & WIDE_LENGTH))
        out += mask + bytes(b ^ mask[k % 4] for k, b in enumerate(payload))
    out += records[i:]
    return bytes(out)


def make_websocket_input(params: bytes, body: bytes) -> bytes:
    return params + body


def websocket_target(data: bytes) -> None:
    from tests.fuzz import websocket_checks

    b = data[:WS_PARAMS].ljust(WS_PARAMS, b"\0")
    body = data[WS_PARAMS:]
    deflate = bool(b[0] & 1)
    no_takeover = bool(b[0] & 2)
    window_bits = 8 + (b[0] >> 2 & 7)
    max_size = (b[1] + 1) * 8 if b[1] < 128 else 1 << 20
    stream = websocket_stream(body, window_bits, no_takeover) if b[0] & 0x20 else body
    rng = random.Random(b[2])
    cuts = [rng.randrange(len(stream) + 1) for _ in range(b[3] % 12)]
    websocket_checks.check_stream(
        stream, cuts, max_size=max_size,
        deflate=(no_takeover, window_bits) if deflate else None,
    )


# --- HTTP/2 -----------------------------------------------------------------------------------

H2_PARAMS = 8
HPACK_MODE = 0x80   # first params byte: the body is HPACK blocks, not a connection
RESPOND = 0x40      # first params byte: the harness answers requests and reads bodies


def h2_params(*, hpack: bool = False, respond: bool = False, max_concurrent_streams: int = 0,
              initial_window_size: int = 0, max_header_list_size: int = 0,
              max_resets: int = 0, max_control_frames: int = 0, cut_seed: int = 0,
              cuts: int = 0) -> bytes:
    """The H2_PARAMS prefix of an h2 input. A limit left at 0 is the server's default; a
    small one (as the fuzzer mostly picks) brings the bounds within reach of short inputs."""

    def small(value: int, unit: int, most: int) -> int:
        assert value % unit == 0 and 0 < value // unit <= most
        return value // unit - 1

    return bytes([
        hpack * HPACK_MODE | respond * RESPOND,
        small(max_concurrent_streams, 1, 8) if max_concurrent_streams else 0xFF,
        small(initial_window_size, 16, 64) if initial_window_size else 0xFF,
        small(max_header_list_size, 16, 128) if max_header_list_size else 0xFF,
        small(max_resets, 1, 16) if max_resets else 0xFF,
        small(max_control_frames, 1, 16) if max_control_frames else 0xFF,
        cut_seed & 0xFF,
        cuts,
    ])


def h2_settings(b: bytes) -> dict[str, int | float]:
    """The server's H2Settings from the params bytes: small limits half of the time."""
    return {
        "max_concurrent_streams": b[1] % 8 + 1 if b[1] < 128 else 100,
        "initial_window_size": (b[2] % 64 + 1) * 16 if b[2] < 128 else 65535,
        "max_frame_size": 16384,
        "max_header_list_size": (b[3] % 128 + 1) * 16 if b[3] < 128 else 65536,
        "max_resets": b[4] % 16 + 1 if b[4] < 128 else 200,
        "reset_window": 10.0,
        "max_control_frames": b[5] % 16 + 1 if b[5] < 128 else 1000,
        "control_window": 10.0,
    }


def make_h2_input(params: bytes, body: bytes) -> bytes:
    return params + body


def h2_target(data: bytes) -> None:
    from tests.fuzz import h2_checks

    b = data[:H2_PARAMS].ljust(H2_PARAMS, b"\0")
    body = data[H2_PARAMS:]
    settings = h2_settings(b)
    rng = random.Random(b[6])
    cuts = [rng.randrange(len(body) + 1) for _ in range(b[7] % 12)]
    if b[0] & HPACK_MODE:
        h2_checks.check_hpack(checks.split(body, cuts), int(settings["max_header_list_size"]))
    else:
        h2_checks.check_connection(body, cuts, h2_checks.Config(settings, bool(b[0] & RESPOND)))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "parser": parser_target,
    "chunked": chunked_target,
    "websocket": websocket_target,
    "h2": h2_target,
}
