"""What a RequestHead reports for one request: line, target forms, fields and connection flags."""

from __future__ import annotations

import pytest

from fastasgi._parser import (
    BODY_CHUNKED,
    BODY_LENGTH,
    BODY_NONE,
    InvalidRequest,
    MethodNotImplemented,
)
from tests.parser.events import head_fields, head_of, refused


def _get(target: bytes = b"/", fields: bytes = b"", version: bytes = b"1.1",
         method: bytes = b"GET") -> bytes:
    return method + b" " + target + b" HTTP/" + version + b"\r\nHost: example.com\r\n" + fields + b"\r\n"


def test_request_line_gives_method_target_and_version() -> None:
    head = head_of(b"DELETE /items/7?force=1 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert head_fields(head) == {
        "method": "DELETE",
        "target": b"/items/7?force=1",
        "path": "/items/7",
        "raw_path": b"/items/7",
        "query_string": b"force=1",
        "http_version": "1.1",
        "headers": [(b"host", b"h")],
        "keep_alive": True,
        "upgrade": None,
        "expect_continue": False,
        "body_framing": BODY_NONE,
        "content_length": -1,
    }


def test_unregistered_method_token_is_kept_as_sent() -> None:
    assert head_of(_get(method=b"PROPFIND")).method == "PROPFIND"
    assert head_of(_get(method=b"x-Custom_1")).method == "x-Custom_1"


def test_http_1_0_version_is_reported() -> None:
    assert head_of(b"GET / HTTP/1.0\r\n\r\n").http_version == "1.0"


def test_path_is_percent_decoded_and_raw_path_is_not() -> None:
    head = head_of(_get(b"/caf%C3%A9/a%2Fb%20c?q=%20"))
    assert head.path == "/caf\u00e9/a/b c"
    assert head.raw_path == b"/caf%C3%A9/a%2Fb%20c"
    assert head.query_string == b"q=%20"


def test_path_with_invalid_utf8_is_decoded_with_replacement_characters() -> None:
    head = head_of(_get(b"/%ff%e2%82/ok"))
    assert head.path == "/\ufffd\ufffd/ok"
    assert head.raw_path == b"/%ff%e2%82/ok"


def test_percent_signs_without_two_hex_digits_stay_literal() -> None:
    assert head_of(_get(b"/a%zz%4")).path == "/a%zz%4"
    assert head_of(_get(b"/100%")).path == "/100%"


def test_query_string_is_everything_after_the_first_question_mark() -> None:
    head = head_of(_get(b"/p?a=1&b=?c/d"))
    assert (head.raw_path, head.query_string) == (b"/p", b"a=1&b=?c/d")
    head = head_of(_get(b"/p?"))
    assert (head.path, head.query_string) == ("/p", b"")


def test_absolute_form_target_gives_the_path_and_query_from_the_uri() -> None:
    head = head_of(_get(b"http://example.com:8080/a%20b?x=1"))
    assert head.target == b"http://example.com:8080/a%20b?x=1"
    assert (head.path, head.raw_path, head.query_string) == ("/a b", b"/a%20b", b"x=1")


def test_absolute_form_without_a_path_means_the_root() -> None:
    head = head_of(_get(b"HTTPS://example.com?q"))
    assert (head.path, head.raw_path, head.query_string) == ("/", b"/", b"q")
    assert head_of(_get(b"http://example.com")).path == "/"


def test_asterisk_form_is_accepted_for_options() -> None:
    head = head_of(_get(b"*", method=b"OPTIONS"))
    assert (head.target, head.path, head.query_string) == (b"*", "*", b"")


def test_connect_is_501_since_asgi_has_no_tunnels() -> None:
    error = refused(_get(b"example.com:443", method=b"CONNECT"), MethodNotImplemented,
                    "CONNECT is not supported")
    assert error.status == 501
    refused(_get(b"[::1]:8443", method=b"CONNECT"), MethodNotImplemented, "CONNECT")


def test_connect_to_a_target_that_is_not_host_and_port_is_400() -> None:
    for target in (b"example.com", b"example.com:", b":443", b"/path", b"a:b", b"u@h:1",
                   b"http://h:1/"):
        refused(_get(target, method=b"CONNECT"), InvalidRequest, "CONNECT target")


def test_absolute_form_authority_replaces_the_host_field() -> None:
    head = head_of(b"GET http://b.example:8080/p?q=1 HTTP/1.1\r\nHost: a.example\r\nX: y\r\n\r\n")
    assert head.headers == [(b"host", b"b.example:8080"), (b"x", b"y")]
    assert (head.path, head.query_string) == ("/p", b"q=1")


def test_absolute_form_authority_becomes_the_host_of_an_http_1_0_request() -> None:
    head = head_of(b"GET http://b.example/p HTTP/1.0\r\n\r\n")
    assert head.headers == [(b"host", b"b.example")]


def test_absolute_form_with_userinfo_is_400() -> None:
    refused(b"GET http://user:pw@b.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
            InvalidRequest, "userinfo")


def test_absolute_form_with_an_invalid_port_is_400() -> None:
    refused(b"GET http://b.example:http/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
            InvalidRequest, "invalid host in request target")


def test_header_names_are_lowercased_and_order_and_duplicates_are_kept() -> None:
    head = head_of(_get(fields=b"X-B: 1\r\nACCEPT: */*\r\nx-b: 2\r\nX-Very-Long-Custom-Header-Name-"
                               b"Beyond-Thirty-Two: v\r\n"))
    assert head.headers == [
        (b"host", b"example.com"),
        (b"x-b", b"1"),
        (b"accept", b"*/*"),
        (b"x-b", b"2"),
        (b"x-very-long-custom-header-name-beyond-thirty-two", b"v"),
    ]


def test_header_values_have_surrounding_whitespace_trimmed_and_inner_kept() -> None:
    head = head_of(_get(fields=b"A: \t spaced  out \t\r\nB:tight\r\nC: x\ty\r\n"))
    assert head.headers[1:] == [(b"a", b"spaced  out"), (b"b", b"tight"), (b"c", b"x\ty")]


@pytest.mark.parametrize("length", range(26))
def test_field_values_of_every_length_end_at_their_own_line(length: int) -> None:
    """Values are scanned 8 bytes at a time: the line's CR is found in any lane of a word,
    and a tab (allowed) in any lane does not end the value."""
    value = bytes(0x61 + i % 26 for i in range(length))
    tabbed = value[:length // 2] + b"\t" + value[length // 2:]
    head = head_of(_get(fields=b"A: " + value + b"\r\nB: " + tabbed + b"\r\nC: c\r\n"))
    assert head.headers[1:] == [(b"a", value), (b"b", tabbed.strip(b"\t")), (b"c", b"c")]


def test_empty_header_value_is_an_empty_bytes() -> None:
    head = head_of(_get(fields=b"Empty:\r\nBlank:   \r\n"))
    assert head.headers[1:] == [(b"empty", b""), (b"blank", b"")]


def test_obs_text_in_header_values_is_kept_byte_for_byte() -> None:
    head = head_of(_get(fields=b"X-Name: caf\xc3\xa9 \xff\r\n"))
    assert head.headers[1] == (b"x-name", b"caf\xc3\xa9 \xff")


def test_http_1_1_is_keep_alive_by_default() -> None:
    assert head_of(_get()).keep_alive is True


def test_http_1_0_is_not_keep_alive_by_default() -> None:
    assert head_of(b"GET / HTTP/1.0\r\n\r\n").keep_alive is False


def test_http_1_0_with_connection_keep_alive_is_keep_alive() -> None:
    assert head_of(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive is True


def test_connection_close_ends_keep_alive() -> None:
    assert head_of(_get(fields=b"Connection: close\r\n")).keep_alive is False
    assert head_of(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive is False


def test_connection_token_lists_are_read_token_by_token() -> None:
    head = head_of(_get(fields=b"Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"))
    assert head.keep_alive is True
    assert head.upgrade == b"websocket"
    head = head_of(_get(fields=b"Connection: x-a ,  CLOSE  ,x-b\r\n"))
    assert head.keep_alive is False


def test_connection_tokens_are_whole_words_not_substrings() -> None:
    head = head_of(_get(fields=b"Connection: closed, x-upgrade\r\nUpgrade: websocket\r\n"))
    assert head.keep_alive is True
    assert head.upgrade is None


def test_websocket_upgrade_is_reported_lowercased_with_connection_upgrade() -> None:
    head = head_of(_get(fields=b"Connection: Upgrade\r\nUpgrade: WebSocket\r\n"))
    assert head.upgrade == b"websocket"


def test_upgrade_without_the_connection_token_is_ignored() -> None:
    assert head_of(_get(fields=b"Upgrade: websocket\r\n")).upgrade is None
    assert head_of(_get(fields=b"Connection: keep-alive\r\nUpgrade: h2c\r\n")).upgrade is None


def test_connection_upgrade_without_an_upgrade_field_is_no_upgrade() -> None:
    assert head_of(_get(fields=b"Connection: upgrade\r\n")).upgrade is None


@pytest.mark.parametrize("value", [b"100-continue", b"100-Continue"])
def test_expect_100_continue_is_reported(value: bytes) -> None:
    assert head_of(_get(fields=b"Expect: " + value + b"\r\n")).expect_continue is True


def test_other_expectations_are_not_100_continue() -> None:
    assert head_of(_get(fields=b"Expect: 200-ok\r\n")).expect_continue is False
    assert head_of(_get()).expect_continue is False


def test_request_without_framing_fields_has_no_body() -> None:
    head = head_of(_get())
    assert (head.body_framing, head.content_length) == (BODY_NONE, -1)


def test_content_length_gives_length_framing() -> None:
    head = head_of(_get(fields=b"Content-Length: 1234\r\n"))
    assert (head.body_framing, head.content_length) == (BODY_LENGTH, 1234)


def test_content_length_zero_is_length_framing_of_zero() -> None:
    head = head_of(_get(fields=b"Content-Length: 0\r\n"))
    assert (head.body_framing, head.content_length) == (BODY_LENGTH, 0)


def test_content_length_with_leading_zeros_is_its_decimal_value() -> None:
    assert head_of(_get(fields=b"Content-Length: 007\r\n")).content_length == 7


def test_identical_duplicate_content_lengths_are_accepted() -> None:
    head = head_of(_get(fields=b"Content-Length: 5\r\nContent-Length: 5\r\n"))
    assert (head.body_framing, head.content_length) == (BODY_LENGTH, 5)


def test_transfer_encoding_chunked_gives_chunked_framing() -> None:
    head = head_of(_get(fields=b"Transfer-Encoding: Chunked \r\n"))
    assert (head.body_framing, head.content_length) == (BODY_CHUNKED, -1)


def test_empty_lines_before_the_request_line_are_skipped() -> None:
    head = head_of(b"\r\n\r\n\r\n" + _get(b"/after-blank-lines"))
    assert head.target == b"/after-blank-lines"


def test_host_header_is_optional_in_http_1_0() -> None:
    assert head_of(b"GET / HTTP/1.0\r\n\r\n").headers == []


def test_empty_host_value_is_accepted() -> None:
    assert head_of(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").headers == [(b"host", b"")]
