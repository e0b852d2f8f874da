"""Hypothesis strategies for valid HTTP/1.1 requests, with the parse each one must give.

A generated request knows its wire bytes and every field the parser must report for it, so a
property test compares the parser's output with the model and nothing else. The grammar is RFC 9112
(request line §3, fields §5, chunked §7.1) with RFC 9110 tokens (§5.6.2) and field values (§5.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any
from urllib.parse import unquote_to_bytes

from hypothesis import strategies as st

from fastasgi._parser import BODY_CHUNKED, BODY_LENGTH, BODY_NONE

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# pchar without '%' (escapes are generated separately), RFC 3986 §3.3
PCHAR = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@"
FIELD_VCHAR = [bytes([c]) for c in range(0x21, 0x7F)] + [bytes([c]) for c in range(0x80, 0x100)]
SPECIAL_FIELDS = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "expect"}
OWS = st.sampled_from(["", "", " ", "  ", "\t", " \t "])

tokens = st.text(alphabet=TCHAR, min_size=1, max_size=10)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    tokens.filter(lambda m: m != "CONNECT"),
)
field_names = tokens.filter(lambda n: n.lower() not in SPECIAL_FIELDS)


@st.composite
def percent_escapes(draw: st.DrawFn) -> str:
    byte = draw(st.integers(0, 255))
    text = f"%{byte:02x}"
    return text.upper() if draw(st.booleans()) else text


def _uri_text(extra: str) -> st.SearchStrategy[str]:
    atom = st.one_of(st.sampled_from(list(PCHAR + extra)), percent_escapes())
    return st.lists(atom, max_size=12).map("".join)


paths = st.lists(_uri_text(""), min_size=1, max_size=4).map(lambda segs: "/" + "/".join(segs))
queries = _uri_text("/?")


@st.composite
def field_values(draw: st.DrawFn) -> bytes:
    """field-value: field-vchar runs joined by SP/HTAB, never starting or ending with OWS."""
    words = draw(st.lists(st.lists(st.sampled_from(FIELD_VCHAR), min_size=1, max_size=6)
                          .map(b"".join), max_size=4))
    seps = draw(st.lists(st.sampled_from([b" ", b"\t", b"  "]), min_size=len(words),
                         max_size=len(words)))
    out = b""
    for i, word in enumerate(words):
        out += (seps[i] if i else b"") + word
    return out


@st.composite
def mixed_case(draw: st.DrawFn, name: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.swapcase() if f else c for c, f in zip(name, flips))


@st.composite
def chunk_extensions(draw: st.DrawFn) -> bytes:
    """*( ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ), RFC 9112 §7.1.1."""
    out = b""
    for _ in range(draw(st.integers(0, 2))):
        bws = draw(st.sampled_from([b"", b" "]))
        out += b";" + bws + draw(tokens).encode()
        kind = draw(st.sampled_from(["none", "token", "quoted"]))
        if kind == "token":
            out += bws + b"=" + bws + draw(tokens).encode()
        elif kind == "quoted":
            text = draw(st.text(alphabet=TCHAR + ' ,;=\t"\\', max_size=8)).encode()
            out += b'="' + text.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return out


@st.composite
def chunk_size_line(draw: st.DrawFn, size: int) -> bytes:
    digits = f"{size:x}"
    digits = digits.upper() if draw(st.booleans()) else digits
    digits = "0" * draw(st.integers(0, 2)) + digits
    return digits.encode() + draw(chunk_extensions()) + b"\r\n"


@st.composite
def chunked_body(draw: st.DrawFn, body: bytes) -> tuple[bytes, list[int]]:
    """body in random chunks, then a last chunk and a trailer section (dropped by the parser).

    Also gives the offset in the wire of every body byte."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=4))))
    bounds = [0, *(c for c in cuts if c < len(body)), len(body)]
    wire = b""
    offsets: list[int] = []
    for a, b in pairwise(bounds):
        if b > a:
            wire += draw(chunk_size_line(b - a))
            offsets.extend(range(len(wire), len(wire) + b - a))
            wire += body[a:b] + b"\r\n"
    wire += draw(chunk_size_line(0))
    for _ in range(draw(st.integers(0, 2))):
        wire += draw(field_names).encode() + b":" + draw(OWS).encode() + draw(field_values()) + b"\r\n"
    return wire + b"\r\n", offsets


@dataclass
class GeneratedRequest:
    """A valid request on the wire and the parse the model expects for it."""

    wire: bytes
    expected: dict[str, Any]
    body: bytes
    body_offsets: list[int]  # where in wire each body byte is


@st.composite
def requests(draw: st.DrawFn, absolute_form: bool = True) -> GeneratedRequest:
    method = draw(methods)
    raw_path = draw(paths)
    query = draw(st.none() | queries)
    target = raw_path + ("" if query is None else "?" + query)
    authority = None
    if absolute_form and draw(st.integers(0, 5)) == 0:
        authority = draw(st.sampled_from(["example.com", "h:8080", "[::1]:1"]))
        scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
        target = f"{scheme}://{authority}{target}"
    version = draw(st.sampled_from(["1.1", "1.1", "1.0"]))
    framing = draw(st.sampled_from(
        [BODY_NONE, BODY_LENGTH, BODY_CHUNKED] if version == "1.1" else [BODY_NONE, BODY_LENGTH]))
    body = b"" if framing == BODY_NONE else draw(st.binary(max_size=300))

    fields: list[tuple[str, bytes]] = [(draw(field_names), draw(field_values()))
                                       for _ in range(draw(st.integers(0, 5)))]
    has_host = version == "1.1" or draw(st.booleans())
    if has_host:
        fields.append(("Host", draw(st.sampled_from([b"example.com", b"h:8080", b""]))))
    connection = draw(st.sampled_from([None, b"keep-alive", b"close", b"Keep-Alive, x-token"]))
    if connection is not None:
        fields.append(("Connection", connection))
    expect = draw(st.booleans())
    if expect:
        fields.append(("Expect", b"100-continue"))
    if framing == BODY_LENGTH:
        fields.append(("Content-Length", b"0" * draw(st.integers(0, 2)) + str(len(body)).encode()))
    elif framing == BODY_CHUNKED:
        fields.append(("Transfer-Encoding", b"chunked"))
    fields = draw(st.permutations(fields))

    wire = f"{method} {target} HTTP/{version}\r\n".encode()
    for name, value in fields:
        wire += (draw(mixed_case(name)).encode() + b":" + draw(OWS).encode() + value
                 + draw(OWS).encode() + b"\r\n")
    wire += b"\r\n"
    offsets = list(range(len(wire), len(wire) + len(body)))
    if framing == BODY_LENGTH:
        wire += body
    elif framing == BODY_CHUNKED:
        framed, offsets = draw(chunked_body(body))
        offsets = [len(wire) + i for i in offsets]
        wire += framed

    closes = connection is not None and b"close" in connection.lower()
    asks_keep_alive = connection is not None and b"keep-alive" in connection.lower()
    expected = {
        "method": method,
        "target": target.encode(),
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path.encode(),
        "query_string": b"" if query is None else query.encode(),
        "http_version": version,
        "headers": expected_headers(fields, authority),
        "keep_alive": not closes and (version == "1.1" or asks_keep_alive),
        "upgrade": None,
        "expect_continue": expect,
        "body_framing": framing,
        "content_length": len(body) if framing == BODY_LENGTH else -1,
    }
    return GeneratedRequest(wire, expected, body, offsets)


def expected_headers(fields: list[tuple[str, bytes]], authority: str | None) -> list[tuple[bytes, bytes]]:
    """Lowercased names; an absolute-form target's authority replaces Host (RFC 9112 §3.2.2)."""
    headers = [(name.lower().encode(), value) for name, value in fields]
    if authority is None:
        return headers
    if any(name == b"host" for name, _ in headers):
        return [(n, authority.encode() if n == b"host" else v) for n, v in headers]
    return [*headers, (b"host", authority.encode())]


@st.composite
def pipelines(draw: st.DrawFn, max_requests: int = 4) -> tuple[list[GeneratedRequest], list[int]]:
    """Several requests in one byte stream and random points at which to cut it."""
    batch = draw(st.lists(requests(), min_size=1, max_size=max_requests))
    size = sum(len(r.wire) for r in batch)
    cuts = draw(st.lists(st.integers(0, size), max_size=12))
    return batch, cuts
