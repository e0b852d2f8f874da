"""Interoperability with the `websockets` library's sans-I/O client: its handshake request goes
through our handshake, its frames through our codec, and our frames through its parser."""

from __future__ import annotations

import pytest
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import CLOSED, OPEN
from websockets.uri import parse_uri

from fastasgi._websocket import (
    NEED_DATA,
    Close,
    DeflateParams,
    Ping,
    Pong,
    ProtocolError,
    WebSocketCodec,
)
from fastasgi.websocket_handshake import accept_headers, encode_switching_protocols, parse_upgrade

SERVER_DEFLATE = DeflateParams()
JSON = '{"event": "tick", "seq": 1, "payload": "' + "abcdefgh" * 40 + '"}'


class Connection:
    """A websockets client and our codec, wired back to back in memory."""

    def __init__(
        self,
        deflate_factory: ClientPerMessageDeflateFactory | None = None,
        server_deflate: DeflateParams | None = SERVER_DEFLATE,
        subprotocols: list[str] | None = None,
        choose: str | None = None,
    ) -> None:
        self.client = ClientProtocol(
            parse_uri("ws://example.com/chat"),
            extensions=[deflate_factory] if deflate_factory else None,
            subprotocols=subprotocols,
            max_size=None,
        )
        request = self.client.connect()
        self.client.send_request(request)
        self.client.data_to_send()
        headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.raw_items()]
        upgrade = parse_upgrade("GET", "1.1", headers)
        response_headers, self.params = accept_headers(
            upgrade, subprotocol=choose, deflate=server_deflate
        )
        self.client.receive_data(encode_switching_protocols(response_headers))
        [response] = self.client.events_received()
        assert isinstance(response, Response)
        assert self.client.handshake_exc is None
        assert self.client.state is OPEN
        self.codec = WebSocketCodec(deflate=self.params)

    def to_server(self) -> list[object]:
        """Deliver what the client wrote to our codec; return our events."""
        for data in self.client.data_to_send():
            self.codec.feed(data)
        out = []
        while (event := self.codec.next_event()) is not NEED_DATA:
            out.append(event)
        return out

    def to_client(self, data: bytes) -> list[object]:
        """Deliver our bytes to the client; return its events (frames)."""
        self.client.receive_data(data)
        return self.client.events_received()


DEFLATE_CONFIGS = [
    ClientPerMessageDeflateFactory(),
    ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=11),
    ClientPerMessageDeflateFactory(server_no_context_takeover=True),
    ClientPerMessageDeflateFactory(client_no_context_takeover=True),
    ClientPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True, client_max_window_bits=9
    ),
]


@pytest.mark.parametrize("factory", [None, *DEFLATE_CONFIGS])
def test_messages_both_ways(factory):
    conn = Connection(factory)
    assert (conn.params is not None) == (factory is not None)
    for i in range(3):
        conn.client.send_text(JSON.encode())
        conn.client.send_binary(JSON.encode() * i)
        assert conn.to_server() == [JSON, JSON.encode() * i]
        frames = conn.to_client(
            conn.codec.encode_text(JSON) + conn.codec.encode_binary(b"\x00" * i)
        )
        assert [(f.opcode, bytes(f.data)) for f in frames] == [
            (Opcode.TEXT, JSON.encode()),
            (Opcode.BINARY, b"\x00" * i),
        ]


@pytest.mark.parametrize("factory", [None, DEFLATE_CONFIGS[0]])
def test_fragmented_message_from_the_client(factory):
    conn = Connection(factory)
    conn.client.send_text(b"frag", fin=False)
    conn.client.send_ping(b"between")
    conn.client.send_continuation("mented ✓".encode(), fin=True)
    assert conn.to_server() == [Ping(b"between"), "fragmented ✓"]
    [pong] = conn.to_client(conn.codec.data_to_send())
    assert (pong.opcode, bytes(pong.data)) == (Opcode.PONG, b"between")


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 1_000_000])
def test_large_messages_both_ways(size):
    conn = Connection(DEFLATE_CONFIGS[1])
    payload = bytes(i * 13 % 256 for i in range(size))
    conn.client.send_binary(payload)
    assert conn.to_server() == [payload]
    [frame] = conn.to_client(conn.codec.encode_binary(payload))
    assert bytes(frame.data) == payload


def test_ping_from_the_server_is_answered_by_the_client():
    conn = Connection()
    [ping] = conn.to_client(conn.codec.encode_ping(b"keepalive"))
    assert ping.opcode == Opcode.PING
    assert conn.to_server() == [Pong(b"keepalive")]


def test_close_started_by_the_client():
    conn = Connection()
    conn.client.send_close(1001, "going away")
    assert conn.to_server() == [Close(1001, "going away")]
    conn.to_client(conn.codec.data_to_send())
    assert conn.client.close_rcvd.code == 1001
    conn.client.receive_eof()  # the server closes TCP first (RFC 6455 §7.1.1)
    assert conn.client.state is CLOSED


def test_close_started_by_the_server():
    conn = Connection()
    conn.to_client(conn.codec.encode_close(4000, "done"))
    assert conn.to_server() == [Close(4000, "done")]  # websockets echoes code and reason
    assert conn.client.close_rcvd.code == 4000
    assert conn.codec.data_to_send() == b""


def test_protocol_error_close_frame_is_understood_by_the_client():
    conn = Connection()
    conn.codec.feed(b"\x81\x02hi")  # unmasked
    with pytest.raises(ProtocolError) as info:
        conn.codec.next_event()
    assert info.value.code == 1002
    conn.to_client(conn.codec.data_to_send())
    assert conn.client.close_rcvd.code == 1002


def test_subprotocol_is_negotiated():
    conn = Connection(subprotocols=["chat", "superchat"], choose="superchat")
    assert conn.client.subprotocol == "superchat"


def test_deflate_declined_when_the_server_disables_it():
    conn = Connection(DEFLATE_CONFIGS[0], server_deflate=None)
    assert conn.params is None and conn.client.extensions == []
    conn.client.send_text(JSON.encode())
    assert conn.to_server() == [JSON]


def test_client_parses_frames_made_one_by_one_by_its_own_frame_class():
    # Our header layout matches websockets' serializer for the same unmasked frame.
    codec = WebSocketCodec()
    for size in (0, 125, 126, 65536):
        data = b"y" * size
        ours = codec.encode_binary(data)
        theirs = Frame(Opcode.BINARY, data).serialize(mask=False)
        assert ours == theirs
