"""The chunked transfer-coding decoder on its own (RFC 9112 §7.1), fed whole and byte by byte.

A small driver keeps the unconsumed bytes, as RequestParser does, and collects what ``decode``
says: the chunk data, whether the body ended, and the error if any. Every input is also fed one
byte at a time, which must give the same data and the same error.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fastasgi import _chunked
from fastasgi._chunked import ChunkedDecoder
from fastasgi._parser import END_OF_MESSAGE, RequestParser
from tests.parser.events import feed_pieces
from tests.support.settings import parser_limits

NO_LIMIT = 0
TRAILER_LIMIT = 8192


@dataclass
class Decoded:
    data: bytes = b""
    ended: bool = False
    rest: bytes = b""              # bytes after the body, left for the next message
    error: tuple[int, str] | None = None


def decode(pieces: list[bytes], max_body_size: int = NO_LIMIT,
           max_trailer_bytes: int = TRAILER_LIMIT) -> Decoded:
    decoder = ChunkedDecoder(max_body_size, max_trailer_bytes)
    result = Decoded()
    pending = b""
    for piece in pieces:
        pending += piece
        while not result.ended:
            event, consumed, data_len = decoder.decode(pending)
            result.data += pending[consumed:consumed + data_len]
            pending = pending[consumed + data_len:]
            if event == _chunked.ERROR:
                result.error = (decoder.error_kind, decoder.error_message)
                return result
            if event == _chunked.END:
                result.ended = True
            elif event == _chunked.NEED_DATA:
                break
            else:
                assert event == _chunked.DATA and data_len > 0
    result.rest = pending
    return result


def decode_every_way(body: bytes, **limits: int) -> Decoded:
    """Decode body whole and byte by byte; both must agree."""
    whole = decode([body], **limits)
    bytewise = decode([body[i:i + 1] for i in range(len(body))], **limits)
    assert bytewise == whole
    return whole


def test_chunks_are_concatenated_and_the_last_chunk_ends_the_body() -> None:
    result = decode_every_way(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert result == Decoded(data=b"hello world", ended=True)


def test_bytes_after_the_body_are_not_consumed() -> None:
    result = decode_every_way(b"1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n")
    assert result.data == b"x"
    assert result.rest == b"GET / HTTP/1.1\r\n"


def test_chunk_data_is_handed_out_as_it_arrives() -> None:
    decoder = ChunkedDecoder(NO_LIMIT, TRAILER_LIMIT)
    assert decoder.decode(b"a\r\n0123") == (_chunked.DATA, 3, 4)
    assert decoder.decode(b"456789") == (_chunked.DATA, 0, 6)
    assert decoder.decode(b"\r") == (_chunked.NEED_DATA, 0, 0)
    assert decoder.decode(b"\r\n0\r\n") == (_chunked.NEED_DATA, 5, 0)
    assert decoder.decode(b"\r\n") == (_chunked.END, 2, 0)


def test_hex_sizes_in_either_case_and_leading_zeros_are_read_by_value() -> None:
    body = b"0000000000000000000A\r\n" + b"x" * 10 + b"\r\nf\r\n" + b"y" * 15 + b"\r\n0\r\n\r\n"
    assert decode_every_way(body).data == b"x" * 10 + b"y" * 15


def test_extensions_and_trailers_are_checked_and_dropped() -> None:
    body = (b"3 ; name ; a=b;q=\"v \\\" \x80\"\r\nabc\r\n"
            b"0;last\r\nChecksum: 123\r\nX-Empty:\r\n\r\n")
    assert decode_every_way(body) == Decoded(data=b"abc", ended=True)


def test_the_parser_re_arms_its_decoder_for_each_chunked_request() -> None:
    # One decoder serves every chunked request of a connection: the body limit is per request.
    parser = RequestParser(parser_limits(max_body_size=5))
    request = (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\nabcd\r\n0\r\n\r\n")
    events = feed_pieces(parser, [request, request])
    assert [e for e in events if isinstance(e, bytes)] == [b"abcd", b"abcd"]
    assert events.count(END_OF_MESSAGE) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"5\nhello\r\n0\r\n\r\n", "bare LF in chunk size line"),
        (b"5\rhello\r\n0\r\n\r\n", "bare CR in chunk size line"),
        (b"5 \r\nhello\r\n0\r\n\r\n", "whitespace at the end of the chunk size line"),
        (b"5x\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
        (b"\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
        (b"5;\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
        (b"5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
        (b"5;a b\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
        (b"5\r\nhelloX\r\n0\r\n\r\n", "missing CRLF after chunk data"),
        (b"5\r\nhello\rX0\r\n\r\n", "missing CRLF after chunk data"),
        (b"0\r\nX-Bad\r\n\r\n", "invalid trailer field"),
        (b"0\r\n: v\r\n\r\n", "invalid trailer field"),
        (b"0\r\nX: a\x01b\r\n\r\n", "invalid character in trailer value"),
        (b"0\r\nX: v\n\r\n", "bare LF in trailer section"),
        (b"0\r\n\n", "bare LF in trailer section"),
    ],
)
def test_framing_errors_are_reported_with_their_reason(body: bytes, message: str) -> None:
    result = decode_every_way(body)
    assert result.error == (_chunked.INVALID, message)
    assert not result.ended


def test_a_size_with_more_than_15_significant_digits_is_refused() -> None:
    assert decode_every_way(b"0" * 40 + b"f" * 15 + b"\r\n").error is None
    assert decode_every_way(b"1" + b"0" * 15 + b"\r\n").error == (
        _chunked.SIZE_TOO_LONG, "chunk size has too many digits")


def test_a_chunk_size_line_over_4096_bytes_is_refused() -> None:
    line = b"1;" + b"a" * 4094
    assert decode_every_way(line).error is None  # 4096 bytes, still waiting for its CRLF
    assert decode_every_way(line + b"a").error == (_chunked.INVALID, "chunk extensions too long")
    assert decode_every_way(b"0" * 4097).error == (_chunked.INVALID, "chunk size line too long")


def test_the_sum_of_the_chunk_sizes_is_bounded_before_the_data_arrives() -> None:
    assert decode_every_way(b"4\r\nabcd\r\n0\r\n\r\n", max_body_size=5).data == b"abcd"
    result = decode_every_way(b"4\r\nabcd\r\n2\r\n", max_body_size=5)
    assert result.error == (_chunked.BODY_TOO_LARGE, "request body too large")
    assert result.data == b"abcd"


def test_the_trailer_section_is_bounded_however_it_arrives() -> None:
    trailer = b"X: " + b"v" * 20 + b"\r\n"                  # 25 bytes with its CRLF
    # The section's final CRLF counts: 27 bytes in all.
    assert decode_every_way(b"0\r\n" + trailer + b"\r\n", max_trailer_bytes=27).ended
    too_large = (_chunked.TRAILERS_TOO_LARGE, "trailer section too large")
    assert decode_every_way(b"0\r\n" + trailer + b"\r\n", max_trailer_bytes=26).error == too_large
    assert decode_every_way(b"0\r\n" + b"X: " + b"v" * 30, max_trailer_bytes=24).error == too_large


def test_after_an_error_every_call_reports_it_again() -> None:
    decoder = ChunkedDecoder(NO_LIMIT, TRAILER_LIMIT)
    assert decoder.decode(b"z\r\n")[0] == _chunked.ERROR
    assert decoder.decode(b"5\r\nhello\r\n") == (_chunked.ERROR, 0, 0)
    assert (decoder.error_kind, decoder.error_message) == (_chunked.INVALID, "invalid chunk size")
