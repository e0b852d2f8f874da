from __future__ import annotations

import pytest

from fastasgi._serializer import HeaderTypeError, InvalidHeader, ResponseEncoder, set_date
from tests.serializer.wire import DATE, field_values, split_response
from tests.support.settings import encoder_defaults, response_defaults


def fields_of(
    encoder: ResponseEncoder, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    encoder.reset()
    encoder.start(200, headers)
    return split_response(encoder.body(b""))[1]


def test_date_header_carries_the_value_set_by_set_date(encoder: ResponseEncoder) -> None:
    assert field_values(fields_of(encoder, []), b"date") == [DATE]


def test_next_response_uses_a_refreshed_date(encoder: ResponseEncoder) -> None:
    fields_of(encoder, [])
    set_date(b"Sun, 22 Nov 2026 00:00:01 GMT")
    assert field_values(fields_of(encoder, []), b"date") == [b"Sun, 22 Nov 2026 00:00:01 GMT"]


def test_apps_own_date_replaces_ours(encoder: ResponseEncoder) -> None:
    fields = fields_of(encoder, [(b"Date", b"Thu, 01 Jan 2026 00:00:00 GMT")])
    assert field_values(fields, b"date") == [b"Thu, 01 Jan 2026 00:00:00 GMT"]


def test_no_date_header_when_disabled() -> None:
    encoder = ResponseEncoder(response_defaults(date_header=False))
    assert field_values(fields_of(encoder, []), b"date") == []


def test_server_header_is_sent_when_configured() -> None:
    encoder = ResponseEncoder(encoder_defaults(server_header=b"example/1.0"))
    assert field_values(fields_of(encoder, []), b"server") == [b"example/1.0"]


def test_apps_own_server_replaces_ours(encoder: ResponseEncoder) -> None:
    fields = fields_of(encoder, [(b"SERVER", b"app")])
    assert field_values(fields, b"server") == [b"app"]


@pytest.mark.parametrize("server", [None, b""])
def test_no_server_header_when_not_configured(server: bytes | None) -> None:
    encoder = ResponseEncoder(encoder_defaults(server_header=server))
    assert field_values(fields_of(encoder, []), b"server") == []


def test_default_headers_are_added() -> None:
    encoder = ResponseEncoder(
        encoder_defaults(headers=[(b"x-frame-options", b"DENY"), (b"x-env", b"prod")]))
    fields = fields_of(encoder, [(b"content-type", b"text/html")])
    assert field_values(fields, b"x-frame-options") == [b"DENY"]
    assert field_values(fields, b"x-env") == [b"prod"]


def test_encoders_of_two_servers_made_in_turn_keep_their_own_defaults() -> None:
    # What a server's defaults compile to is shared by its encoders; another server's encoder
    # made between two of them must get its own.
    frames, env = encoder_defaults(headers=[(b"x-frame-options", b"DENY")]), encoder_defaults(
        headers=[(b"x-env", b"prod")], server_header=None)
    made = [ResponseEncoder(defaults) for defaults in (frames, env, frames, env)]
    for encoder, defaults in zip(made, (frames, env, frames, env)):
        fields = fields_of(encoder, [])
        assert field_values(fields, b"x-frame-options") == ([b"DENY"] if defaults is frames else [])
        assert field_values(fields, b"x-env") == ([b"prod"] if defaults is env else [])
        assert field_values(fields, b"server") == ([b"fastasgi"] if defaults is frames else [])


def test_default_header_is_skipped_when_the_app_sends_that_name() -> None:
    encoder = ResponseEncoder(
        encoder_defaults(headers=[(b"x-frame-options", b"DENY"), (b"x-env", b"prod")]))
    fields = fields_of(encoder, [(b"X-Frame-Options", b"SAMEORIGIN")])
    assert field_values(fields, b"x-frame-options") == [b"SAMEORIGIN"]
    assert field_values(fields, b"x-env") == [b"prod"]
    # The next response starts fresh: the default is back.
    assert field_values(fields_of(encoder, []), b"x-frame-options") == [b"DENY"]


def test_default_server_or_date_replaces_the_built_in_one() -> None:
    encoder = ResponseEncoder(encoder_defaults(
        headers=[(b"Server", b"custom"), (b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")]
    ))
    fields = fields_of(encoder, [])
    assert field_values(fields, b"server") == [b"custom"]
    assert field_values(fields, b"date") == [b"Thu, 01 Jan 2026 00:00:00 GMT"]


@pytest.mark.parametrize(
    ("name", "value"), [(b"x bad", b"v"), (b"x-ok", b"a\r\nb"), (b"x-ok", b" padded")]
)
def test_invalid_default_header_is_refused_at_configuration(name: bytes, value: bytes) -> None:
    with pytest.raises(InvalidHeader):
        ResponseEncoder(encoder_defaults(headers=[(name, value)]))


def test_default_header_that_is_not_bytes_is_a_type_error() -> None:
    with pytest.raises(HeaderTypeError):
        ResponseEncoder(encoder_defaults(headers=[("x-str", "v")]))


@pytest.mark.parametrize("name", [b"Content-Length", b"transfer-encoding", b"connection"])
def test_framing_header_cannot_be_a_default(name: bytes) -> None:
    with pytest.raises(InvalidHeader):
        ResponseEncoder(encoder_defaults(headers=[(name, b"close")]))


def test_more_than_64_default_headers_are_refused() -> None:
    with pytest.raises(ValueError):
        ResponseEncoder(encoder_defaults(headers=[(b"x-%d" % i, b"v") for i in range(65)]))


def test_invalid_server_value_is_refused() -> None:
    with pytest.raises(InvalidHeader):
        ResponseEncoder(encoder_defaults(server_header=b"bad\r\nvalue"))


def test_set_date_refuses_values_that_are_not_bytes_or_not_a_field_value() -> None:
    with pytest.raises(TypeError):
        set_date("Sat, 21 Nov 2026 19:40:00 GMT")  # type: ignore[arg-type]
    for value in (b"", b"Sat\r\nx: y", b" Sat"):
        with pytest.raises(ValueError):
            set_date(value)
