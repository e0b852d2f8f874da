"""Invariants any client byte stream must keep in the server-side WebSocket codec.

Whatever arrives, however it is split:
- next_event() gives a text or binary message, Ping, Pong or Close, or raises ProtocolError with
  a close code the codec may send for a failure (1002, 1007, 1009); nothing else escapes;
- a failed codec is dead: every later call raises the same error, and the close frame carrying
  its code is what it owes the peer;
- messages are within max_size, control payloads within 125 bytes, a Close's code is one a peer
  may send (or 1005 for none) and its reason at most 123 bytes; after it, nothing more comes;
- what the codec holds once it returned NEED_DATA is under 14 bytes (a partial frame header);
- what it owes the peer is well-formed unmasked server frames;
- the events and the error's close code do not depend on where the input was split. (The
  reason text may: a text message cut inside a UTF-8 sequence that the next byte makes invalid
  is reported as invalid when fed whole and as "ends inside a UTF-8 sequence" when fed byte by
  byte; both are 1007.) One exception, allowed by ``same_outcome``: a compressed text message
  that is both too big once inflated and invalid UTF-8 fails with whichever the codec sees
  first, 1009 when a large piece is inflated at once, 1007 when a few bytes at a time are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastasgi._websocket import (
    NEED_DATA,
    Close,
    DeflateParams,
    Ping,
    Pong,
    ProtocolError,
    WebSocketCodec,
)
from tests.fuzz.checks import split
from tests.support.websocket_frames import CLOSE, ServerFrame, server_frames

FAILURE_CODES = frozenset({1002, 1007, 1009})
MAX_HEADER = 14  # 2 bytes, 8 of extended length, 4 of mask
SERVER_OPCODES = frozenset({0x0, 0x1, 0x2, 0x8, 0x9, 0xA})


def close_code_allowed(code: int) -> bool:
    """RFC 6455 §7.4: codes a peer may put in a close frame."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


@dataclass
class Outcome:
    events: list[object]
    error: int | None  # the close code


def _check_event(event: object, max_size: int) -> object:
    if isinstance(event, str):
        assert len(event.encode("utf-8")) <= max_size
        return event
    if isinstance(event, bytes):
        assert len(event) <= max_size
        return event
    if isinstance(event, (Ping, Pong)):
        assert len(event.payload) <= 125
        return (type(event).__name__, event.payload)
    assert isinstance(event, Close), f"unexpected event {event!r}"
    assert event.code == 1005 or close_code_allowed(event.code), event.code
    assert len(event.reason.encode("utf-8")) <= 123
    return ("Close", event.code, event.reason)


def _check_owed(frames: list[ServerFrame]) -> None:
    for frame in frames:
        assert frame.opcode in SERVER_OPCODES, frame
        if frame.opcode >= CLOSE:
            assert len(frame.payload) <= 125 and frame.fin, frame


def run_pieces(pieces: Sequence[bytes], max_size: int,
               deflate: tuple[bool, int] | None) -> Outcome:
    params = None
    if deflate is not None:
        params = DeflateParams(client_no_context_takeover=deflate[0],
                               client_max_window_bits=deflate[1])
    codec = WebSocketCodec(max_size=max_size, deflate=params)
    events: list[object] = []
    closed = False
    try:
        for piece in pieces:
            codec.feed(piece)
            while (event := codec.next_event()) is not NEED_DATA:
                assert not closed, "an event after Close"
                events.append(_check_event(event, max_size))
                closed = isinstance(event, Close)
            assert codec.buffered < MAX_HEADER or closed, codec.buffered
            assert codec.close_received == closed
            _check_owed(server_frames(codec.data_to_send()))
    except ProtocolError as exc:
        assert exc.code in FAILURE_CODES, exc.code
        owed = server_frames(codec.data_to_send())
        _check_owed(owed)
        assert owed and owed[-1].opcode == CLOSE, owed
        assert owed[-1].payload[:2] == exc.code.to_bytes(2, "big"), owed[-1]
        for call in (codec.next_event, lambda: codec.feed(b"\x81")):
            try:
                call()
            except ProtocolError as again:
                assert again is exc
            else:
                raise AssertionError("a failed codec did not raise its error again") from None
        return Outcome(events, exc.code)
    return Outcome(events, None)


def same_outcome(a: Outcome, b: Outcome, deflate: bool) -> bool:
    if a == b:
        return True
    return deflate and a.events == b.events and {a.error, b.error} == {1007, 1009}


def check_stream(data: bytes, cuts: Sequence[int], *, max_size: int,
                 deflate: tuple[bool, int] | None) -> Outcome:
    """All invariants for one client stream: fed whole, as cut, and one byte at a time."""
    whole = run_pieces([data], max_size, deflate)
    compressed = deflate is not None
    cut = run_pieces(split(data, cuts), max_size, deflate)
    assert same_outcome(cut, whole, compressed), (cut, whole)
    if len(data) <= 512:
        one_by_one = run_pieces([data[i:i + 1] for i in range(len(data))], max_size, deflate)
        assert same_outcome(one_by_one, whole, compressed), (one_by_one, whole)
    return whole
