"""Properties: whatever valid response the app describes, a real client (h11) reads back exactly
that; whatever header the app gives, it is either refused or written exactly."""

from __future__ import annotations

import re

import h11
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastasgi._serializer import InvalidHeader, ResponseEncoder
from tests.serializer.wire import read_with_h11, split_response
from tests.support.settings import response_defaults

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Names whose meaning the encoder acts on; they are exercised by the framing choice below and by
# the unit tests, and left out of the free-form headers so the expected output stays simple.
MANAGED = {b"content-length", b"transfer-encoding", b"connection", b"date", b"server"}

names = (
    st.text(alphabet=TCHARS, min_size=1, max_size=20)
    .map(str.encode)
    .filter(lambda name: name.lower() not in MANAGED)
)
visible = st.binary(min_size=1, max_size=8).filter(
    lambda piece: all(0x21 <= b <= 0x7E or b >= 0x80 for b in piece)
)
values = st.lists(st.tuples(visible, st.sampled_from([b"", b" ", b"\t", b" \t "])), max_size=4).map(
    lambda parts: b"".join(word + gap for word, gap in parts).rstrip(b" \t")
)
app_headers = st.lists(st.tuples(names, values), max_size=8)
body_pieces = st.lists(st.binary(max_size=300), min_size=1, max_size=5)
statuses = st.integers(min_value=200, max_value=599)

settings_for_roundtrip = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@settings_for_roundtrip
@given(
    status=statuses,
    headers=app_headers,
    pieces=body_pieces,
    framing=st.sampled_from(["ours", "content-length", "chunked"]),
    method=st.sampled_from([b"GET", b"HEAD"]),
    http11=st.booleans(),
    keep_alive=st.booleans(),
)
def test_response_reads_back_the_same_with_h11(
    status: int,
    headers: list[tuple[bytes, bytes]],
    pieces: list[bytes],
    framing: str,
    method: bytes,
    http11: bool,
    keep_alive: bool,
) -> None:
    sent_headers = list(headers)
    if framing == "content-length":
        sent_headers.append((b"Content-Length", b"%d" % sum(map(len, pieces))))
    elif framing == "chunked":
        sent_headers.insert(0, (b"transfer-encoding", b"chunked"))

    encoder = ResponseEncoder(response_defaults())
    encoder.start(
        status, sent_headers, head_request=method == b"HEAD", http11=http11, keep_alive=keep_alive
    )
    last = len(pieces) - 1
    raw = b"".join(encoder.body(piece, more_body=i < last) for i, piece in enumerate(pieces))
    assert encoder.complete

    reading = read_with_h11(raw, method=method, keep_alive=keep_alive)
    assert reading.response.status_code == status
    read_back = [(n, v) for n, v in reading.response.headers if n not in MANAGED]
    assert read_back == [(n.lower(), v) for n, v in headers]
    no_body = method == b"HEAD" or status in (204, 304)
    assert reading.body == (b"" if no_body else b"".join(pieces))
    assert encoder.bytes_sent == len(reading.body)
    assert encoder.keep_alive == (reading.their_state is h11.DONE)


TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
FIELD_VALUE = re.compile(rb"(?:[\x21-\x7e\x80-\xff](?:[ \t]*[\x21-\x7e\x80-\xff])*)?")

interesting_bytes = st.binary(max_size=12) | st.lists(
    st.sampled_from([b"a", b"Z", b"-", b" ", b"\t", b"\r", b"\n", b"\x00", b"\x7f", b"\xe9", b":"]),
    max_size=6,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(name=interesting_bytes, value=interesting_bytes)
def test_header_is_either_refused_or_written_exactly(name: bytes, value: bytes) -> None:
    assume(name.lower() not in MANAGED)
    encoder = ResponseEncoder(response_defaults(date_header=False, server_header=False))
    if TOKEN.fullmatch(name) is None or FIELD_VALUE.fullmatch(value) is None:
        with pytest.raises(InvalidHeader):
            encoder.start(200, [(name, value)])
        assert not encoder.started
        return
    encoder.start(200, [(name, value)])
    raw = encoder.body(b"")
    _, fields, _ = split_response(raw)
    assert fields[0] == (name, value)
    assert read_with_h11(raw).response.headers[0] == (name.lower(), value)
