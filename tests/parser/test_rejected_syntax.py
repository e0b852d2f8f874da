"""Malformed request lines and field lines: each refused, with the reason named."""

from __future__ import annotations

import pytest

from fastasgi._parser import (
    NEED_DATA,
    HTTP2Preface,
    InvalidRequest,
    MethodNotImplemented,
    RequestLineTooLong,
    RequestParser,
    UnsupportedVersion,
)
from tests.parser.events import head_of, refused
from tests.support.settings import http_limits

CHUNKED = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


def _get(fields: bytes) -> bytes:
    return b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n"


def _line(line: bytes) -> bytes:
    return line + b"\r\nHost: h\r\n\r\n"


# --- field lines -----------------------------------------------------------------------------

def test_obs_fold_is_refused() -> None:
    refused(_get(b"X: a\r\n b\r\n"), InvalidRequest, "obs-fold")
    refused(_get(b"X: a\r\n\tb\r\n"), InvalidRequest, "obs-fold")


def test_whitespace_before_the_first_field_line_is_refused() -> None:
    refused(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n", InvalidRequest,
            "whitespace at the start of a header line")


def test_whitespace_between_field_name_and_colon_is_refused() -> None:
    refused(_get(b"Content-Length : 5\r\n"), InvalidRequest, "whitespace between header name and colon")
    refused(_get(b"X\t: 5\r\n"), InvalidRequest, "whitespace between header name and colon")


def test_field_line_without_a_colon_is_refused() -> None:
    refused(_get(b"NoColonHere\r\n"), InvalidRequest, "header line without a colon")


def test_empty_field_name_is_refused() -> None:
    refused(_get(b": value\r\n"), InvalidRequest, "empty header name")


@pytest.mark.parametrize("char", [b"(", b"@", b"/", b"[", b'"', b"\xc3"])
def test_separator_or_non_ascii_in_field_name_is_refused(char: bytes) -> None:
    refused(_get(b"X" + char + b"y: v\r\n"), InvalidRequest, "invalid character in header name")


@pytest.mark.parametrize("char", [b"\x00", b"\x01", b"\x1f", b"\x7f", b"\r"])
def test_control_in_field_name_is_refused(char: bytes) -> None:
    refused(_get(b"X" + char + b"y: v\r\n"), InvalidRequest, "invalid character in header name")


@pytest.mark.parametrize("char", [b"\x00", b"\x01", b"\x0b", b"\x0c", b"\x1b", b"\x7f", b"\r"])
def test_control_in_field_value_is_refused(char: bytes) -> None:
    refused(_get(b"X: a" + char + b"b\r\n"), InvalidRequest, "invalid character in header value")


def test_nul_at_the_end_of_a_field_value_is_refused() -> None:
    refused(_get(b"X: ab\x00\r\n"), InvalidRequest, "invalid character in header value")


@pytest.mark.parametrize("offset", range(24))
@pytest.mark.parametrize("char", [b"\x00", b"\x1f", b"\x7f", b"\r"])
def test_control_anywhere_in_a_long_field_value_is_refused(char: bytes, offset: int) -> None:
    """Values are scanned 8 bytes at a time: the bad byte is found in any lane of a word."""
    value = b"v" * offset + char + b"w" * 20
    refused(_get(b"X: " + value + b"\r\n"), InvalidRequest, "invalid character in header value")


# --- request line: characters -----------------------------------------------------------

@pytest.mark.parametrize("char", [b"\x00", b"\x01", b"\x7f", b"\r", b"(", b"/", b"\xc3"])
def test_control_or_separator_in_method_is_refused(char: bytes) -> None:
    refused(_line(b"GE" + char + b"T / HTTP/1.1"), InvalidRequest, "invalid character in method")


@pytest.mark.parametrize("char", [b"\x00", b"\x01", b"\x7f", b"\x1b", b"\xc3", b"\t"])
def test_control_or_non_ascii_in_target_is_refused(char: bytes) -> None:
    refused(_line(b"GET /a" + char + b"b HTTP/1.1"), InvalidRequest,
            "invalid character in request target")


def test_bare_cr_in_request_target_is_refused() -> None:
    refused(_line(b"GET /a\rb HTTP/1.1"), InvalidRequest, "invalid character in request target")


def test_bare_cr_in_http_version_is_refused() -> None:
    refused(_line(b"GET / HTTP/1.1\r"), InvalidRequest, "bare CR in request line")
    refused(_line(b"GET / HTT\rP/1.1"), InvalidRequest, "bare CR in request line")


def test_nul_in_http_version_is_refused() -> None:
    refused(_line(b"GET / HTTP/1.\x001"), InvalidRequest, "bad HTTP version")


def test_fragment_in_target_is_refused() -> None:
    refused(_line(b"GET /page#section HTTP/1.1"), InvalidRequest, "fragment in request target")


# --- request line: shape ---------------------------------------------------------------------

def test_request_line_without_method_is_refused() -> None:
    refused(_line(b" / HTTP/1.1"), InvalidRequest, "no method")


def test_request_line_with_only_a_method_is_refused() -> None:
    refused(_line(b"GET"), InvalidRequest, "no request target")


def test_request_line_without_target_is_refused() -> None:
    refused(_line(b"GET  HTTP/1.1"), InvalidRequest, "no request target")


def test_request_line_without_version_is_refused() -> None:
    refused(_line(b"GET /"), InvalidRequest, "no HTTP version")


def test_double_space_before_target_is_refused() -> None:
    refused(_line(b"GET  / HTTP/1.1"), InvalidRequest, "no request target")


def test_double_space_before_version_is_refused() -> None:
    refused(_line(b"GET /  HTTP/1.1"), InvalidRequest, "bad HTTP version")


def test_trailing_space_after_version_is_refused() -> None:
    refused(_line(b"GET / HTTP/1.1 "), InvalidRequest, "bad HTTP version")


def test_leading_space_before_method_is_refused() -> None:
    refused(_line(b" GET / HTTP/1.1"), InvalidRequest, "no method")


def test_lowercase_http_name_is_refused() -> None:
    refused(_line(b"GET / http/1.1"), InvalidRequest, "bad HTTP version")


def test_tab_between_method_and_target_is_refused() -> None:
    refused(_line(b"GET\t/ HTTP/1.1"), InvalidRequest, "invalid character in method")


def test_tab_between_target_and_version_is_refused() -> None:
    refused(_line(b"GET /\tHTTP/1.1"), InvalidRequest, "invalid character in request target")


def test_version_that_is_not_digit_dot_digit_is_refused() -> None:
    refused(_line(b"GET / HTTP/1.10"), InvalidRequest, "bad HTTP version")
    refused(_line(b"GET / HTTP/3"), InvalidRequest, "bad HTTP version")
    refused(_line(b"GET / HTTP/a.b"), InvalidRequest, "bad HTTP version")


def test_asterisk_form_for_a_method_other_than_options_is_refused() -> None:
    refused(_line(b"GET * HTTP/1.1"), InvalidRequest, "asterisk-form target is only for OPTIONS")


def test_authority_form_for_a_method_other_than_connect_is_refused() -> None:
    refused(_line(b"GET example.com:443 HTTP/1.1"), InvalidRequest, "invalid request target")


def test_absolute_form_with_another_scheme_is_refused() -> None:
    refused(_line(b"GET ftp://example.com/ HTTP/1.1"), InvalidRequest, "invalid request target")


def test_absolute_form_with_an_empty_host_is_refused() -> None:
    """RFC 9110 §4.2.1: an http URI with an empty host is invalid and must be rejected."""
    refused(_line(b"GET http:///path HTTP/1.1"), InvalidRequest, "empty host in request target")
    refused(_line(b"GET https://?q HTTP/1.1"), InvalidRequest, "empty host in request target")


# --- versions -----------------------------------------------------------------------------

def test_http_0_9_simple_request_is_refused() -> None:
    refused(b"GET /index.html\r\n\r\n", InvalidRequest, "no HTTP version")


def test_http_0_9_version_is_505() -> None:
    refused(b"GET / HTTP/0.9\r\n\r\n", UnsupportedVersion, "unsupported HTTP version")


def test_http_1_2_to_1_9_are_served_as_1_1() -> None:
    """RFC 9110 §2.5: a higher minor version is read as the highest one we speak."""
    for minor in b"23456789":
        head = head_of(b"GET / HTTP/1.%c\r\nHost: h\r\n\r\n" % minor)
        assert head.http_version == "1.1"
        assert head.keep_alive


def test_http_2_0_request_line_is_505() -> None:
    refused(_line(b"GET / HTTP/2.0"), UnsupportedVersion, "unsupported HTTP version")


def test_http2_connection_preface_is_recognised() -> None:
    refused(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP2Preface, "HTTP/2 connection preface")


def test_http2_preface_is_recognised_before_its_body() -> None:
    refused(b"PRI * HTTP/2.0\r\n\r\n", HTTP2Preface, "HTTP/2 connection preface")


# --- Host ---------------------------------------------------------------------------------

def test_missing_host_in_http_1_1_is_refused() -> None:
    refused(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", InvalidRequest, "missing Host header")


def test_two_host_headers_are_refused() -> None:
    refused(_get(b"Host: h\r\n"), InvalidRequest, "more than one Host header")


@pytest.mark.parametrize("value", [b"a b", b"a/b", b"a?b", b"user@h", b"h\\x", b'"h"', b"h{", b"h\xc3\xa9",
                                   b"h\t:80", b"a:xx", b"a:80:81", b"a:8x", b"[::1", b"[::1]x",
                                   b"h[1]", b"[::1]:a"])
def test_host_with_an_invalid_value_is_refused(value: bytes) -> None:
    """RFC 9112 §3.2: 400 for a Host field with an invalid value; Host = uri-host [ ":" port ]."""
    refused(b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n", InvalidRequest, "invalid Host header")


@pytest.mark.parametrize("value", [b"example.com", b"h:8080", b"[::1]:443", b"127.0.0.1", b"a_b-c~d",
                                   b"xn--caf-dma.example", b"h%41", b""])
def test_host_with_a_valid_value_is_accepted(value: bytes) -> None:
    assert head_of(b"GET / HTTP/1.1\r\nHost: " + value + b"\r\n\r\n").headers == [(b"host", value)]


def test_two_host_headers_are_refused_in_http_1_0_too() -> None:
    refused(b"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", InvalidRequest, "more than one Host")


# --- the first bytes -------------------------------------------------------------------------

@pytest.mark.parametrize("start", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                                   b"\x00", b" GET", b"GE(T", b"G\xffET", b"{\"json\": 1}"])
def test_bytes_that_cannot_start_a_request_are_refused_at_once(start: bytes) -> None:
    """A TLS ClientHello on the plain port or binary input: answered now, with no CRLF seen."""
    parser = RequestParser(http_limits())
    parser.feed(start)
    with pytest.raises(InvalidRequest, match="method"):
        parser.next_event()


def test_a_method_still_arriving_is_not_refused() -> None:
    parser = RequestParser(http_limits())
    for piece in (b"\r", b"\n", b"GE", b"T", b" /"):
        parser.feed(piece)
        assert parser.next_event() is NEED_DATA


def test_a_method_longer_than_the_request_line_limit_is_501() -> None:
    """RFC 9112 §3: a method longer than any implemented gets 501, not the target's 414."""
    error = refused(b"A" * 200, MethodNotImplemented, "method too long", max_request_line=100)
    assert error.status == 501
    refused(b"GET /" + b"a" * 200, RequestLineTooLong, "request line too long",
            max_request_line=100)


# --- empty lines before the request --------------------------------------------------------

def test_a_few_empty_lines_before_the_request_line_are_skipped() -> None:
    assert head_of(b"\r\n" * 8 + _line(b"GET /x HTTP/1.1")).target == b"/x"


def test_too_many_empty_lines_before_the_request_line_are_refused() -> None:
    refused(b"\r\n" * 9 + _line(b"GET / HTTP/1.1"), InvalidRequest,
            "too many empty lines before request line")


def test_endless_empty_lines_are_refused_while_they_arrive() -> None:
    refused([b"\r\n"] * 9, InvalidRequest, "too many empty lines")


# --- bare LF, everywhere ---------------------------------------------------------------------

def test_bare_lf_ending_the_request_line_is_refused() -> None:
    refused(b"GET / HTTP/1.1\nHost: h\r\n\r\n", InvalidRequest, "bare LF in request head")


def test_bare_lf_ending_a_field_line_is_refused() -> None:
    refused(b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", InvalidRequest, "bare LF in request head")


def test_bare_lf_as_the_final_empty_line_is_refused() -> None:
    refused(b"GET / HTTP/1.1\r\nHost: h\r\n\n", InvalidRequest, "bare LF in request head")


def test_bare_lf_before_the_request_line_is_refused() -> None:
    refused(b"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", InvalidRequest, "bare LF in request head")


def test_bare_lf_inside_a_field_value_is_refused() -> None:
    refused(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", InvalidRequest, "bare LF")


def test_bare_lf_ending_a_chunk_size_line_is_refused() -> None:
    refused(CHUNKED + b"5\nhello\r\n0\r\n\r\n", InvalidRequest, "bare LF in chunk size line")


def test_bare_lf_ending_a_chunk_extension_is_refused() -> None:
    refused(CHUNKED + b"5;a=b\nhello\r\n0\r\n\r\n", InvalidRequest, "bare LF in chunk size line")


def test_bare_lf_after_chunk_data_is_refused() -> None:
    refused(CHUNKED + b"5\r\nhello\n0\r\n\r\n", InvalidRequest, "missing CRLF after chunk data")


def test_bare_lf_ending_the_last_chunk_line_is_refused() -> None:
    refused(CHUNKED + b"0\n\r\n", InvalidRequest, "bare LF in chunk size line")


def test_bare_lf_ending_a_trailer_line_is_refused() -> None:
    refused(CHUNKED + b"0\r\nX: t\n\r\n", InvalidRequest, "bare LF in trailer section")


def test_bare_lf_ending_the_trailer_section_is_refused() -> None:
    refused(CHUNKED + b"0\r\nX: t\r\n\n", InvalidRequest, "bare LF in trailer section")
    refused(CHUNKED + b"0\r\n\n", InvalidRequest, "bare LF in trailer section")
