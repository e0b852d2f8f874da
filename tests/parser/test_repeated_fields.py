"""A keep-alive connection's repeated field lines: a field line the same as the one at its place
in the connection's previous request reuses that request's (name, value) tuple (_head.pyx).
Whatever is reused, each head holds exactly the field lines of its own request."""

from __future__ import annotations

import pytest

from fastasgi._parser import RequestHead, RequestParser
from tests.parser.events import messages, parse
from tests.support.settings import parser_limits


def _request(fields: list[tuple[bytes, bytes]], target: bytes = b"/") -> bytes:
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in fields)
    return b"GET " + target + b" HTTP/1.1\r\n" + lines + b"\r\n"


def _heads(*requests: bytes) -> list[RequestHead]:
    """The heads of the requests, each fed alone, in order, to one parser."""
    parser = RequestParser(parser_limits())
    heads = []
    for raw in requests:
        parser.feed(raw)
        found = messages([parser.next_event(), parser.next_event()])
        assert len(found) == 1 and found[0].complete
        heads.append(found[0].head)
    return heads


BROWSER = [
    (b"Host", b"www.example.com"),
    (b"User-Agent", b"Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0 Safari/537.36"),
    (b"Accept", b"text/html,*/*;q=0.8"),
    (b"Accept-Language", b"en-US,en;q=0.9"),
    (b"Cookie", b"sessionid=6f1c2a9e4b7d4c0a; theme=dark"),
    (b"X-Custom-Name-Longer-Than-Any-Common-One", b"1"),
]


def _lowered(fields: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower(), value) for name, value in fields]


def test_a_repeated_request_reuses_every_field_tuple() -> None:
    first, second = _heads(_request(BROWSER), _request(BROWSER))
    assert first.headers == second.headers == _lowered(BROWSER)
    assert all(a is b for a, b in zip(first.headers, second.headers, strict=True))


@pytest.mark.parametrize("changed", [
    b"text/html,*/*;q=0.9",   # the same length, the last byte other
    b"xext/html,*/*;q=0.8",   # the same length, the first byte other
    b"text/html,*/*;q=0.",    # a prefix
    b"text/html,*/*;q=0.80",  # longer
    b"",                      # empty
])
def test_a_changed_value_is_the_new_one(changed: bytes) -> None:
    other = list(BROWSER)
    other[2] = (b"Accept", changed)
    first, second = _heads(_request(BROWSER), _request(other))
    assert second.headers == _lowered(other)
    assert second.headers[2] is not first.headers[2]
    assert second.headers[1] is first.headers[1]  # the unchanged line is still shared


def test_the_same_value_under_another_name_is_not_reused() -> None:
    renamed = [BROWSER[0], (b"Accept-Charset", BROWSER[1][1]), *BROWSER[2:]]
    _, second = _heads(_request(BROWSER), _request(renamed))
    assert second.headers == _lowered(renamed)
    assert second.headers[1] == (b"accept-charset", BROWSER[1][1])


def test_names_that_differ_in_case_only_are_the_same_field() -> None:
    shouting = [(name.upper(), value) for name, value in BROWSER]
    first, second = _heads(_request(BROWSER), _request(shouting))
    assert second.headers == _lowered(BROWSER)
    assert all(a is b for a, b in zip(first.headers, second.headers, strict=True))


def test_fields_shifted_by_an_inserted_line_are_all_read_afresh() -> None:
    inserted = [BROWSER[0], (b"DNT", b"1"), *BROWSER[1:]]
    first, second, third = _heads(_request(BROWSER), _request(inserted), _request(inserted))
    assert second.headers == _lowered(inserted)
    assert second.headers[0] is first.headers[0]  # the Host line did not move
    assert third.headers == _lowered(inserted)
    assert all(a is b for a, b in zip(second.headers, third.headers, strict=True))


def test_more_fields_than_are_remembered_are_all_read() -> None:
    many = [(b"X-Field-%d" % i, b"value %d" % i) for i in range(60)]
    fields = [(b"Host", b"h"), *many]
    changed = [(b"Host", b"h"), *((name, value + b"!") for name, value in many)]
    first, second, third = _heads(_request(fields), _request(fields), _request(changed))
    assert first.headers == second.headers == _lowered(fields)
    assert third.headers == _lowered(changed)


def test_a_scope_list_the_app_changed_does_not_leak_into_the_next_request() -> None:
    parser = RequestParser(parser_limits())
    parser.feed(_request(BROWSER))
    first = parser.next_event()
    parser.next_event()
    # A middleware rewrites its scope's header list in place.
    first.headers[0] = (b"host", b"evil.example")
    first.headers.append((b"x-added", b"1"))
    first.headers.pop(1)
    parser.feed(_request(BROWSER))
    second = parser.next_event()
    assert second.headers == _lowered(BROWSER)


def test_an_absolute_form_authority_is_not_remembered_as_the_host_line() -> None:
    fields = [(b"Host", b"a.example"), (b"Accept", b"*/*")]
    first, second = _heads(_request(fields, b"http://b.example/x"), _request(fields))
    assert first.headers == [(b"host", b"b.example"), (b"accept", b"*/*")]
    assert second.headers == [(b"host", b"a.example"), (b"accept", b"*/*")]


def test_pipelined_requests_each_get_their_own_fields() -> None:
    other = [(name, value + b"2") for name, value in BROWSER]
    found = parse(_request(BROWSER) + _request(other) + _request(BROWSER))
    assert [m.head.headers for m in found] == [_lowered(BROWSER), _lowered(other),
                                              _lowered(BROWSER)]
