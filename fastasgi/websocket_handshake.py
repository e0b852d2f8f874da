"""The WebSocket opening handshake, server side (RFC 6455 §4.2, RFC 7692 §5 and §7.1).

``parse_upgrade`` checks an upgrade request's method, version and headers and returns what the
application needs to decide (the offered subprotocols) and what the answer needs (the key, the
extension offers). ``accept_headers`` builds the 101 response headers once the application has
accepted, negotiating permessage-deflate against the server's preferences, and
``encode_switching_protocols`` puts them on the wire. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fastasgi._websocket import DeflateParams
from fastasgi.http_grammar import TOKEN

__all__ = [
    "ExtensionOffer",
    "HandshakeError",
    "UpgradeRequest",
    "accept_headers",
    "accept_key",
    "encode_switching_protocols",
    "negotiate_deflate",
    "parse_extensions",
    "parse_subprotocols",
    "parse_upgrade",
]

# RFC 6455 §1.3: the GUID appended to the key before hashing.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# (name, value or None) of one extension parameter; names are lowercased.
ExtensionParam = tuple[str, str | None]
# (extension name, parameters) of one element of Sec-WebSocket-Extensions.
ExtensionOffer = tuple[str, list[ExtensionParam]]

# RFC 9110 §5.6.3 optional whitespace.
_OWS = re.compile(r"[ \t]*")
# RFC 9110 §5.6.4 quoted-string (qdtext and quoted-pair).
_QUOTED = re.compile(r'"((?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*)"')
_QUOTED_PAIR = re.compile(r"\\(.)")
# RFC 7692 §7.1.2: "a decimal integer value without leading zeroes between 8 to 15".
_WINDOW_BITS = re.compile(r"[89]|1[0-5]")
# A header value may hold neither CR, LF nor NUL (RFC 9110 §5.5).
_BAD_VALUE = re.compile(rb"[\r\n\x00]")

# Headers the handshake itself owns; an application's extra headers may not set them, and
# RFC 9110 §8.6 and RFC 9112 §6.1 forbid framing headers on a 1xx response.
_RESERVED = frozenset(
    {
        b"upgrade",
        b"connection",
        b"sec-websocket-accept",
        b"sec-websocket-protocol",
        b"sec-websocket-extensions",
        b"content-length",
        b"transfer-encoding",
    }
)


class HandshakeError(Exception):
    """An upgrade request to refuse: answer with ``status`` and ``headers``.

    400 for a malformed handshake; 426 with ``Sec-WebSocket-Version: 13`` when the version is
    missing or not 13 (RFC 6455 §4.2.2, §4.4)."""

    def __init__(
        self, message: str, status: int = 400, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


@dataclass(frozen=True, slots=True)
class UpgradeRequest:
    """A valid WebSocket upgrade request."""

    key: bytes  # Sec-WebSocket-Key as sent
    subprotocols: tuple[str, ...]  # Sec-WebSocket-Protocol, in the client's order
    extensions: tuple[ExtensionOffer, ...]  # Sec-WebSocket-Extensions, in the client's order

    @property
    def accept(self) -> bytes:
        return accept_key(self.key)


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 step 5.4)."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def _values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [value for field, value in headers if field == name]


def _tokens(values: list[bytes]) -> set[str]:
    """The lowercased elements of comma-separated header values (empty elements skipped)."""
    found = set()
    for value in values:
        for item in value.decode("latin-1").split(","):
            item = item.strip(" \t").lower()
            if item:
                found.add(item)
    return found


def parse_upgrade(
    method: str, http_version: str, headers: Iterable[tuple[bytes, bytes]]
) -> UpgradeRequest:
    """Check a WebSocket upgrade request (RFC 6455 §4.2.1); raise HandshakeError if invalid."""
    fields = [(name.lower(), value) for name, value in headers]
    if method != "GET":
        raise HandshakeError("a WebSocket handshake must use GET")
    if http_version != "1.1":
        raise HandshakeError("a WebSocket handshake needs HTTP/1.1")
    if "websocket" not in _tokens(_values(fields, b"upgrade")):
        raise HandshakeError("Upgrade header does not name websocket")
    if "upgrade" not in _tokens(_values(fields, b"connection")):
        raise HandshakeError("Connection header lacks the upgrade option")
    if _values(fields, b"sec-websocket-version") != [b"13"]:
        raise HandshakeError(
            "unsupported WebSocket version", 426, [(b"Sec-WebSocket-Version", b"13")]
        )
    keys = _values(fields, b"sec-websocket-key")
    if len(keys) != 1:
        raise HandshakeError("exactly one Sec-WebSocket-Key header is required")
    try:
        raw_key = base64.b64decode(keys[0], validate=True)
    except (binascii.Error, ValueError):
        raise HandshakeError("Sec-WebSocket-Key is not base64") from None
    if len(raw_key) != 16:
        raise HandshakeError("Sec-WebSocket-Key does not decode to 16 bytes")
    return UpgradeRequest(
        key=keys[0],
        subprotocols=tuple(parse_subprotocols(_values(fields, b"sec-websocket-protocol"))),
        extensions=tuple(parse_extensions(_values(fields, b"sec-websocket-extensions"))),
    )


def parse_subprotocols(values: Iterable[bytes]) -> list[str]:
    """Sec-WebSocket-Protocol values (``1#token``, RFC 6455 §4.3) as one ordered list."""
    protocols = []
    for value in values:
        for item in value.decode("latin-1").split(","):
            item = item.strip(" \t")
            if not item:
                continue  # RFC 9110 §5.6.1: empty list elements are ignored
            if not TOKEN.fullmatch(item):
                raise HandshakeError(f"invalid subprotocol {item!r}")
            protocols.append(item)
    return protocols


def parse_extensions(values: Iterable[bytes]) -> list[ExtensionOffer]:
    """Sec-WebSocket-Extensions values (RFC 6455 §9.1) as one ordered list of offers.

    Extension and parameter names are lowercased; a quoted-string value is unescaped and must
    then be a token, as §9.1 requires. Raises HandshakeError on a syntax error."""
    offers: list[ExtensionOffer] = []
    for value in values:
        offers.extend(_parse_extension_list(value.decode("latin-1")))
    return offers


def _parse_extension_list(text: str) -> list[ExtensionOffer]:
    offers: list[ExtensionOffer] = []
    pos = 0
    end = len(text)
    while True:
        pos = _OWS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < end and text[pos] == ",":
            pos += 1  # an empty list element
            continue
        if pos == end:
            return offers
        name, pos = _expect_token(text, pos, "extension name")
        params: list[ExtensionParam] = []
        pos = _OWS.match(text, pos).end()  # type: ignore[union-attr]
        while pos < end and text[pos] == ";":
            pos = _OWS.match(text, pos + 1).end()  # type: ignore[union-attr]
            param, pos = _expect_token(text, pos, "extension parameter")
            pos = _OWS.match(text, pos).end()  # type: ignore[union-attr]
            param_value = None
            if pos < end and text[pos] == "=":
                pos = _OWS.match(text, pos + 1).end()  # type: ignore[union-attr]
                quoted = _QUOTED.match(text, pos)
                if quoted:
                    param_value = _QUOTED_PAIR.sub(r"\1", quoted.group(1))
                    if not TOKEN.fullmatch(param_value):
                        raise HandshakeError("quoted extension parameter value is not a token")
                    pos = quoted.end()
                else:
                    param_value, pos = _expect_token(text, pos, "extension parameter value")
                pos = _OWS.match(text, pos).end()  # type: ignore[union-attr]
            params.append((param.lower(), param_value))
        offers.append((name.lower(), params))
        if pos < end and text[pos] != ",":
            raise HandshakeError("malformed Sec-WebSocket-Extensions header")


def _expect_token(text: str, pos: int, what: str) -> tuple[str, int]:
    match = TOKEN.match(text, pos)
    if not match:
        raise HandshakeError(f"malformed Sec-WebSocket-Extensions header: {what} expected")
    return match.group(), match.end()


def negotiate_deflate(
    offers: Sequence[ExtensionOffer], preferred: DeflateParams
) -> tuple[DeflateParams, bytes] | None:
    """Accept the first acceptable permessage-deflate offer (RFC 7692 §5, §7.1).

    ``preferred`` holds what the server wants: the largest windows it will use and allow, and
    whether it insists on no context takeover either way. Returns the agreed parameters and the
    Sec-WebSocket-Extensions response value, or None if every offer is declined."""
    for name, params in offers:
        if name == "permessage-deflate":
            agreed = _accept_deflate_offer(params, preferred)
            if agreed is not None:
                return agreed
    return None


def _accept_deflate_offer(
    params: list[ExtensionParam], preferred: DeflateParams
) -> tuple[DeflateParams, bytes] | None:
    offered: dict[str, str | None] = {}
    for name, value in params:
        # §7.1: a parameter given twice, an unknown one or an invalid value declines the offer.
        if name in offered:
            return None
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                return None
        elif name == "server_max_window_bits":
            if value is None or not _WINDOW_BITS.fullmatch(value):
                return None
        elif name == "client_max_window_bits":
            if value is not None and not _WINDOW_BITS.fullmatch(value):
                return None
        else:
            return None
        offered[name] = value

    # §7.1.1.1: an offered server_no_context_takeover must be accepted; the server may also
    # impose it. §7.1.1.2: client_no_context_takeover may be confirmed or imposed.
    server_no_takeover = "server_no_context_takeover" in offered or (
        preferred.server_no_context_takeover
    )
    client_no_takeover = "client_no_context_takeover" in offered or (
        preferred.client_no_context_takeover
    )
    # §7.1.2.1: an offered limit must be answered with the same or a smaller value; without
    # one the server may still announce a smaller window.
    server_bits = preferred.server_max_window_bits
    if "server_max_window_bits" in offered:
        server_bits = min(server_bits, int(offered["server_max_window_bits"]))  # type: ignore[arg-type]
        if server_bits < 9:
            return None  # zlib cannot compress with a 256-byte window
    # §7.1.2.2: the client's window may be limited only if the client offered the parameter.
    client_bits = 15
    if "client_max_window_bits" in offered:
        client_bits = min(
            int(offered["client_max_window_bits"] or 15), preferred.client_max_window_bits
        )

    response = ["permessage-deflate"]
    if server_no_takeover:
        response.append("server_no_context_takeover")
    if client_no_takeover:
        response.append("client_no_context_takeover")
    if "server_max_window_bits" in offered or server_bits < 15:
        response.append(f"server_max_window_bits={server_bits}")
    if client_bits < 15:
        response.append(f"client_max_window_bits={client_bits}")
    agreed = DeflateParams(
        server_no_context_takeover=server_no_takeover,
        client_no_context_takeover=client_no_takeover,
        server_max_window_bits=server_bits,
        client_max_window_bits=client_bits,
        compress_level=preferred.compress_level,
        mem_level=preferred.mem_level,
    )
    return agreed, "; ".join(response).encode("ascii")


def accept_headers(
    request: UpgradeRequest,
    *,
    subprotocol: str | None = None,
    deflate: DeflateParams | None = None,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
) -> tuple[list[tuple[bytes, bytes]], DeflateParams | None]:
    """The 101 response headers (RFC 6455 §4.2.2 step 5) and the agreed deflate parameters.

    ``subprotocol`` must be one the client offered; ``deflate`` is the server's preference,
    None to never compress; ``extra_headers`` are the application's, which may not set the
    handshake's own headers nor Content-Length / Transfer-Encoding. Raises ValueError."""
    headers = [
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Accept", request.accept),
    ]
    if subprotocol is not None:
        if subprotocol not in request.subprotocols:
            raise ValueError(f"subprotocol {subprotocol!r} was not offered by the client")
        headers.append((b"Sec-WebSocket-Protocol", subprotocol.encode("ascii")))
    agreed = None
    if deflate is not None:
        negotiated = negotiate_deflate(request.extensions, deflate)
        if negotiated is not None:
            agreed, value = negotiated
            headers.append((b"Sec-WebSocket-Extensions", value))
    for name, value in extra_headers:
        name, value = bytes(name), bytes(value)
        if not TOKEN.fullmatch(name.decode("latin-1")) or _BAD_VALUE.search(value):
            raise ValueError(f"invalid response header {name!r}")
        if name.lower() in _RESERVED:
            raise ValueError(f"the handshake sets {name.decode('latin-1')} itself")
        headers.append((name, value))
    return headers, agreed


def encode_switching_protocols(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The complete 101 response for headers from accept_headers() (plus Date, Server ...)."""
    lines = [b"HTTP/1.1 101 Switching Protocols\r\n"]
    for name, value in headers:
        lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    return b"".join(lines)
