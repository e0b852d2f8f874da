"""The parser's events do not depend on how the bytes are cut into feeds."""

from __future__ import annotations

import pytest

from fastasgi._parser import END_OF_MESSAGE, NEED_DATA, RequestHead, RequestParser
from tests.parser.events import drain, feed_pieces, messages, normalized, parse
from tests.support.settings import http_limits

CHUNKED_POST = (
    b"POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: text/plain\r\n\r\n"
    b"5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
)
LENGTH_POST = (
    b"POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\nhello world"
)
PIPELINE = (
    b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
    + LENGTH_POST
    + CHUNKED_POST
    + b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
)


def _whole(data: bytes) -> list[object]:
    return normalized(feed_pieces(RequestParser(http_limits()), [data]))


def test_one_byte_at_a_time_gives_the_same_events_as_all_at_once() -> None:
    expected = _whole(PIPELINE)
    pieces = [PIPELINE[i:i + 1] for i in range(len(PIPELINE))]
    assert normalized(feed_pieces(RequestParser(http_limits()), pieces)) == expected


@pytest.mark.parametrize("request_bytes", [CHUNKED_POST, LENGTH_POST], ids=["chunked", "length"])
def test_every_split_point_of_a_request_with_a_body_gives_the_same_events(
        request_bytes: bytes) -> None:
    expected = _whole(request_bytes)
    assert len(expected) == 3  # head, the whole body, end
    for cut in range(1, len(request_bytes)):
        pieces = [request_bytes[:cut], request_bytes[cut:]]
        assert normalized(feed_pieces(RequestParser(http_limits()), pieces)) == expected, cut


def test_every_pair_of_split_points_of_a_chunked_request_gives_the_same_events() -> None:
    expected = _whole(CHUNKED_POST)
    size = len(CHUNKED_POST)
    for a in range(1, size, 3):
        for b in range(a + 1, size, 5):
            pieces = [CHUNKED_POST[:a], CHUNKED_POST[a:b], CHUNKED_POST[b:]]
            assert normalized(feed_pieces(RequestParser(http_limits()), pieces)) == expected, (a, b)


def test_pipelined_requests_in_one_buffer_come_out_one_by_one_in_order() -> None:
    parser = RequestParser(http_limits())
    parser.feed(PIPELINE)
    first = parser.next_event()
    assert isinstance(first, RequestHead) and first.target == b"/first"
    # The next request stays buffered until the current one has been taken to its end.
    assert parser.buffered == len(PIPELINE) - len(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
    assert parser.next_event() is END_OF_MESSAGE
    found = messages([first, END_OF_MESSAGE, *drain(parser)])
    assert [m.head.target for m in found] == [b"/first", b"/form", b"/upload?x=1", b"/last"]
    assert [m.body for m in found] == [b"", b"hello world", b"helloabcdefghijklmnopqrstuvwxyz", b""]
    assert all(m.complete for m in found)
    assert parser.next_event() is NEED_DATA
    assert parser.buffered == 0


def test_pipelined_request_after_a_body_is_not_read_as_body() -> None:
    data = LENGTH_POST + b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
    found = parse(data)
    assert [m.body for m in found] == [b"hello world", b""]
    assert found[1].head.target == b"/next"


@pytest.mark.parametrize("wrap", [bytearray, memoryview, bytes], ids=lambda f: f.__name__)
def test_feed_accepts_bytes_bytearray_and_memoryview(wrap: type) -> None:
    expected = _whole(PIPELINE)
    pieces = [wrap(PIPELINE[i:i + 7]) for i in range(0, len(PIPELINE), 7)]
    assert normalized(feed_pieces(RequestParser(http_limits()), pieces)) == expected


def test_feed_copies_a_bytearray_so_later_changes_to_it_do_not_leak_in() -> None:
    parser = RequestParser(http_limits())
    buffer = bytearray(LENGTH_POST[:-5])
    parser.feed(buffer)
    buffer[:] = b"X" * len(buffer)
    parser.feed(LENGTH_POST[-5:])
    found = messages(drain(parser))
    assert found[0].head.target == b"/form" and found[0].body == b"hello world"


def test_feeding_an_empty_buffer_changes_nothing() -> None:
    parser = RequestParser(http_limits())
    parser.feed(b"")
    assert parser.next_event() is NEED_DATA
    parser.feed(LENGTH_POST[:20])
    parser.feed(b"")
    assert parser.next_event() is NEED_DATA
    assert parser.buffered == 20


def test_buffered_and_in_body_follow_the_request() -> None:
    parser = RequestParser(http_limits())
    assert not parser.in_body
    parser.feed(LENGTH_POST[:-4])
    head = parser.next_event()
    assert isinstance(head, RequestHead)
    assert parser.in_body
    assert parser.buffered == 7
    assert parser.next_event() == b"hello w"
    assert parser.buffered == 0
    assert parser.next_event() is NEED_DATA
    parser.feed(LENGTH_POST[-4:])
    assert parser.next_event() == b"orld"
    assert parser.in_body
    assert parser.next_event() is END_OF_MESSAGE
    assert not parser.in_body
