"""Helpers that read what the encoder wrote: a plain split of the head, and h11 as a real client."""

from __future__ import annotations

import h11

DATE = b"Sat, 21 Nov 2026 19:40:00 GMT"


def split_response(raw: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """(status line, header fields as written, everything after the blank line)."""
    head, blank, rest = raw.partition(b"\r\n\r\n")
    assert blank, f"no end of head in {raw!r}"
    status_line, *lines = head.split(b"\r\n")
    fields = []
    for line in lines:
        name, sep, value = line.partition(b": ")
        assert sep, f"malformed field line {line!r}"
        fields.append((name, value))
    return status_line, fields, rest


def field_values(fields: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of ``name`` (case-insensitive), in order."""
    return [value for field, value in fields if field.lower() == name]


class H11Reading:
    """What an h11 client made of a response: the Response event, the body, the final state."""

    def __init__(self, response: h11.Response, body: bytes, their_state: type) -> None:
        self.response = response
        self.body = body
        self.their_state = their_state


def read_with_h11(raw: bytes, *, method: bytes = b"GET", keep_alive: bool = True) -> H11Reading:
    """Parse ``raw`` as the answer to a request an h11 client sent; EOF ends close-delimited bodies."""
    client = h11.Connection(our_role=h11.CLIENT)
    headers = [(b"host", b"example.com")]
    if not keep_alive:
        headers.append((b"connection", b"close"))
    client.send(h11.Request(method=method, target=b"/", headers=headers))
    client.send(h11.EndOfMessage())
    client.receive_data(raw)
    response = None
    body = bytearray()
    eof_sent = False
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            assert not eof_sent, "h11 wants more data after EOF"
            client.receive_data(b"")
            eof_sent = True
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
        else:
            assert isinstance(event, h11.EndOfMessage), f"unexpected h11 event {event!r}"
            break
    assert response is not None
    return H11Reading(response, bytes(body), client.their_state)
