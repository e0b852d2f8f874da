"""Every size limit: configurable, enforced while bytes trickle in, each with its own error."""

from __future__ import annotations

import pytest

from fastasgi._parser import (
    NEED_DATA,
    BodyTooLarge,
    ChunkSizeTooLong,
    HeadersTooLarge,
    InvalidRequest,
    RequestHead,
    RequestLineTooLong,
    RequestParser,
)
from tests.parser.events import head_of, parse_one, refused
from tests.support.settings import http_limits, parser_limits

CHUNKED_HEAD = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


def _line(target_len: int) -> bytes:
    """A request line of exactly 'GET <target> HTTP/1.1' with the target padded to target_len."""
    return b"GET /" + b"a" * (target_len - 1) + b" HTTP/1.1"


def test_request_line_at_the_limit_is_accepted() -> None:
    line = _line(50)
    head = head_of(line + b"\r\nHost: h\r\n\r\n", max_request_line=len(line))
    assert len(head.target) == 50


def test_complete_request_line_over_the_limit_is_414() -> None:
    line = _line(50)
    refused(line + b"\r\nHost: h\r\n\r\n", RequestLineTooLong, "request line too long",
            max_request_line=len(line) - 1)


def test_request_line_trickling_without_crlf_is_414_once_over_the_limit() -> None:
    parser = RequestParser(parser_limits(max_request_line=100))
    parser.feed(b"GET /" + b"a" * 95)  # 100 bytes: still fine
    assert parser.next_event() is NEED_DATA
    parser.feed(b"a")
    with pytest.raises(RequestLineTooLong, match="request line too long"):
        parser.next_event()


def test_request_line_at_the_limit_may_wait_for_the_lf_after_its_cr() -> None:
    line = _line(87)
    assert len(line) == 100
    parser = RequestParser(parser_limits(max_request_line=100))
    parser.feed(line + b"\r")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"\nHost: h\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, RequestHead) and len(head.target) == 87


def test_request_line_over_the_limit_ending_in_cr_is_414() -> None:
    parser = RequestParser(parser_limits(max_request_line=100))
    parser.feed(b"GET /" + b"a" * 95 + b"\r\r")
    with pytest.raises(RequestLineTooLong, match="request line too long"):
        parser.next_event()


def test_default_request_line_limit_is_8190() -> None:
    line = _line(8190 - len(_line(1)) + 1)
    assert len(line) == 8190
    assert head_of(line + b"\r\nHost: h\r\n\r\n").target.startswith(b"/aaa")
    refused(_line(8190 - len(_line(1)) + 2) + b"\r\nHost: h\r\n\r\n", RequestLineTooLong,
            "request line too long")


def test_head_at_the_byte_limit_is_accepted() -> None:
    data = b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 20 + b"\r\n\r\n"
    assert head_of(data, max_header_bytes=len(data)).headers[1] == (b"x", b"v" * 20)


def test_complete_head_over_the_byte_limit_is_431() -> None:
    data = b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 20 + b"\r\n\r\n"
    refused(data, HeadersTooLarge, "request head too large", max_header_bytes=len(data) - 1)


def test_head_trickling_without_its_end_is_431_once_over_the_byte_limit() -> None:
    parser = RequestParser(parser_limits(max_header_bytes=200))
    start = b"GET / HTTP/1.1\r\nHost: h\r\nX: "
    parser.feed(start)
    for _ in range(200 - len(start)):
        assert parser.next_event() is NEED_DATA
        parser.feed(b"v")
    assert parser.next_event() is NEED_DATA
    assert parser.buffered == 200
    parser.feed(b"v")
    with pytest.raises(HeadersTooLarge, match="request head too large"):
        parser.next_event()


def test_header_count_at_the_limit_is_accepted() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(9))
    head = head_of(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n", max_headers=10)
    assert len(head.headers) == 10


def test_header_count_over_the_limit_is_431() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    refused(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n", HeadersTooLarge,
            "too many header fields", max_headers=10)


def test_default_header_count_limit_is_100() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(99))
    assert len(head_of(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n").headers) == 100
    refused(b"GET / HTTP/1.1\r\nHost: h\r\nX: v\r\n" + fields + b"\r\n", HeadersTooLarge,
            "too many header fields")


def test_chunk_size_of_15_significant_digits_is_accepted() -> None:
    parser = RequestParser(http_limits())
    parser.feed(CHUNKED_HEAD + b"f" * 15 + b"\r\nabc")
    parser.next_event()
    assert parser.next_event() == b"abc"
    assert parser.next_event() is NEED_DATA


def test_chunk_size_with_too_many_significant_digits_is_chunk_size_too_long() -> None:
    error = refused(CHUNKED_HEAD + b"1" * 16 + b"\r\n", ChunkSizeTooLong,
                    "chunk size has too many digits")
    assert error.status == 400


def test_leading_zeros_of_a_chunk_size_are_read_by_value_not_counted() -> None:
    message = parse_one(CHUNKED_HEAD + b"0" * 15 + b"3\r\nabc\r\n0\r\n\r\n")
    assert message.body == b"abc"
    message = parse_one(CHUNKED_HEAD + b"0" * 40 + b"5\r\nhello\r\n" + b"0" * 20 + b"\r\n\r\n")
    assert message.body == b"hello"


def test_chunk_size_digits_are_counted_while_they_trickle() -> None:
    parser = RequestParser(http_limits())
    parser.feed(CHUNKED_HEAD + b"0" + b"1" * 15)
    parser.next_event()
    assert parser.next_event() is NEED_DATA
    parser.feed(b"1")
    with pytest.raises(ChunkSizeTooLong):
        parser.next_event()


def test_endless_zeros_in_a_chunk_size_are_refused_once_past_the_line_bound() -> None:
    parser = RequestParser(http_limits())
    parser.feed(CHUNKED_HEAD)
    parser.next_event()
    with pytest.raises(InvalidRequest, match="chunk size line too long"):
        for _ in range(10):
            parser.feed(b"0" * 1000)
            assert parser.next_event() is NEED_DATA


def test_chunk_size_overflowing_64_bits_is_chunk_size_too_long() -> None:
    refused(CHUNKED_HEAD + b"10000000000000000\r\n", ChunkSizeTooLong,
            "chunk size has too many digits")
    refused(CHUNKED_HEAD + b"ffffffffffffffff\r\n", ChunkSizeTooLong, "too many digits")


def test_content_length_at_max_body_size_is_accepted() -> None:
    assert parse_one(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody",
                     max_body_size=4).body == b"body"


def test_content_length_over_max_body_size_is_413_before_any_body() -> None:
    refused(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", BodyTooLarge,
            "request body too large", max_body_size=4)


def test_chunked_body_growing_over_max_body_size_is_413() -> None:
    parser = RequestParser(parser_limits(max_body_size=10))
    parser.feed(CHUNKED_HEAD + b"6\r\nabcdef\r\n")
    parser.next_event()
    assert parser.next_event() == b"abcdef"
    parser.feed(b"5\r\n")
    with pytest.raises(BodyTooLarge, match="request body too large"):
        parser.next_event()


def test_chunked_body_exactly_at_max_body_size_is_accepted() -> None:
    body = b"6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"
    assert parse_one(CHUNKED_HEAD + body, max_body_size=10).body == b"abcdefghij"


def test_max_body_size_applies_to_each_request_of_a_connection_separately() -> None:
    parser = RequestParser(parser_limits(max_body_size=6))
    one = CHUNKED_HEAD + b"6\r\nabcdef\r\n0\r\n\r\n"
    parser.feed(one + one)
    events = [parser.next_event() for _ in range(6)]
    assert events[1] == events[4] == b"abcdef"


def test_no_max_body_size_by_default() -> None:
    head = head_of(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999999999\r\n\r\n")
    assert head.content_length == 999999999999999999


def test_trailer_section_at_the_limit_is_accepted() -> None:
    trailers = b"X-T: " + b"v" * 10 + b"\r\n\r\n"
    assert parse_one(CHUNKED_HEAD + b"0\r\n" + trailers,
                     max_header_bytes=len(trailers) + 100).body == b""


def test_trailer_section_over_the_limit_is_431() -> None:
    trailers = b"X-T: " + b"v" * 300 + b"\r\n\r\n"
    refused(CHUNKED_HEAD + b"0\r\n" + trailers, HeadersTooLarge, "trailer section too large",
            max_header_bytes=200)


def test_trailer_section_trickling_without_crlf_is_431_once_over_the_limit() -> None:
    parser = RequestParser(parser_limits(max_header_bytes=200))
    parser.feed(CHUNKED_HEAD + b"0\r\nX-T: ")
    parser.next_event()
    assert parser.next_event() is NEED_DATA
    parser.feed(b"v" * 300)
    with pytest.raises(HeadersTooLarge, match="trailer section too large"):
        parser.next_event()


def test_chunk_line_with_endless_extensions_is_refused() -> None:
    refused(CHUNKED_HEAD + b"1;" + b"a" * 5000, InvalidRequest, "too long")


@pytest.mark.parametrize("limits", [
    {"max_request_line": 0}, {"max_header_bytes": 0}, {"max_headers": 0},
    {"max_body_size": -1},
])
def test_limits_must_be_positive(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestParser(parser_limits(**limits))


def test_request_line_over_the_head_byte_limit_is_431_however_it_is_split() -> None:
    """The request line is within max_request_line, so only the head budget is exceeded."""
    data = _line(60) + b"\r\nHost: h\r\n\r\n"
    refused(data, HeadersTooLarge, "request head too large", max_header_bytes=40)
    refused([data[i:i + 1] for i in range(len(data))], HeadersTooLarge,
            "request head too large", max_header_bytes=40)


def _refused_however_split(data: bytes, cls: type, cause: str, **limits: int) -> None:
    refused(data, cls, cause, **limits)
    refused([data[i:i + 1] for i in range(len(data))], cls, cause, **limits)
    refused([data[:len(data) // 2], data[len(data) // 2:]], cls, cause, **limits)


def test_overlong_request_line_ending_in_bare_lf_is_414_however_split() -> None:
    _refused_however_split(_line(200) + b"\nHost: h\r\n\r\n", RequestLineTooLong,
                           "request line too long", max_request_line=100)


def test_overlong_field_line_ending_in_bare_lf_is_431_however_split() -> None:
    data = b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 300 + b"\n\r\n"
    _refused_however_split(data, HeadersTooLarge, "request head too large", max_header_bytes=200)


def test_overlong_trailer_line_ending_in_bare_lf_is_431_however_split() -> None:
    data = CHUNKED_HEAD + b"0\r\nX: " + b"v" * 300 + b"\n\r\n"
    _refused_however_split(data, HeadersTooLarge, "trailer section too large",
                           max_header_bytes=200)


def test_head_limit_smaller_than_request_line_limit_gives_431_however_split() -> None:
    _refused_however_split(_line(150) + b"\r\nHost: h\r\n\r\n", HeadersTooLarge,
                           "request head too large", max_request_line=200, max_header_bytes=100)
