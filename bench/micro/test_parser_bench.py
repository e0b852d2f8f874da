"""Request parsing per request: fastasgi's RequestParser beside httptools and h11.

Every parser gets the same whole request in one ``feed`` and must hand back the same things the
server needs: method, target, the header list with lowercased names, the body pieces and the end of
the message. Each benchmark first checks its parser's output against the input's expected values,
so a faster number can never come from doing less.

- ours: one ``RequestParser`` per benchmark (a keep-alive connection): ``feed`` then
  ``next_event`` until ``END_OF_MESSAGE``. Our head also carries the decoded path, query string,
  keep-alive and upgrade decisions, which the others leave to the caller.
- httptools: one ``HttpRequestParser`` per benchmark with callbacks collecting the same values;
  lowercasing the header names in ``on_header`` is part of the work, as a server must do it.
- h11: a new ``h11.Connection(h11.SERVER)`` per request. h11 only starts its next cycle once the
  server has sent a whole response, which would time a serializer too; the constructor costs
  ~0.7 us, a few percent of h11's time per request.

Benchmarks are grouped per input; bench/conftest.py prints ns per request and ours/httptools.
"""

from collections.abc import Callable
from typing import Any

import h11
import httptools
import pytest

from bench.micro.parser_inputs import INPUTS, RequestInput

# (method, target, headers, body) as the bench compares them.
Parsed = tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes]
ParseOne = Callable[[bytes], Any]


def ours() -> tuple[ParseOne, Callable[[Any], Parsed]]:
    from fastasgi._parser import END_OF_MESSAGE, NEED_DATA, RequestParser
    from fastasgi.config import Config
    from fastasgi.settings import HTTPLimits

    # The limits the server runs with by default.
    parser = RequestParser(HTTPLimits.from_config(Config(app="bench.apps:plaintext")))

    def parse(data: bytes) -> tuple[Any, list[bytes]]:
        parser.feed(data)
        head = None
        body = []
        while True:
            event = parser.next_event()
            if type(event) is bytes:
                body.append(event)
            elif event is END_OF_MESSAGE:
                return head, body
            elif event is NEED_DATA:
                raise AssertionError("the whole request was fed but the parser wants more")
            else:
                head = event

    def normalize(result: tuple[Any, list[bytes]]) -> Parsed:
        head, body = result
        return head.method.encode(), head.target, head.headers, b"".join(body)

    return parse, normalize


class _HttptoolsMessage:
    """httptools callbacks collecting one request."""

    __slots__ = ("body", "complete", "headers", "method", "parser", "url")

    def __init__(self) -> None:
        self.parser: Any = None
        self.method = b""
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False

    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.body = []
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self.method = self.parser.get_method()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def httptools_() -> tuple[ParseOne, Callable[[Any], Parsed]]:
    message = _HttptoolsMessage()
    parser = httptools.HttpRequestParser(message)
    message.parser = parser

    def parse(data: bytes) -> _HttptoolsMessage:
        parser.feed_data(data)
        if not message.complete:
            raise AssertionError("the whole request was fed but httptools did not complete it")
        return message

    def normalize(result: _HttptoolsMessage) -> Parsed:
        return result.method, result.url, list(result.headers), b"".join(result.body)

    return parse, normalize


def h11_() -> tuple[ParseOne, Callable[[Any], Parsed]]:
    request_type, data_type, end_type = h11.Request, h11.Data, h11.EndOfMessage

    def parse(data: bytes) -> tuple[Any, list[bytes]]:
        connection = h11.Connection(h11.SERVER)
        connection.receive_data(data)
        head = None
        body = []
        while True:
            event = connection.next_event()
            kind = type(event)
            if kind is data_type:
                body.append(event.data)
            elif kind is end_type:
                return head, body
            elif kind is request_type:
                head = event
            else:
                raise AssertionError(f"unexpected h11 event {event!r}")

    def normalize(result: tuple[Any, list[bytes]]) -> Parsed:
        head, body = result
        return head.method, head.target, list(head.headers), b"".join(body)

    return parse, normalize


PARSERS = {"ours": ours, "httptools": httptools_, "h11": h11_}


@pytest.mark.parametrize("parser_name", list(PARSERS))
@pytest.mark.parametrize("input_name", list(INPUTS))
def test_parse_request(
    benchmark: Any,
    parser_timings: dict[tuple[str, str], float],
    input_name: str,
    parser_name: str,
) -> None:
    request: RequestInput = INPUTS[input_name]
    parse, normalize = PARSERS[parser_name]()
    expected: Parsed = (request.method, request.target, request.headers, request.body)
    # Twice: the second request runs on the state the first one left (keep-alive).
    assert normalize(parse(request.raw)) == expected
    assert normalize(parse(request.raw)) == expected

    benchmark.group = f"parser: {request.description} ({len(request.raw)} bytes)"
    result = benchmark(parse, request.raw)

    assert normalize(result) == expected
    if benchmark.stats is not None:
        parser_timings[input_name, parser_name] = benchmark.stats.stats.median
