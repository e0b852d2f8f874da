from __future__ import annotations

from fastasgi._serializer import ResponseEncoder
from tests.serializer.wire import field_values, split_response


def test_http11_keep_alive_response_has_no_connection_header(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == []
    assert encoder.keep_alive


def test_request_without_keep_alive_gets_connection_close(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], keep_alive=False)
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"close"]
    assert not encoder.keep_alive


def test_apps_connection_close_ends_keep_alive_and_is_not_repeated(
    encoder: ResponseEncoder,
) -> None:
    encoder.start(200, [(b"Connection", b"close")])
    assert not encoder.keep_alive
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"close"]


def test_close_is_found_among_other_connection_options(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"connection", b"x-custom , Close")])
    assert not encoder.keep_alive
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"x-custom , Close"]


def test_apps_connection_keep_alive_on_a_closing_request_gets_close_added(
    encoder: ResponseEncoder,
) -> None:
    encoder.start(200, [(b"connection", b"keep-alive")], keep_alive=False)
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"keep-alive", b"close"]
    assert not encoder.keep_alive


def test_http10_keep_alive_request_gets_connection_keep_alive(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], http11=False, keep_alive=True)
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"keep-alive"]
    assert field_values(fields, b"content-length") == [b"2"]
    assert encoder.keep_alive


def test_http10_apps_own_keep_alive_is_not_repeated(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"Connection", b"Keep-Alive")], http11=False, keep_alive=True)
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"Keep-Alive"]


def test_http10_request_without_keep_alive_gets_connection_close(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], http11=False, keep_alive=False)
    _, fields, _ = split_response(encoder.body(b"ok"))
    assert field_values(fields, b"connection") == [b"close"]
    assert not encoder.keep_alive


def test_http10_keep_alive_request_with_streamed_body_closes(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], http11=False, keep_alive=True)
    assert encoder.keep_alive
    _, fields, _ = split_response(encoder.body(b"a", more_body=True))
    assert field_values(fields, b"connection") == [b"close"]
    assert not encoder.keep_alive
