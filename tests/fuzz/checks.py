"""Invariants any input must keep, shared by the CI fuzz test and the atheris target.

Whatever bytes arrive, however they are split and whatever the limits:
- the parser returns events or raises an HTTPParseError subclass, nothing else;
- it makes progress: every event but END_OF_MESSAGE consumes input, so a feed can only produce a
  bounded number of events;
- what it holds between feeds is bounded by its limits (a malicious client cannot make it buffer);
- the outcome (events and the error) does not depend on where the input was split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from fastasgi._parser import (
    END_OF_MESSAGE,
    NEED_DATA,
    HTTPParseError,
    RequestHead,
    RequestParser,
)
from tests.parser.events import head_fields

MAX_CHUNK_LINE = 4096  # the parser's cap on a chunk-size line with its extensions


@dataclass(frozen=True)
class Limits:
    max_request_line: int = 8190
    max_header_bytes: int = 65536
    max_headers: int = 100
    max_chunk_size_digits: int = 16
    max_body_size: int = 0

    def parser(self) -> RequestParser:
        return RequestParser(
            max_request_line=self.max_request_line, max_header_bytes=self.max_header_bytes,
            max_headers=self.max_headers, max_chunk_size_digits=self.max_chunk_size_digits,
            max_body_size=self.max_body_size)


@dataclass
class Outcome:
    events: list[object]
    error: tuple[type, str] | None


def run_pieces(pieces: Sequence[bytes], limits: Limits) -> Outcome:
    """Feed each piece and drain the parser, checking the invariants after every step."""
    parser = limits.parser()
    events: list[object] = []
    fed = 0
    try:
        for piece in pieces:
            parser.feed(piece)
            fed += len(piece)
            _drain_checked(parser, events, fed)
            _check_bounded(parser, limits)
    except HTTPParseError as exc:
        # The parser is dead from here on, with nothing kept.
        assert parser.buffered == 0
        for call in (parser.next_event, lambda: parser.feed(b"x")):
            try:
                call()
            except HTTPParseError as again:
                assert again is exc
            else:
                raise AssertionError("a dead parser did not raise its error again")
        return Outcome(_merged(events), (type(exc), str(exc)))
    return Outcome(_merged(events), None)


def _drain_checked(parser: RequestParser, events: list[object], fed: int) -> None:
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return
        assert event is END_OF_MESSAGE or isinstance(event, (RequestHead, bytes)), event
        events.append(event)
        # Each head and body piece consumes at least one byte; END_OF_MESSAGE follows one of them.
        assert len(events) <= 2 * fed + 2, "events without progress"


def _check_bounded(parser: RequestParser, limits: Limits) -> None:
    if parser.in_body:
        assert parser.buffered <= max(MAX_CHUNK_LINE, limits.max_header_bytes), parser.buffered
    else:
        assert parser.buffered <= limits.max_header_bytes, parser.buffered


def _merged(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes):
            assert event
            if out and isinstance(out[-1], bytes):
                out[-1] += event
                continue
        out.append(head_fields(event) if isinstance(event, RequestHead) else event)
    return out


def split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def check_input(data: bytes, cuts: Sequence[int], limits: Limits) -> None:
    """All invariants for one input: fed whole, fed as cut, and fed one byte at a time."""
    whole = run_pieces([data], limits)
    assert run_pieces(split(data, cuts), limits) == whole
    if len(data) <= 512:
        assert run_pieces([data[i:i + 1] for i in range(len(data))], limits) == whole
