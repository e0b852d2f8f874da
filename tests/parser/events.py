"""Drive a RequestParser and turn what it returns into plain values tests can compare."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from fastasgi._parser import (
    END_OF_MESSAGE,
    NEED_DATA,
    BodyTooLarge,
    ChunkSizeTooLong,
    HeadersTooLarge,
    HTTP2Preface,
    HTTPParseError,
    InvalidRequest,
    MethodNotImplemented,
    RequestHead,
    RequestLineTooLong,
    RequestParser,
    UnsupportedTransferCoding,
    UnsupportedVersion,
)
from tests.support.settings import parser_limits

HEAD_FIELDS = (
    "method", "target", "path", "raw_path", "query_string", "http_version", "headers",
    "keep_alive", "upgrade", "expect_continue", "body_framing", "content_length",
)


def head_fields(head: RequestHead) -> dict[str, Any]:
    """Every public attribute of a RequestHead, by name."""
    return {name: getattr(head, name) for name in HEAD_FIELDS}


def drain(parser: RequestParser) -> list[object]:
    """Pull events until the parser needs more data."""
    events: list[object] = []
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return events
        events.append(event)


def feed_pieces(parser: RequestParser, pieces: Iterable[bytes]) -> list[object]:
    """Feed each piece in turn, draining events after every one."""
    events: list[object] = []
    for piece in pieces:
        parser.feed(piece)
        events.extend(drain(parser))
    return events


def split_at(data: bytes, points: Iterable[int]) -> list[bytes]:
    """Cut data at the given offsets (sorted, deduplicated, ends ignored)."""
    cuts = sorted({p for p in points if 0 < p < len(data)})
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def normalized(events: Iterable[object]) -> list[object]:
    """Heads as field dicts and adjacent body pieces merged: what no split of the input can change."""
    out: list[object] = []
    for event in events:
        if isinstance(event, RequestHead):
            out.append(head_fields(event))
        elif isinstance(event, bytes):
            assert event, "an empty body piece was returned"
            if out and isinstance(out[-1], bytes):
                out[-1] += event
            else:
                out.append(event)
        else:
            assert event is END_OF_MESSAGE, event
            out.append(event)
    return out


@dataclass
class Message:
    """One parsed request: its head, its whole body and whether END_OF_MESSAGE was seen."""

    head: RequestHead
    body: bytes = b""
    complete: bool = False
    pieces: list[bytes] = field(default_factory=list)


def messages(events: Iterable[object]) -> list[Message]:
    """Group events into requests, checking they come in the order head, body..., end."""
    out: list[Message] = []
    for event in events:
        if isinstance(event, RequestHead):
            assert not out or out[-1].complete, "a head arrived before the previous request ended"
            out.append(Message(event))
        elif isinstance(event, bytes):
            assert out and not out[-1].complete, "a body piece arrived outside a request"
            out[-1].pieces.append(event)
            out[-1].body += event
        else:
            assert event is END_OF_MESSAGE and out and not out[-1].complete
            out[-1].complete = True
    return out


def parse(data: bytes, **limits: int) -> list[Message]:
    """Parse a whole buffer at once into requests."""
    parser = RequestParser(parser_limits(**limits))
    return messages(feed_pieces(parser, [data]))


def parse_one(data: bytes, **limits: int) -> Message:
    """Parse a buffer holding exactly one complete request."""
    parser = RequestParser(parser_limits(**limits))
    found = messages(feed_pieces(parser, [data]))
    assert len(found) == 1 and found[0].complete, found
    assert parser.buffered == 0
    return found[0]


def head_of(data: bytes, **limits: int) -> RequestHead:
    """The head of the first request in data."""
    parser = RequestParser(parser_limits(**limits))
    parser.feed(data)
    event = parser.next_event()
    assert isinstance(event, RequestHead), event
    return event


def refused(data: bytes | list[bytes], cls: type[HTTPParseError], cause: str,
            **limits: int) -> HTTPParseError:
    """Assert the parser refuses data with exactly cls, its status, and a message naming cause."""
    import pytest  # here, so that the fuzz target can use this module without pytest

    parser = RequestParser(parser_limits(**limits))
    pieces = [data] if isinstance(data, bytes) else data
    with pytest.raises(HTTPParseError) as info:
        feed_pieces(parser, pieces)
    error = info.value
    assert type(error) is cls, f"{type(error).__name__}: {error}"
    assert error.status == STATUS[cls]
    assert cause in str(error), str(error)
    return error


STATUS = {
    InvalidRequest: 400,
    ChunkSizeTooLong: 400,
    RequestLineTooLong: 414,
    HeadersTooLarge: 431,
    BodyTooLarge: 413,
    UnsupportedTransferCoding: 501,
    MethodNotImplemented: 501,
    UnsupportedVersion: 505,
    HTTP2Preface: 505,
}
