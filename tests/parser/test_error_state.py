"""After an error the parser is dead; after an upgrade the rest of the bytes are handed back."""

from __future__ import annotations

import pytest

from fastasgi._parser import (
    END_OF_MESSAGE,
    NEED_DATA,
    HTTPParseError,
    InvalidRequest,
    RequestHead,
    RequestParser,
)
from tests.support.settings import http_limits

SMUGGLE = (
    b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n"
)
UPGRADE = (
    b"GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def _failed_parser() -> tuple[RequestParser, HTTPParseError]:
    parser = RequestParser(http_limits())
    parser.feed(SMUGGLE)
    with pytest.raises(InvalidRequest) as info:
        parser.next_event()
    return parser, info.value


def test_next_event_after_an_error_raises_the_same_error_again() -> None:
    parser, error = _failed_parser()
    for _ in range(3):
        with pytest.raises(InvalidRequest) as again:
            parser.next_event()
        assert again.value is error


def test_feed_after_an_error_raises_the_same_error() -> None:
    parser, error = _failed_parser()
    with pytest.raises(InvalidRequest) as again:
        parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert again.value is error
    with pytest.raises(InvalidRequest):
        parser.feed(b"")


def test_nothing_after_a_refused_request_is_ever_returned() -> None:
    parser, _ = _failed_parser()
    assert parser.buffered == 0
    assert parser.take_buffered() == b""
    with pytest.raises(InvalidRequest):
        parser.next_event()


def test_error_in_a_later_pipelined_request_keeps_the_earlier_ones() -> None:
    parser = RequestParser(http_limits())
    parser.feed(b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /bad HTTP/1.1\nHost: h\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, RequestHead) and head.target == b"/ok"
    assert parser.next_event() is END_OF_MESSAGE
    with pytest.raises(InvalidRequest, match="bare LF"):
        parser.next_event()
    with pytest.raises(InvalidRequest, match="bare LF"):
        parser.next_event()


def test_error_inside_a_body_stops_the_body() -> None:
    parser = RequestParser(http_limits())
    parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\nzz\r\n3\r\ndef\r\n0\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.next_event() == b"abc"
    with pytest.raises(InvalidRequest, match="invalid chunk size"):
        parser.next_event()
    assert not parser.in_body
    with pytest.raises(InvalidRequest):
        parser.feed(b"3\r\nghi\r\n")


def test_take_buffered_returns_the_bytes_after_an_upgrade_head() -> None:
    parser = RequestParser(http_limits())
    frame = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
    parser.feed(UPGRADE + frame)
    head = parser.next_event()
    assert isinstance(head, RequestHead) and head.upgrade == b"websocket"
    assert parser.buffered == len(frame)
    assert parser.take_buffered() == frame
    assert parser.buffered == 0
    assert parser.take_buffered() == b""


def test_take_buffered_after_a_head_fed_in_pieces() -> None:
    parser = RequestParser(http_limits())
    parser.feed(UPGRADE[:10])
    assert parser.next_event() is NEED_DATA
    parser.feed(UPGRADE[10:] + b"tail")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.take_buffered() == b"tail"


def test_take_buffered_mid_head_returns_the_partial_head_and_resets_the_scan() -> None:
    parser = RequestParser(http_limits())
    parser.feed(b"GET / HTTP/1.1\r\nHo")
    assert parser.next_event() is NEED_DATA
    assert parser.take_buffered() == b"GET / HTTP/1.1\r\nHo"
    parser.feed(b"GET /fresh HTTP/1.1\r\nHost: h\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, RequestHead) and head.target == b"/fresh"


def test_error_carries_the_status_to_answer_with() -> None:
    _, error = _failed_parser()
    assert isinstance(error, HTTPParseError)
    assert error.status == 400
