"""Response serialization per response: fastasgi's ResponseEncoder beside h11.

Both write the same typical response: status 200, four app headers, date, server, content-length
and a 27-byte JSON body, as one ``bytes``. Each benchmark first checks its output, so a faster
number can never come from doing less.

- ours: one ``ResponseEncoder`` (a keep-alive connection): ``reset``, ``start``, ``body``, through
  the Python API; the protocol layer calls the same code through ``c_start`` / ``c_body`` with no
  Python call in between, so these figures are an upper bound.
- h11: an ``h11.Connection(h11.SERVER)`` that has read a request (outside the timing), then
  ``send`` of Response, Data and EndOfMessage. h11 adds neither Date nor Server and would chunk a
  body of unknown length, so it is handed those headers to write the same bytes.

Run: pytest bench/micro/test_serializer_bench.py --benchmark-only
"""

from __future__ import annotations

from typing import Any

import h11
import pytest

from fastasgi._serializer import ResponseEncoder, set_date
from fastasgi.config import Config
from fastasgi.settings import ResponseDefaults

# What the server's encoders are given with the default settings: Date and Server on.
DEFAULTS = ResponseDefaults.from_config(Config(app="bench.apps:plaintext"))
DATE = b"Sat, 21 Nov 2026 19:40:00 GMT"
BODY = b'{"message":"Hello, world!"}'
APP_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-request-id", b"4bf92f3577b34da6a3ce929d0e0e4736"),
    (b"vary", b"accept-encoding"),
]
H11_HEADERS = [
    *APP_HEADERS,
    (b"date", DATE),
    (b"server", b"fastasgi"),
    (b"content-length", b"%d" % len(BODY)),
]
REQUEST = b"GET / HTTP/1.1\r\nhost: example.com\r\n\r\n"
EXPECTED_LINES = sorted(
    [b"HTTP/1.1 200 OK", *(name + b": " + value for name, value in H11_HEADERS), b"", BODY]
)


@pytest.fixture(autouse=True)
def fixed_date() -> None:
    set_date(DATE)


def check(response: bytes) -> None:
    assert sorted(response.split(b"\r\n")) == EXPECTED_LINES, response


def ours_response(encoder: ResponseEncoder) -> bytes:
    encoder.reset()
    encoder.start(200, APP_HEADERS)
    return encoder.body(BODY)


def h11_response(conn: h11.Connection) -> bytes:
    head = conn.send(h11.Response(status_code=200, reason=b"OK", headers=H11_HEADERS))
    data = conn.send(h11.Data(data=BODY))
    end = conn.send(h11.EndOfMessage())
    assert head is not None and data is not None and end is not None
    return head + data + end


def h11_server_with_request() -> tuple[tuple[h11.Connection], dict[str, Any]]:
    conn = h11.Connection(our_role=h11.SERVER)
    conn.receive_data(REQUEST)
    assert isinstance(conn.next_event(), h11.Request)
    assert isinstance(conn.next_event(), h11.EndOfMessage)
    return (conn,), {}


@pytest.mark.benchmark(group="response: head + small body")
def test_ours_response(benchmark: Any) -> None:
    encoder = ResponseEncoder(DEFAULTS)
    check(ours_response(encoder))
    check(benchmark(ours_response, encoder))


@pytest.mark.benchmark(group="response: head + small body")
def test_h11_response(benchmark: Any) -> None:
    (conn,), _ = h11_server_with_request()
    check(h11_response(conn))
    check(benchmark.pedantic(h11_response, setup=h11_server_with_request, rounds=20_000))


@pytest.mark.benchmark(group="head only")
def test_ours_head_only(benchmark: Any) -> None:
    """reset + start: validating and building the head, without producing the bytes."""
    encoder = ResponseEncoder(DEFAULTS)

    def head() -> ResponseEncoder:
        encoder.reset()
        encoder.start(200, APP_HEADERS)
        return encoder

    # NOTE: fixed iterations per round: a single call is close to the timer's own resolution.
    check(benchmark.pedantic(head, rounds=5_000, iterations=100).body(BODY))


@pytest.mark.benchmark(group="chunk framing")
def test_ours_chunk_4k(benchmark: Any) -> None:
    encoder = ResponseEncoder(DEFAULTS)
    encoder.start(200, APP_HEADERS)
    encoder.body(b"", more_body=True)
    piece = b"x" * 4096
    out = benchmark(encoder.body, piece, True)
    assert out == b"1000\r\n" + piece + b"\r\n"
