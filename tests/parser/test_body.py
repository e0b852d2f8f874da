"""Bodies: handed out as they arrive, Content-Length and chunked, extensions and trailers."""

from __future__ import annotations

from fastasgi._parser import END_OF_MESSAGE, NEED_DATA, RequestHead, RequestParser
from tests.parser.events import drain, parse, parse_one
from tests.support.settings import http_limits

CHUNKED_HEAD = b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


def _length_head(n: int) -> bytes:
    return b"POST /l HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % n


def test_content_length_body_is_delivered_whole_when_fed_whole() -> None:
    message = parse_one(_length_head(5) + b"hello")
    assert message.body == b"hello"
    assert message.pieces == [b"hello"]


def test_half_a_body_is_handed_out_without_waiting_for_the_rest() -> None:
    parser = RequestParser(http_limits())
    parser.feed(_length_head(10) + b"01234")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.next_event() == b"01234"
    assert parser.next_event() is NEED_DATA
    parser.feed(b"56789")
    assert parser.next_event() == b"56789"
    assert parser.next_event() is END_OF_MESSAGE


def test_body_piece_never_includes_bytes_of_the_next_request() -> None:
    parser = RequestParser(http_limits())
    parser.feed(_length_head(3))
    assert isinstance(parser.next_event(), RequestHead)
    parser.feed(b"abcGET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert parser.next_event() == b"abc"
    assert parser.next_event() is END_OF_MESSAGE
    assert isinstance(parser.next_event(), RequestHead)


def test_zero_content_length_ends_the_message_right_after_the_head() -> None:
    assert drain_types(_length_head(0)) == ["head", "end"]


def test_request_without_body_ends_right_after_the_head() -> None:
    assert drain_types(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n") == ["head", "end"]


def drain_types(data: bytes) -> list[str]:
    parser = RequestParser(http_limits())
    parser.feed(data)
    return ["head" if isinstance(e, RequestHead) else "end" if e is END_OF_MESSAGE else "body"
            for e in drain(parser)]


def test_chunked_body_is_delivered_chunk_by_chunk() -> None:
    message = parse_one(CHUNKED_HEAD + b"3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n")
    assert message.pieces == [b"abc", b"0123456789"]
    assert message.head.content_length == -1


def test_chunk_sizes_are_hex_in_either_case() -> None:
    message = parse_one(CHUNKED_HEAD + b"A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n")
    assert message.body == b"01234567890123456789a"


def test_chunk_size_with_leading_zeros_is_its_hex_value() -> None:
    assert parse_one(CHUNKED_HEAD + b"0003\r\nabc\r\n000\r\n\r\n").body == b"abc"


def test_part_of_a_chunk_is_handed_out_without_waiting_for_the_rest() -> None:
    parser = RequestParser(http_limits())
    parser.feed(CHUNKED_HEAD + b"a\r\n01234")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.next_event() == b"01234"
    assert parser.next_event() is NEED_DATA
    parser.feed(b"56789\r\n0\r\n\r\n")
    assert parser.next_event() == b"56789"
    assert parser.next_event() is END_OF_MESSAGE


def test_chunk_extensions_with_token_and_quoted_values_are_accepted_and_dropped() -> None:
    body = (b"3;name\r\nabc\r\n"
            b"3;a=token;b=\"quoted ; \\\" value\"\r\ndef\r\n"
            b"2 ; ext = \"x\" ;flag\r\ngh\r\n"
            b"0;last=\"\\\\\"\r\n\r\n")
    assert parse_one(CHUNKED_HEAD + body).body == b"abcdefgh"


def test_chunk_extension_with_obs_text_in_a_quoted_value_is_accepted() -> None:
    assert parse_one(CHUNKED_HEAD + b'1;n="caf\xc3\xa9"\r\nx\r\n0\r\n\r\n').body == b"x"


def test_trailers_are_validated_and_dropped() -> None:
    message = parse_one(CHUNKED_HEAD + b"2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n")
    assert message.body == b"hi"
    assert message.head.headers == [(b"host", b"h"), (b"transfer-encoding", b"chunked")]


def test_trailers_fed_byte_by_byte_end_the_message_only_at_the_empty_line() -> None:
    parser = RequestParser(http_limits())
    parser.feed(CHUNKED_HEAD + b"0\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    for byte in b"X-T: v\r\n\r":
        assert parser.next_event() is NEED_DATA
        parser.feed(bytes([byte]))
    assert parser.next_event() is NEED_DATA
    parser.feed(b"\n")
    assert parser.next_event() is END_OF_MESSAGE


def test_chunked_request_with_no_data_chunks_has_an_empty_body() -> None:
    message = parse_one(CHUNKED_HEAD + b"0\r\n\r\n")
    assert (message.body, message.pieces) == (b"", [])


def test_pipelined_request_after_a_chunked_body_is_parsed() -> None:
    found = parse(CHUNKED_HEAD + b"1\r\nx\r\n0\r\n\r\n" + b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
    assert [m.body for m in found] == [b"x", b""]
    assert found[1].head.target == b"/next" and found[1].complete


def test_body_bytes_that_look_like_http_are_body() -> None:
    smuggled = b"GET /admin HTTP/1.1\r\nHost: h\r\n\r\n"
    message = parse_one(_length_head(len(smuggled)) + smuggled)
    assert message.body == smuggled


def test_body_piece_is_the_fed_object_itself_when_it_is_the_whole_piece() -> None:
    parser = RequestParser(http_limits())
    parser.feed(_length_head(6))
    assert isinstance(parser.next_event(), RequestHead)
    piece = b"abcdef"
    parser.feed(piece)
    assert parser.next_event() is piece
