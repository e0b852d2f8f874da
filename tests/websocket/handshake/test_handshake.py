"""The opening handshake: request validation, subprotocols, permessage-deflate negotiation."""

import base64

import pytest

from fastasgi._websocket import DeflateParams
from fastasgi.websocket_handshake import (
    HandshakeError,
    UpgradeRequest,
    accept_headers,
    accept_key,
    encode_switching_protocols,
    negotiate_deflate,
    parse_extensions,
    parse_upgrade,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


def request_headers(**overrides: bytes | None) -> list[tuple[bytes, bytes]]:
    fields = {
        b"host": b"example.com",
        b"upgrade": b"websocket",
        b"connection": b"Upgrade",
        b"sec-websocket-key": KEY,
        b"sec-websocket-version": b"13",
    }
    for name, value in overrides.items():
        fields[name.replace("_", "-").encode()] = value
    return [(name, value) for name, value in fields.items() if value is not None]


def refused(method="GET", version="1.1", headers=None) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        parse_upgrade(method, version, request_headers() if headers is None else headers)
    return info.value


def test_accept_key_of_the_rfc_example():
    assert accept_key(KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_valid_request_is_parsed():
    request = parse_upgrade("GET", "1.1", request_headers())
    assert request == UpgradeRequest(key=KEY, subprotocols=(), extensions=())
    assert request.accept == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_header_values_are_case_insensitive_tokens():
    headers = request_headers(upgrade=b"WebSocket", connection=b"keep-alive, UPGRADE")
    assert parse_upgrade("GET", "1.1", headers).key == KEY


def test_header_names_in_any_case_are_accepted():
    headers = [(name.upper(), value) for name, value in request_headers()]
    assert parse_upgrade("GET", "1.1", headers).key == KEY


@pytest.mark.parametrize("method", ["POST", "HEAD", "get"])
def test_method_other_than_get_is_400(method):
    assert refused(method=method).status == 400


def test_http_1_0_is_400():
    assert refused(version="1.0").status == 400


@pytest.mark.parametrize("value", [None, b"h2c", b"websockets", b""])
def test_missing_websocket_upgrade_is_400(value):
    assert refused(headers=request_headers(upgrade=value)).status == 400


@pytest.mark.parametrize("value", [None, b"keep-alive", b"upgraded", b""])
def test_connection_without_upgrade_is_400(value):
    assert refused(headers=request_headers(connection=value)).status == 400


@pytest.mark.parametrize("value", [None, b"8", b"12", b"14", b"13, 8", b""])
def test_other_websocket_version_is_426_with_the_supported_version(value):
    err = refused(headers=request_headers(sec_websocket_version=value))
    assert err.status == 426
    assert err.headers == [(b"Sec-WebSocket-Version", b"13")]


def test_repeated_version_header_is_426():
    headers = request_headers() + [(b"sec-websocket-version", b"13")]
    assert refused(headers=headers).status == 426


@pytest.mark.parametrize(
    "key",
    [
        None,
        b"",
        b"not base64!",
        base64.b64encode(b"x" * 15),
        base64.b64encode(b"x" * 17),
        base64.b64encode(b"x" * 16).rstrip(b"="),
        b"dGhlIHNhbXBsZSBub25j ZQ==",
    ],
)
def test_key_that_is_not_16_base64_bytes_is_400(key):
    assert refused(headers=request_headers(sec_websocket_key=key)).status == 400


def test_two_keys_are_400():
    headers = request_headers() + [(b"sec-websocket-key", KEY)]
    assert refused(headers=headers).status == 400


def test_subprotocols_keep_the_client_order_across_headers():
    headers = request_headers(sec_websocket_protocol=b"chat, , superchat") + [
        (b"sec-websocket-protocol", b"v2.json")
    ]
    request = parse_upgrade("GET", "1.1", headers)
    assert request.subprotocols == ("chat", "superchat", "v2.json")


def test_subprotocol_that_is_not_a_token_is_400():
    assert refused(headers=request_headers(sec_websocket_protocol=b"chat, a b")).status == 400


def test_extensions_are_parsed():
    offers = parse_extensions(
        [
            (
                b"permessage-deflate; client_max_window_bits, "
                b'permessage-deflate; server_max_window_bits="10" ; SERVER_NO_CONTEXT_TAKEOVER'
            ),
            b"x-custom",
        ]
    )
    assert offers == [
        ("permessage-deflate", [("client_max_window_bits", None)]),
        (
            "permessage-deflate",
            [("server_max_window_bits", "10"), ("server_no_context_takeover", None)],
        ),
        ("x-custom", []),
    ]


@pytest.mark.parametrize(
    "value",
    [
        b"permessage-deflate;",
        b"permessage-deflate; =1",
        b"permessage-deflate; a=",
        b'permessage-deflate; a="1 2"',
        b'permessage-deflate; a="unterminated',
        b"permessage-deflate x",
        b"; a",
        b"a b",
    ],
)
def test_malformed_extensions_header_is_400(value):
    with pytest.raises(HandshakeError) as info:
        parse_extensions([value])
    assert info.value.status == 400


def deflate_response(offer: bytes, preferred: DeflateParams | None = None):
    return negotiate_deflate(parse_extensions([offer]), preferred or DeflateParams())


def test_plain_offer_is_accepted_with_defaults():
    params, value = deflate_response(b"permessage-deflate")
    assert value == b"permessage-deflate"
    assert params == DeflateParams()


def test_offered_server_no_context_takeover_is_accepted():
    params, value = deflate_response(b"permessage-deflate; server_no_context_takeover")
    assert value == b"permessage-deflate; server_no_context_takeover"
    assert params.server_no_context_takeover


def test_offered_client_no_context_takeover_is_confirmed():
    params, value = deflate_response(b"permessage-deflate; client_no_context_takeover")
    assert value == b"permessage-deflate; client_no_context_takeover"
    assert params.client_no_context_takeover


def test_server_may_impose_no_context_takeover_on_both_sides():
    preferred = DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True)
    params, value = deflate_response(b"permessage-deflate", preferred)
    assert value == (b"permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    assert params.server_no_context_takeover and params.client_no_context_takeover


def test_offered_server_window_is_answered_with_the_same_or_smaller():
    params, value = deflate_response(b"permessage-deflate; server_max_window_bits=10")
    assert value == b"permessage-deflate; server_max_window_bits=10"
    assert params.server_max_window_bits == 10
    preferred = DeflateParams(server_max_window_bits=9)
    params, value = deflate_response(b"permessage-deflate; server_max_window_bits=12", preferred)
    assert value == b"permessage-deflate; server_max_window_bits=9"
    assert params.server_max_window_bits == 9


def test_server_announces_a_smaller_window_unasked():
    preferred = DeflateParams(server_max_window_bits=12)
    params, value = deflate_response(b"permessage-deflate", preferred)
    assert value == b"permessage-deflate; server_max_window_bits=12"
    assert params.server_max_window_bits == 12


def test_server_window_of_8_is_declined():
    assert deflate_response(b"permessage-deflate; server_max_window_bits=8") is None


def test_client_window_is_limited_only_when_offered():
    preferred = DeflateParams(client_max_window_bits=10)
    params, value = deflate_response(b"permessage-deflate", preferred)
    assert value == b"permessage-deflate"
    assert params.client_max_window_bits == 15
    params, value = deflate_response(b"permessage-deflate; client_max_window_bits", preferred)
    assert value == b"permessage-deflate; client_max_window_bits=10"
    assert params.client_max_window_bits == 10


def test_client_window_hint_is_used():
    params, value = deflate_response(b"permessage-deflate; client_max_window_bits=9")
    assert value == b"permessage-deflate; client_max_window_bits=9"
    assert params.client_max_window_bits == 9


@pytest.mark.parametrize(
    "offer",
    [
        b"permessage-deflate; server_max_window_bits",  # value required
        b"permessage-deflate; server_max_window_bits=7",
        b"permessage-deflate; server_max_window_bits=16",
        b"permessage-deflate; server_max_window_bits=010",  # leading zero
        b"permessage-deflate; client_max_window_bits=0",
        b"permessage-deflate; client_max_window_bits=abc",
        b"permessage-deflate; server_no_context_takeover=1",  # takes no value
        b"permessage-deflate; client_no_context_takeover=true",
        b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        b"permessage-deflate; client_max_window_bits=10; client_max_window_bits",
        b"permessage-deflate; unknown_param",
        b"x-webkit-deflate-frame",
    ],
)
def test_unacceptable_offer_is_declined(offer):
    assert deflate_response(offer) is None


def test_first_acceptable_offer_wins():
    offer = (
        b"permessage-deflate; server_max_window_bits=8, "
        b"permessage-deflate; bogus, "
        b"permessage-deflate; client_no_context_takeover, "
        b"permessage-deflate"
    )
    params, value = deflate_response(offer)
    assert value == b"permessage-deflate; client_no_context_takeover"
    assert params.client_no_context_takeover


def test_local_compression_settings_are_carried_over():
    preferred = DeflateParams(compress_level=1, mem_level=5)
    params, _ = deflate_response(b"permessage-deflate", preferred)
    assert (params.compress_level, params.mem_level) == (1, 5)


def accepted_request(**overrides: bytes) -> UpgradeRequest:
    return parse_upgrade("GET", "1.1", request_headers(**overrides))


def test_accept_headers_minimal():
    headers, params = accept_headers(accepted_request())
    assert headers == [
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ]
    assert params is None


def test_accept_headers_with_subprotocol_deflate_and_extra_headers():
    request = accepted_request(
        sec_websocket_protocol=b"chat, superchat",
        sec_websocket_extensions=b"permessage-deflate; client_max_window_bits",
    )
    headers, params = accept_headers(
        request,
        subprotocol="superchat",
        deflate=DeflateParams(),
        extra_headers=[(b"x-trace", b"abc")],
    )
    assert headers[3:] == [
        (b"Sec-WebSocket-Protocol", b"superchat"),
        (b"Sec-WebSocket-Extensions", b"permessage-deflate"),
        (b"x-trace", b"abc"),
    ]
    assert params == DeflateParams()


def test_offered_deflate_is_not_used_when_the_server_disables_it():
    request = accepted_request(sec_websocket_extensions=b"permessage-deflate")
    headers, params = accept_headers(request, deflate=None)
    assert params is None
    assert all(name != b"Sec-WebSocket-Extensions" for name, _ in headers)


def test_subprotocol_not_offered_is_refused():
    with pytest.raises(ValueError):
        accept_headers(accepted_request(sec_websocket_protocol=b"chat"), subprotocol="other")


@pytest.mark.parametrize(
    "header",
    [
        (b"bad name", b"v"),
        (b"x-a", b"v\r\nInjected: 1"),
        (b"x-a", b"v\x00"),
        (b"Sec-WebSocket-Accept", b"forged"),
        (b"connection", b"close"),
        (b"content-length", b"0"),
    ],
)
def test_bad_or_reserved_extra_header_is_refused(header):
    with pytest.raises(ValueError):
        accept_headers(accepted_request(), extra_headers=[header])


def test_switching_protocols_response_bytes():
    headers, _ = accept_headers(accepted_request())
    assert encode_switching_protocols(headers) == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"\r\n"
    )
