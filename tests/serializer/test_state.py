from __future__ import annotations

import pytest

from fastasgi._serializer import ResponseEncoder, ResponseStateError
from tests.serializer.wire import split_response


def test_start_twice_is_refused(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    with pytest.raises(ResponseStateError):
        encoder.start(200, [])


def test_start_after_the_response_completed_is_refused(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    encoder.body(b"")
    with pytest.raises(ResponseStateError):
        encoder.start(200, [])


def test_body_before_start_is_refused(encoder: ResponseEncoder) -> None:
    with pytest.raises(ResponseStateError):
        encoder.body(b"early")


def test_body_after_the_final_body_is_refused(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    encoder.body(b"done")
    with pytest.raises(ResponseStateError):
        encoder.body(b"late")


def test_state_attributes_follow_the_response(encoder: ResponseEncoder) -> None:
    assert (encoder.started, encoder.complete, encoder.status, encoder.bytes_sent) == (
        False,
        False,
        0,
        0,
    )
    encoder.start(201, [])
    assert (encoder.started, encoder.complete, encoder.status) == (True, False, 201)
    encoder.body(b"abc", more_body=True)
    assert (encoder.complete, encoder.bytes_sent) == (False, 3)
    encoder.body(b"d")
    assert (encoder.complete, encoder.bytes_sent) == (True, 4)


@pytest.mark.parametrize("name", ["keep_alive", "status", "bytes_sent", "started", "complete"])
def test_state_attributes_are_read_only(encoder: ResponseEncoder, name: str) -> None:
    with pytest.raises(AttributeError):
        setattr(encoder, name, 1)


def test_reset_readies_the_encoder_for_the_next_response(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"x-first", b"1")], keep_alive=False)
    encoder.body(b"first", more_body=True)
    encoder.body(b"")
    encoder.reset()
    assert (encoder.started, encoder.complete, encoder.status, encoder.bytes_sent) == (
        False,
        False,
        0,
        0,
    )
    encoder.start(404, [])
    status_line, fields, body = split_response(encoder.body(b"second"))
    assert status_line == b"HTTP/1.1 404 Not Found"
    assert (b"x-first", b"1") not in fields
    assert (b"content-length", b"6") in fields
    assert body == b"second"
    assert encoder.keep_alive


def test_reset_after_a_huge_head_leaves_a_working_encoder(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"x-big", b"v" * 200_000)])
    assert len(encoder.body(b"")) > 200_000
    encoder.reset()
    encoder.start(200, [(b"x-small", b"1")])
    _, fields, body = split_response(encoder.body(b"ok"))
    assert (b"x-small", b"1") in fields
    assert body == b"ok"


def test_reset_mid_response_abandons_it(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"content-length", b"10")])
    encoder.body(b"abc", more_body=True)
    encoder.reset()
    encoder.start(200, [])
    assert encoder.body(b"new").endswith(b"content-length: 3\r\n\r\nnew")
