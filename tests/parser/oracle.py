"""h11 as an independent reading of the same bytes, for differential tests.

Two ways to ask it. ``h11_reading`` gives h11 a whole pipelined stream: after each request it is
sent a small response so that it moves on to the next one, which it does only while the connection
stays reusable. ``h11_single`` gives it the bytes our parser took for one request, on a fresh
connection, and reports whether h11 saw exactly one complete request in exactly those bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import h11

from fastasgi._parser import END_OF_MESSAGE, NEED_DATA, HTTPParseError, RequestParser
from tests.parser.events import Message, messages
from tests.support.settings import parser_limits

ORACLE_MAX_EVENT = 1 << 20


@dataclass
class OracleRequest:
    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]]
    http_version: str
    body: bytes = b""
    complete: bool = False


@dataclass
class Reading:
    """The complete requests a parser accepted, and the error that stopped it, if any."""

    requests: list[OracleRequest] = field(default_factory=list)
    error: str | None = None


def h11_reading(data: bytes) -> Reading:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=ORACLE_MAX_EVENT)
    reading = Reading()
    current: OracleRequest | None = None
    try:
        conn.receive_data(data)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            if isinstance(event, h11.Request):
                current = OracleRequest(event.method.decode("ascii"), event.target,
                                        list(event.headers), event.http_version.decode())
            elif isinstance(event, h11.Data):
                assert current is not None
                current.body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert current is not None
                current.complete = True
                reading.requests.append(current)
                current = None
                if conn.their_state is not h11.DONE or conn.our_state is not h11.SEND_RESPONSE:
                    break  # a protocol switch is proposed: h11 reads no further
                conn.send(h11.Response(status_code=200, headers=[(b"content-length", b"0")]))
                conn.send(h11.EndOfMessage())
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break  # the connection will close
                conn.start_next_cycle()
    except h11.RemoteProtocolError as exc:
        reading.error = str(exc)
    return reading


def h11_single(segment: bytes) -> tuple[OracleRequest | None, str | None]:
    """h11's reading of one request's bytes: the request if it ends exactly where they end."""
    reading = h11_reading(segment)
    if reading.error is not None:
        return None, reading.error
    if len(reading.requests) != 1:
        return None, f"h11 found {len(reading.requests)} complete requests"
    return reading.requests[0], None


def our_segments(data: bytes, **limits: int) -> tuple[list[tuple[Message, bytes]], HTTPParseError | None]:
    """Our complete requests in data, each with the bytes it was parsed from."""
    parser = RequestParser(parser_limits(**limits))
    events: list[object] = []
    bounds = [0]
    error = None
    try:
        parser.feed(data)
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
            if event is END_OF_MESSAGE:
                bounds.append(len(data) - parser.buffered)
    except HTTPParseError as exc:
        error = exc
    done = [m for m in messages(events) if m.complete]
    return [(m, data[a:b]) for m, a, b in zip(done, bounds, bounds[1:])], error


def our_reading(data: bytes, **limits: int) -> tuple[list[Message], HTTPParseError | None]:
    """Our complete requests from data, and the error that stopped the parser, if any."""
    parser = RequestParser(parser_limits(**limits))
    events: list[object] = []
    error = None
    try:
        parser.feed(data)
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
    except HTTPParseError as exc:
        error = exc
    return [m for m in messages(events) if m.complete], error


def stops_after(message: Message) -> bool:
    """h11 reads nothing after this request: the connection closes or may switch protocols."""
    head = message.head
    connection = b",".join(v for n, v in head.headers if n == b"connection").lower()
    # NOTE: h11 never keeps an HTTP/1.0 connection open, even when asked to.
    return (not head.keep_alive or head.http_version == "1.0" or head.method == "CONNECT"
            or head.upgrade is not None or b"upgrade" in connection)


def as_h11_reports(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Our header list the way h11 reports the same fields: it keeps only the first of several
    equal Content-Length fields and lowercases the Transfer-Encoding value."""
    out = []
    seen_length = False
    for name, value in headers:
        if name == b"content-length":
            if seen_length:
                continue
            seen_length = True
        elif name == b"transfer-encoding":
            value = value.lower()
        out.append((name, value))
    return out
