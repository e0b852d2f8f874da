"""Invariants any input must keep, shared by the CI fuzz test and the atheris target.

Whatever bytes arrive, however they are split and whatever the limits:
- the parser returns events or raises an HTTPParseError subclass, nothing else, whose status is
  one the server answers with (REFUSAL_STATUSES);
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
from tests.support.settings import parser_limits

MAX_CHUNK_LINE = 4096  # the parser's cap on a chunk-size line with its extensions
# 400 malformed, 413 body too large, 414 request line too long, 431 head too large,
# 501 transfer coding not implemented, 505 version not supported.
REFUSAL_STATUSES = frozenset({400, 413, 414, 431, 501, 505})


@dataclass(frozen=True)
class Limits:
    max_request_line: int = 8190
    max_header_bytes: int = 65536
    max_headers: int = 100
    max_body_size: int = 0

    def parser(self) -> RequestParser:
        return RequestParser(parser_limits(
            max_request_line=self.max_request_line, max_header_bytes=self.max_header_bytes,
            max_headers=self.max_headers, max_body_size=self.max_body_size))


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
        assert exc.status in REFUSAL_STATUSES, (type(exc), exc.status)
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


def check_input(data: bytes, cuts: Sequence[int], limits: Limits) -> Outcome:
    """All invariants for one input: fed whole, fed as cut, and fed one byte at a time."""
    whole = run_pieces([data], limits)
    assert run_pieces(split(data, cuts), limits) == whole
    if len(data) <= 512:
        assert run_pieces([data[i:i + 1] for i in range(len(data))], limits) == whole
    return whole


class _Malformed(Exception):
    pass


def reference_chunked(body: bytes) -> bytes | None:
    """The decoded body of a chunked stream read leniently (RFC 9112 §7.1), or None when it is
    incomplete; _Malformed when not even a lenient reader can take it.

    Lenient on purpose: anything the strict parser accepts must decode here to the same bytes,
    while the strict parser may refuse more (extension syntax, trailer fields, limits)."""
    pos = 0
    out = bytearray()
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = body[pos:eol].split(b";", 1)[0].strip(b" \t")
        if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            raise _Malformed(body[pos:eol])
        size = int(size_text, 16)
        pos = eol + 2
        if size == 0:
            while True:  # trailer section, up to an empty line
                eol = body.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return bytes(out)
                pos = eol + 2
        if len(body) < pos + size + 2:
            return None
        out += body[pos:pos + size]
        if body[pos + size:pos + size + 2] != b"\r\n":
            raise _Malformed(body[pos + size:pos + size + 2])
        pos += size + 2


def check_chunked_body(body: bytes, outcome: Outcome, limits: Limits) -> None:
    """The first request of ``outcome`` had a chunked head and ``body`` after it: a complete
    message has exactly the body a lenient reader decodes, within the body limit."""
    events = outcome.events
    assert events and isinstance(events[0], dict), "the fixed head was not accepted"
    if END_OF_MESSAGE not in events:
        return  # refused or incomplete: check_input has checked how
    end = events.index(END_OF_MESSAGE)
    decoded = b"".join(e for e in events[1:end] if isinstance(e, bytes))
    try:
        expected = reference_chunked(body)
    except _Malformed as exc:
        raise AssertionError(f"accepted a chunked body no reader can take: {exc}") from None
    assert expected == decoded, (expected, decoded)
    if limits.max_body_size:
        assert len(decoded) <= limits.max_body_size
