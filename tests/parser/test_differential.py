"""Differential tests: every request we accept, h11 must accept too and read the same way.

h11 is more lenient than this parser in many places (bare LF, obs-fold, control characters in
values, "Content-Length: 5, 5"); those inputs we refuse and there is nothing to compare. The other
way round, where we accept and h11 refuses, each case found is either fixed in the parser or
documented below with the RFC section that allows it.
"""

from __future__ import annotations

import re

from hypothesis import event, example, given, settings

from tests.parser.events import Message, parse_one
from tests.parser.mutations import mutated_pipelines
from tests.parser.oracle import (
    OracleRequest,
    as_h11_reports,
    h11_reading,
    h11_single,
    our_reading,
    our_segments,
    stops_after,
)
from tests.parser.strategies import GeneratedRequest, pipelines

CHUNKED = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
BWS_BEFORE_CHUNK_EXT = re.compile(r"illegal chunk header: bytearray\(b'[0-9A-Fa-f]+( |\\t)+;")


def _same_as_h11(message: Message, theirs: OracleRequest) -> None:
    """h11 keeps the Host field as sent; we replace it with an absolute-form target's authority
    (RFC 9112 §3.2.2), so the comparison does the same to h11's reading. An origin-form target
    (it starts with "/") is not one, whatever its path holds ("/://")."""
    their_headers = theirs.headers
    target = theirs.target
    if not target.startswith(b"/") and b"://" in target:
        authority = target.split(b"://", 1)[1].split(b"/", 1)[0].split(b"?", 1)[0]
        if any(n == b"host" for n, _ in their_headers):
            their_headers = [(n, authority if n == b"host" else v) for n, v in their_headers]
        else:
            their_headers = [*their_headers, (b"host", authority)]
    assert (message.head.method, message.head.target, as_h11_reports(message.head.headers),
            message.body) == (theirs.method, theirs.target, their_headers, theirs.body)
    assert message.head.http_version == theirs.http_version


def _documented_difference(message: Message, h11_error: str) -> bool:
    """h11 refuses, and the RFC lets a recipient accept (see the tests at the end)."""
    if h11_error == "conflicting Content-Length headers":
        return len({int(v) for n, v in message.head.headers if n == b"content-length"}) == 1
    return BWS_BEFORE_CHUNK_EXT.match(h11_error) is not None


@settings(max_examples=150, deadline=None)
@given(pipelines())
def test_generated_pipelines_are_read_by_h11_as_by_us(
        case: tuple[list[GeneratedRequest], list[int]]) -> None:
    batch, _ = case
    wire = b"".join(r.wire for r in batch)
    ours, error = our_reading(wire)
    assert error is None and len(ours) == len(batch)
    theirs = h11_reading(wire)
    assert theirs.error is None
    for i, message in enumerate(ours):
        _same_as_h11(message, theirs.requests[i])
        if stops_after(message):
            break


@settings(max_examples=300, deadline=None)
@given(mutated_pipelines())
@example(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
@example(CHUNKED + b"5 ;a=b\r\nhello\r\n0\r\n\r\n")
@example(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 01\r\nContent-Length: 1\r\n\r\nx")
def test_damaged_requests_we_accept_are_read_by_h11_as_by_us(data: bytes) -> None:
    found, _ = our_segments(data)
    for message, segment in found:
        # RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request-line;
        # h11 does not, so it is shown the request without them.
        theirs, error = h11_single(segment.lstrip(b"\r\n"))
        if theirs is None:
            assert error is not None
            assert _documented_difference(message, error), (segment, error)
            event("documented difference")
            continue
        _same_as_h11(message, theirs)
        event("compared with h11")


# --- where we accept what h11 refuses -----------------------------------------------------------

def test_empty_lines_before_a_request_are_skipped_unlike_h11() -> None:
    """RFC 9112 §2.2: 'a server that is expecting to receive and parse a request-line SHOULD
    ignore at least one empty line (CRLF) received prior to the request-line'."""
    data = b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
    assert parse_one(data).head.target == b"/"
    assert h11_reading(data).error is not None


def test_whitespace_before_a_chunk_extension_is_accepted_unlike_h11() -> None:
    """RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
    and RFC 9110 §5.6.3: a recipient MUST parse for such bad whitespace and remove it."""
    data = CHUNKED + b"5 ;a=b\r\nhello\r\n0\r\n\r\n"
    assert parse_one(data).body == b"hello"
    error = h11_reading(data).error
    assert error is not None and _documented_difference(parse_one(data), error)


def test_equal_content_lengths_spelled_differently_are_accepted_unlike_h11() -> None:
    """RFC 9110 §8.6: several Content-Length field values 'consisting of the same decimal value'
    may be replaced by that one value; 01 and 1 are the same decimal value."""
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 01\r\nContent-Length: 1\r\n\r\nx"
    message = parse_one(data)
    assert (message.head.content_length, message.body) == (1, b"x")
    error = h11_reading(data).error
    assert error is not None and _documented_difference(message, error)


def test_oracle_agrees_on_a_plain_request_and_refuses_a_broken_one() -> None:
    """The differential tests can fail: the oracle reads requests and reports refusals."""
    data = b"POST /a?b HTTP/1.1\r\nHost: h\r\nX-A:  1 \r\nContent-Length: 2\r\n\r\nhi"
    theirs, error = h11_single(data)
    assert error is None and theirs is not None
    _same_as_h11(parse_one(data), theirs)
    theirs, error = h11_single(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n")
    assert theirs is None and error
    theirs, error = h11_single(data[:-1])
    assert theirs is None and error == "h11 found 0 complete requests"
