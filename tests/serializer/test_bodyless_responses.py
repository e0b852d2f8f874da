from __future__ import annotations

import pytest

from fastasgi._serializer import ResponseEncoder
from tests.serializer.wire import field_values, read_with_h11, split_response


def test_head_response_drops_body_and_adds_no_length(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"content-type", b"text/plain")], head_request=True)
    _, fields, body = split_response(encoder.body(b"the GET body"))
    assert body == b""
    assert field_values(fields, b"content-length") == []
    assert field_values(fields, b"transfer-encoding") == []
    assert encoder.bytes_sent == 0
    assert encoder.keep_alive


def test_head_response_keeps_the_apps_content_length(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"content-length", b"1234")], head_request=True)
    raw = encoder.body(b"")
    _, fields, body = split_response(raw)
    assert field_values(fields, b"content-length") == [b"1234"]
    assert body == b""
    reading = read_with_h11(raw, method=b"HEAD")
    assert reading.body == b""


def test_head_response_never_adds_chunked_when_streamed(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], head_request=True)
    _, fields, body = split_response(encoder.body(b"part", more_body=True))
    assert field_values(fields, b"transfer-encoding") == []
    assert body == b""
    assert encoder.body(b"more", more_body=True) == b""
    assert encoder.body(b"") == b""
    assert encoder.keep_alive


def test_head_response_keeps_the_apps_chunked_header(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"transfer-encoding", b"chunked")], head_request=True)
    _, fields, body = split_response(encoder.body(b"ignored"))
    assert field_values(fields, b"transfer-encoding") == [b"chunked"]
    assert body == b""


@pytest.mark.parametrize("more_body", [False, True])
def test_204_response_has_no_body_and_no_framing_headers(
    encoder: ResponseEncoder, more_body: bool
) -> None:
    encoder.start(204, [(b"x-app", b"1")])
    raw = encoder.body(b"dropped", more_body=more_body)
    _, fields, body = split_response(raw)
    assert body == b""
    assert field_values(fields, b"content-length") == []
    assert field_values(fields, b"transfer-encoding") == []
    assert read_with_h11(raw).response.status_code == 204


def test_204_response_drops_the_apps_content_length(encoder: ResponseEncoder) -> None:
    encoder.start(204, [(b"content-length", b"0"), (b"x-app", b"1")])
    _, fields, _ = split_response(encoder.body(b""))
    assert field_values(fields, b"content-length") == []
    assert field_values(fields, b"x-app") == [b"1"]


def test_304_response_keeps_apps_content_length_and_drops_body(encoder: ResponseEncoder) -> None:
    encoder.start(304, [(b"content-length", b"99"), (b"etag", b'"v1"')])
    raw = encoder.body(b"stale body")
    _, fields, body = split_response(raw)
    assert field_values(fields, b"content-length") == [b"99"]
    assert body == b""
    reading = read_with_h11(raw)
    assert reading.response.status_code == 304
    assert reading.body == b""


def test_304_response_gets_no_framing_headers_added(encoder: ResponseEncoder) -> None:
    encoder.start(304, [])
    _, fields, body = split_response(encoder.body(b"x", more_body=True))
    assert field_values(fields, b"content-length") == []
    assert field_values(fields, b"transfer-encoding") == []
    assert body == b""
    assert encoder.body(b"y") == b""
    assert encoder.keep_alive


def test_informational_response_has_no_body_or_framing_and_ends_the_connection(
    encoder: ResponseEncoder,
) -> None:
    app_headers = [(b"connection", b"upgrade"), (b"upgrade", b"example"), (b"content-length", b"5")]
    encoder.start(101, app_headers)
    status_line, fields, body = split_response(encoder.body(b"hello"))
    assert status_line == b"HTTP/1.1 101 Switching Protocols"
    assert body == b""
    assert field_values(fields, b"content-length") == []
    assert field_values(fields, b"transfer-encoding") == []
    assert field_values(fields, b"connection") == [b"upgrade"]
    assert not encoder.keep_alive


def test_head_response_does_not_check_body_against_content_length(
    encoder: ResponseEncoder,
) -> None:
    encoder.start(200, [(b"content-length", b"100")], head_request=True)
    encoder.body(b"", more_body=True)
    assert encoder.body(b"x" * 500) == b""
    assert encoder.complete and encoder.keep_alive
