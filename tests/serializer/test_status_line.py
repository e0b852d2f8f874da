from __future__ import annotations

from http import HTTPStatus

import pytest

from fastasgi._serializer import InvalidStatus, ResponseEncoder
from tests.serializer.wire import read_with_h11, split_response


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (200, b"HTTP/1.1 200 OK"),
        (201, b"HTTP/1.1 201 Created"),
        (301, b"HTTP/1.1 301 Moved Permanently"),
        (404, b"HTTP/1.1 404 Not Found"),
        (413, b"HTTP/1.1 413 Content Too Large"),
        (500, b"HTTP/1.1 500 Internal Server Error"),
        (511, b"HTTP/1.1 511 Network Authentication Required"),
    ],
)
def test_status_line_carries_the_standard_reason_phrase(
    encoder: ResponseEncoder, status: int, line: bytes
) -> None:
    encoder.start(status, [])
    assert split_response(encoder.body(b""))[0] == line


def test_unknown_status_gets_an_empty_reason_on_a_valid_line(encoder: ResponseEncoder) -> None:
    encoder.start(599, [])
    raw = encoder.body(b"x")
    assert raw.startswith(b"HTTP/1.1 599 \r\n")
    reading = read_with_h11(raw)
    assert reading.response.status_code == 599
    assert reading.body == b"x"


def test_http10_request_is_answered_with_an_http11_status_line(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], http11=False)
    assert encoder.body(b"").startswith(b"HTTP/1.1 200 OK\r\n")


def test_status_given_as_an_int_enum_is_accepted(encoder: ResponseEncoder) -> None:
    encoder.start(HTTPStatus.NOT_FOUND, [])
    assert encoder.status == 404
    assert encoder.body(b"").startswith(b"HTTP/1.1 404 Not Found\r\n")


@pytest.mark.parametrize("status", [99, 1000, 0, -200, 2**70])
def test_status_outside_100_to_999_is_refused(encoder: ResponseEncoder, status: int) -> None:
    with pytest.raises(InvalidStatus):
        encoder.start(status, [])
    assert not encoder.started


@pytest.mark.parametrize("status", ["200", 200.0, True, None, b"200"])
def test_status_that_is_not_an_int_is_refused(encoder: ResponseEncoder, status: object) -> None:
    with pytest.raises(InvalidStatus):
        encoder.start(status, [])  # type: ignore[arg-type]


def test_informational_status_for_an_http10_request_is_refused(encoder: ResponseEncoder) -> None:
    with pytest.raises(InvalidStatus):
        encoder.start(103, [], http11=False)
    assert not encoder.started
