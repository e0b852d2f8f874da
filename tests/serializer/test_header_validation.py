from __future__ import annotations

from collections.abc import Iterator

import pytest

from fastasgi._serializer import HeaderTypeError, InvalidHeader, ResponseEncoder, ResponseError
from tests.serializer.wire import field_values, split_response

FORBIDDEN_IN_BOTH = {"CR": b"\r", "LF": b"\n", "NUL": b"\x00"}


@pytest.mark.parametrize("char", FORBIDDEN_IN_BOTH.values(), ids=FORBIDDEN_IN_BOTH.keys())
def test_header_name_with_cr_lf_or_nul_is_refused(encoder: ResponseEncoder, char: bytes) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"x-bad" + char + b"name", b"v")])
    assert not encoder.started


@pytest.mark.parametrize("char", FORBIDDEN_IN_BOTH.values(), ids=FORBIDDEN_IN_BOTH.keys())
def test_header_value_with_cr_lf_or_nul_is_refused(encoder: ResponseEncoder, char: bytes) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"x-ok", b"a" + char + b"set-cookie: injected")])
    assert not encoder.started


@pytest.mark.parametrize("char", [b"\x01", b"\x1f", b"\x7f", b"\x0b", b"\x0c"])
def test_header_value_with_another_control_byte_is_refused(
    encoder: ResponseEncoder, char: bytes
) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"x-ok", b"a" + char + b"b")])


@pytest.mark.parametrize("value", [b" leading", b"trailing ", b"\ttab", b"tab\t", b" "])
def test_header_value_with_whitespace_at_an_end_is_refused(
    encoder: ResponseEncoder, value: bytes
) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"x-ok", value)])


@pytest.mark.parametrize(
    "name", [b"", b"x y", b"x:y", b"x(y)", b"x/y", b'x"y', b"caf\xc3\xa9", b"\x7f", b"x@y", b"{}"]
)
def test_header_name_that_is_not_a_token_is_refused(encoder: ResponseEncoder, name: bytes) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(name, b"v")])


def test_header_name_with_every_token_character_is_accepted(encoder: ResponseEncoder) -> None:
    name = b"!#$%&'*+-.^_`|~09azAZ"
    encoder.start(200, [(name, b"v")])
    _, fields, _ = split_response(encoder.body(b""))
    assert (name, b"v") in fields


@pytest.mark.parametrize("value", [b"", b"a\tb", b"a  b", b"caf\xc3\xa9", b"\x80\xff", b"!~"])
def test_header_value_with_inner_whitespace_or_obs_text_is_accepted(
    encoder: ResponseEncoder, value: bytes
) -> None:
    encoder.start(200, [(b"x-value", value)])
    _, fields, _ = split_response(encoder.body(b""))
    assert field_values(fields, b"x-value") == [value]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("x-str", b"v"),
        (b"x-str", "v"),
        (bytearray(b"x-ba"), b"v"),
        (b"x-ba", bytearray(b"v")),
        (memoryview(b"x-mv"), b"v"),
        (b"x-int", 1),
        (None, b"v"),
    ],
)
def test_header_name_or_value_that_is_not_bytes_is_a_type_error(
    encoder: ResponseEncoder, name: object, value: object
) -> None:
    with pytest.raises(HeaderTypeError) as caught:
        encoder.start(200, [(name, value)])
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, ResponseError)


@pytest.mark.parametrize("item", [(b"x-one",), (b"a", b"b", b"c"), b"ab", 5, None])
def test_header_that_is_not_a_pair_is_a_type_error(encoder: ResponseEncoder, item: object) -> None:
    with pytest.raises(HeaderTypeError):
        encoder.start(200, [item])


def test_headers_that_are_not_iterable_are_a_type_error(encoder: ResponseEncoder) -> None:
    with pytest.raises(HeaderTypeError):
        encoder.start(200, 42)


def test_refused_head_leaves_the_encoder_ready_to_start(encoder: ResponseEncoder) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"x-first", b"1"), (b"x-bad", b"\r\n")])
    encoder.start(200, [(b"x-second", b"2")])
    _, fields, _ = split_response(encoder.body(b""))
    assert field_values(fields, b"x-first") == []
    assert field_values(fields, b"x-second") == [b"2"]


def test_headers_keep_the_apps_order_case_and_duplicates(encoder: ResponseEncoder) -> None:
    app_headers = [(b"X-B", b"1"), (b"set-cookie", b"a=1"), (b"x-a", b"2"), (b"Set-Cookie", b"b=2")]
    encoder.start(200, app_headers)
    _, fields, _ = split_response(encoder.body(b""))
    assert fields[: len(app_headers)] == app_headers


def test_headers_as_lists_tuples_and_generators_are_accepted(encoder: ResponseEncoder) -> None:
    def generated() -> Iterator[tuple[bytes, bytes]]:
        yield (b"x-gen", b"1")

    for headers in ([[b"x-gen", b"1"]], ((b"x-gen", b"1"),), generated()):
        encoder.reset()
        encoder.start(200, headers)
        _, fields, _ = split_response(encoder.body(b""))
        assert field_values(fields, b"x-gen") == [b"1"]


def test_header_list_shrunk_while_being_read_is_not_read_past_its_end(
    encoder: ResponseEncoder,
) -> None:
    headers: list[object] = []

    class ShrinkingPair:
        def __iter__(self) -> Iterator[bytes]:
            del headers[1:]
            return iter((b"x-pair", b"1"))

    headers.extend([ShrinkingPair(), (b"x-gone", b"2"), (b"x-gone", b"3")])
    encoder.start(200, headers)
    _, fields, _ = split_response(encoder.body(b""))
    assert field_values(fields, b"x-pair") == [b"1"]
    assert field_values(fields, b"x-gone") == []
