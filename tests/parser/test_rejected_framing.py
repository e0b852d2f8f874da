"""Requests whose body framing is ambiguous or malformed: each refused, with the reason named.

These are the inputs request smuggling is built from (RFC 9112 §6.3, §11.2), so every one is
refused outright rather than repaired.
"""

from __future__ import annotations

import pytest

from fastasgi._parser import (
    ChunkSizeTooLong,
    InvalidRequest,
    UnsupportedTransferCoding,
)
from tests.parser.events import refused

POST = b"POST / HTTP/1.1\r\nHost: h\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"


def _fields(fields: bytes, version: bytes = b"1.1") -> bytes:
    return b"POST / HTTP/" + version + b"\r\nHost: h\r\n" + fields + b"\r\n"


# --- Content-Length and Transfer-Encoding together ------------------------------------------

def test_content_length_with_transfer_encoding_is_refused() -> None:
    refused(_fields(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), InvalidRequest,
            "both Content-Length and Transfer-Encoding")


def test_transfer_encoding_before_content_length_is_refused() -> None:
    refused(_fields(b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), InvalidRequest,
            "both Content-Length and Transfer-Encoding")


# --- Content-Length values -------------------------------------------------------------------

def test_differing_content_lengths_are_refused() -> None:
    refused(_fields(b"Content-Length: 5\r\nContent-Length: 6\r\n"), InvalidRequest,
            "conflicting Content-Length")


def test_content_length_list_form_is_refused() -> None:
    refused(_fields(b"Content-Length: 5, 5\r\n"), InvalidRequest, "invalid Content-Length")


def test_content_length_with_a_plus_sign_is_refused() -> None:
    refused(_fields(b"Content-Length: +5\r\n"), InvalidRequest, "invalid Content-Length")


def test_content_length_with_a_minus_sign_is_refused() -> None:
    refused(_fields(b"Content-Length: -1\r\n"), InvalidRequest, "invalid Content-Length")


def test_content_length_with_a_space_inside_is_refused() -> None:
    refused(_fields(b"Content-Length: 1 0\r\n"), InvalidRequest, "invalid Content-Length")


def test_content_length_in_hex_is_refused() -> None:
    refused(_fields(b"Content-Length: 0x10\r\n"), InvalidRequest, "invalid Content-Length")


def test_empty_content_length_is_refused() -> None:
    refused(_fields(b"Content-Length: \r\n"), InvalidRequest, "invalid Content-Length")


def test_content_length_of_19_digits_is_refused_as_too_large() -> None:
    refused(_fields(b"Content-Length: 1234567890123456789\r\n"), InvalidRequest,
            "Content-Length too large")


def test_content_length_overflowing_64_bits_is_refused_as_too_large() -> None:
    refused(_fields(b"Content-Length: 99999999999999999999999\r\n"), InvalidRequest,
            "Content-Length too large")


def test_long_content_length_that_is_not_a_number_is_refused_as_invalid() -> None:
    refused(_fields(b"Content-Length: 12345678901234567890x\r\n"), InvalidRequest,
            "invalid Content-Length")


# --- Transfer-Encoding values ----------------------------------------------------------------

def test_transfer_encoding_without_chunked_is_refused_with_400() -> None:
    refused(_fields(b"Transfer-Encoding: gzip\r\n"), InvalidRequest,
            "chunked is not the final Transfer-Encoding")


def test_transfer_encoding_with_chunked_not_last_is_refused_with_400() -> None:
    refused(_fields(b"Transfer-Encoding: chunked, gzip\r\n"), InvalidRequest,
            "chunked is not the final Transfer-Encoding")


def test_unknown_coding_before_chunked_is_501() -> None:
    refused(_fields(b"Transfer-Encoding: gzip, chunked\r\n"), UnsupportedTransferCoding,
            "unsupported transfer coding before chunked")


def test_unknown_coding_on_an_earlier_field_line_before_chunked_is_501() -> None:
    """Field lines of one name form one list (RFC 9110 §5.3): same answer as on one line."""
    refused(_fields(b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
            UnsupportedTransferCoding, "unsupported transfer coding before chunked")


def test_coding_on_a_later_field_line_after_chunked_is_refused_with_400() -> None:
    refused(_fields(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
            InvalidRequest, "chunked is not the final Transfer-Encoding")


def test_chunked_twice_is_refused() -> None:
    refused(_fields(b"Transfer-Encoding: chunked, chunked\r\n"), InvalidRequest,
            "chunked applied more than once")
    refused(_fields(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            InvalidRequest, "chunked applied more than once")


def test_empty_element_in_transfer_encoding_is_refused() -> None:
    refused(_fields(b"Transfer-Encoding: chunked,\r\n"), InvalidRequest,
            "empty element in Transfer-Encoding")
    refused(_fields(b"Transfer-Encoding: , chunked\r\n"), InvalidRequest,
            "empty element in Transfer-Encoding")


def test_empty_transfer_encoding_is_refused() -> None:
    refused(_fields(b"Transfer-Encoding:\r\n"), InvalidRequest, "empty Transfer-Encoding")


def test_transfer_encoding_lookalikes_of_chunked_are_refused() -> None:
    for value in (b"xchunked", b"chunked;q=1", b"chunk", b'"chunked"'):
        refused(_fields(b"Transfer-Encoding: " + value + b"\r\n"), InvalidRequest,
                "chunked is not the final Transfer-Encoding")


def test_transfer_encoding_in_http_1_0_is_refused() -> None:
    refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", InvalidRequest,
            "Transfer-Encoding in an HTTP/1.0 request")


# --- chunk lines --------------------------------------------------------------------------

def test_chunk_size_that_is_not_hex_is_refused() -> None:
    refused(CHUNKED + b"g\r\n", InvalidRequest, "invalid chunk size")
    refused(CHUNKED + b"5g\r\n", InvalidRequest, "invalid chunk size")


def test_empty_chunk_size_is_refused() -> None:
    refused(CHUNKED + b"\r\nhello\r\n", InvalidRequest, "invalid chunk size")


def test_chunk_size_with_0x_prefix_is_refused() -> None:
    refused(CHUNKED + b"0x10\r\n", InvalidRequest, "invalid chunk size")


def test_chunk_size_with_a_sign_is_refused() -> None:
    refused(CHUNKED + b"+5\r\nhello\r\n", InvalidRequest, "invalid chunk size")


def test_chunk_size_over_64_bits_is_refused() -> None:
    refused(CHUNKED + b"1" + b"0" * 16 + b"\r\n", ChunkSizeTooLong,
            "chunk size has too many digits")


@pytest.mark.parametrize("line", [b"5 ", b"5\t", b"5;a=b ", b"5 ; a "])
def test_whitespace_at_the_end_of_a_chunk_size_line_is_refused(line: bytes) -> None:
    """BWS is allowed before ";" only (RFC 9112 §7.1.1): "5 \\r\\n" is no chunk size."""
    refused(CHUNKED + line + b"\r\nhello\r\n0\r\n\r\n", InvalidRequest, "whitespace at the end")


def test_missing_crlf_after_chunk_data_is_refused() -> None:
    refused(CHUNKED + b"5\r\nhelloX\r\n0\r\n\r\n", InvalidRequest, "missing CRLF after chunk data")


def test_cr_without_lf_after_chunk_data_is_refused() -> None:
    refused(CHUNKED + b"5\r\nhello\rX0\r\n\r\n", InvalidRequest, "missing CRLF after chunk data")


def test_chunk_longer_than_its_size_is_refused() -> None:
    refused(CHUNKED + b"3\r\nhello\r\n0\r\n\r\n", InvalidRequest, "missing CRLF after chunk data")


def test_chunk_extension_without_a_name_is_refused() -> None:
    refused(CHUNKED + b"5;\r\nhello\r\n", InvalidRequest, "invalid chunk extension")
    refused(CHUNKED + b"5;=x\r\nhello\r\n", InvalidRequest, "invalid chunk extension")


def test_chunk_extension_with_an_empty_value_is_refused() -> None:
    refused(CHUNKED + b"5;a=\r\nhello\r\n", InvalidRequest, "invalid chunk extension")


def test_chunk_extension_with_a_control_character_is_refused() -> None:
    refused(CHUNKED + b"5;a\x00\r\nhello\r\n", InvalidRequest, "invalid chunk extension")
    refused(CHUNKED + b'5;a="x\x00"\r\nhello\r\n', InvalidRequest, "invalid chunk extension")
    refused(CHUNKED + b'5;a="x\\\x7f"\r\nhello\r\n', InvalidRequest, "invalid chunk extension")


def test_chunk_extension_followed_by_garbage_is_refused() -> None:
    refused(CHUNKED + b"5;a=b c\r\nhello\r\n", InvalidRequest, "invalid chunk extension")
    refused(CHUNKED + b'5;a="b"c\r\nhello\r\n', InvalidRequest, "invalid chunk extension")


def test_unterminated_quoted_chunk_extension_is_refused_at_the_line_end() -> None:
    refused(CHUNKED + b'5;a="x\r\nhello\r\n', InvalidRequest, "invalid chunk extension")


def test_bare_cr_in_chunk_size_line_is_refused() -> None:
    refused(CHUNKED + b"5\rhello\r\n", InvalidRequest, "bare CR in chunk size line")


# --- trailers -------------------------------------------------------------------------------

def test_trailer_without_a_colon_is_refused() -> None:
    refused(CHUNKED + b"0\r\nX-Trailer\r\n\r\n", InvalidRequest, "invalid trailer field")


def test_folded_trailer_is_refused() -> None:
    refused(CHUNKED + b"0\r\nX: a\r\n b\r\n\r\n", InvalidRequest, "invalid trailer field")


def test_trailer_with_a_control_character_is_refused() -> None:
    refused(CHUNKED + b"0\r\nX: a\x00b\r\n\r\n", InvalidRequest, "invalid character in trailer value")
    refused(CHUNKED + b"0\r\nX: a\rb\r\n\r\n", InvalidRequest, "invalid character in trailer value")


def test_trailer_with_space_before_the_colon_is_refused() -> None:
    refused(CHUNKED + b"0\r\nX : a\r\n\r\n", InvalidRequest, "invalid trailer field")

