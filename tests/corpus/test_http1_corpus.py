"""Replay the request corpus: each file's name states its documented outcome (tests/corpus/README.md)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from fastasgi._parser import END_OF_MESSAGE, NEED_DATA, HTTPParseError, RequestHead, RequestParser
from tests.support.server import Running, recv_until_closed, serve
from tests.support.settings import http_limits

CORPUS = Path(__file__).parent / "http1"
CASES = sorted(CORPUS.glob("*.http"))


def expected_status(case: Path) -> int:
    return int(case.name.split("-", 1)[0])


def parse_outcome(pieces: list[bytes]) -> tuple[int, str]:
    """(status, reason) for a refused request; (200, "") once a whole message was read."""
    parser = RequestParser(http_limits())
    try:
        for piece in pieces:
            parser.feed(piece)
            while (event := parser.next_event()) is not NEED_DATA:
                if event is END_OF_MESSAGE:
                    return 200, ""
    except HTTPParseError as exc:
        return exc.status, str(exc)
    return 0, "incomplete"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_parser_gives_the_documented_outcome_however_the_input_is_split(case: Path) -> None:
    data = case.read_bytes()
    whole = parse_outcome([data])
    assert whole[0] == expected_status(case), whole
    assert parse_outcome([data[i:i + 1] for i in range(len(data))]) == whole


async def read_all_then_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, then answers with the Host header it was given."""
    while (message := await receive())["type"] == "http.request" and message.get("more_body"):
        pass
    if message["type"] == "http.disconnect":
        return
    host = dict(scope["headers"]).get(b"host", b"")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": host})


@pytest.fixture(scope="module")
def server() -> Any:
    with serve(read_all_then_answer) as srv:
        yield srv


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_server_answers_with_the_documented_status(server: Running, case: Path) -> None:
    status = expected_status(case)
    data = case.read_bytes()
    with server.connect() as sock:
        sock.sendall(data)
        if status == 200:
            sock.shutdown(socket.SHUT_WR)  # one request, then the response and the close
        response = recv_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 %d " % status), response[:120]
    if status != 200:
        assert b"\r\nconnection: close\r\n" in response.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def is_bad_chunked_body(case: Path) -> bool:
    """A well-formed chunked head whose body is what the case is about."""
    return case.name.startswith(("400-chunk", "400-last-chunk"))


BODY_CASES = [c for c in CASES if is_bad_chunked_body(c)]


@pytest.mark.parametrize("case", BODY_CASES, ids=[c.stem for c in BODY_CASES])
def test_malformed_body_is_answered_400_while_the_app_waits_for_it(case: Path) -> None:
    """The head first; once the app waits in receive(), the bad body: the client gets a 400 and
    the app gets http.disconnect."""
    head, body = case.read_bytes().split(b"\r\n\r\n", 1)
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append("started")
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return

    with serve(app) as srv, srv.connect() as sock:
        sock.sendall(head + b"\r\n\r\n")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == ["started"]
        sock.sendall(body)
        response = recv_until_closed(sock)
        while seen[-1] != "http.disconnect" and time.monotonic() < deadline:
            time.sleep(0.01)
    assert response.startswith(b"HTTP/1.1 400 "), response[:120]
    assert b"\r\nconnection: close\r\n" in response
    assert seen[-1] == "http.disconnect"


def test_absolute_form_authority_is_the_host_the_app_sees(server: Running) -> None:
    data = (CORPUS / "200-absolute-form-authority-wins.http").read_bytes()
    with server.connect() as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        response = recv_until_closed(sock)
    assert response.endswith(b"\r\n\r\nb.example")


def test_corpus_heads_parse_into_request_heads() -> None:
    """The served cases are real requests, not just bytes the parser happens to pass."""
    for case in CASES:
        if expected_status(case) == 200:
            parser = RequestParser(http_limits())
            parser.feed(case.read_bytes())
            assert isinstance(parser.next_event(), RequestHead), case.name
