"""Clients that break RFC 6455 or a limit, over a raw socket: the right close code reaches the
client, the server then ends the TCP connection, and the app sees the same code."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from tests.support.server import serve
from tests.support.websocket import RawClient, Recorder
from tests.support.websocket_frames import BINARY, CLOSE, CONTINUATION, PING, TEXT, client_frame


async def accept_then_read_until_disconnect(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


MALFORMED = {
    "unmasked": (client_frame(TEXT, b"hi", mask=None), 1002),
    "rsv1-without-deflate": (client_frame(TEXT, b"hi", rsv=0x40), 1002),
    "rsv2": (client_frame(BINARY, b"hi", rsv=0x20), 1002),
    "rsv3": (client_frame(BINARY, b"hi", rsv=0x10), 1002),
    "opcode-3": (client_frame(0x3, b""), 1002),
    "opcode-11": (client_frame(0xB, b""), 1002),
    "control-over-125-bytes": (client_frame(PING, b"x" * 126), 1002),
    "fragmented-control": (client_frame(PING, b"", fin=False), 1002),
    "continuation-without-start": (client_frame(CONTINUATION, b"x"), 1002),
    "new-message-inside-fragments": (
        client_frame(TEXT, b"a", fin=False) + client_frame(TEXT, b"b"), 1002),
    "invalid-utf8": (client_frame(TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80"), 1007),
    "utf8-cut-at-message-end": (client_frame(TEXT, b"ok \xe2\x82"), 1007),
    "close-code-1005": (client_frame(CLOSE, struct.pack("!H", 1005)), 1002),
    "close-code-999": (client_frame(CLOSE, struct.pack("!H", 999)), 1002),
    "close-code-2000": (client_frame(CLOSE, struct.pack("!H", 2000)), 1002),
    "close-one-byte": (client_frame(CLOSE, b"\x03"), 1002),
    "close-reason-invalid-utf8": (client_frame(CLOSE, struct.pack("!H", 1000) + b"\xff"), 1007),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_protocol_violation_gets_its_close_code(name: str) -> None:
    data, code = MALFORMED[name]
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app) as running:
        client = RawClient.open(running.port)
        client.send(data)
        got, _ = client.recv_close()
        assert got == code
        assert client.at_eof()
        app.wait_finished()
    assert app.received[-1]["type"] == "websocket.disconnect"
    assert app.received[-1]["code"] == code


def test_valid_messages_before_a_violation_reach_the_app() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app) as running:
        client = RawClient.open(running.port)
        client.send(client_frame(TEXT, b"fine") + client_frame(TEXT, b"\xff"))
        assert client.recv_close()[0] == 1007
        assert client.at_eof()
        app.wait_finished()
    assert [m["type"] for m in app.received] == [
        "websocket.connect", "websocket.receive", "websocket.disconnect"]
    assert app.received[1]["text"] == "fine"


def test_message_over_max_size_is_closed_with_1009_at_its_header() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app, ws_max_size=1000) as running:
        client = RawClient.open(running.port)
        client.send(client_frame(BINARY, b"x" * 1000))  # exactly the limit: fine
        # Announce 10 MB and send only the start: the header alone decides.
        client.send(client_frame(BINARY, b"y" * 10, length=10_000_000)[:2 + 8 + 4 + 10])
        assert client.recv_close() == (1009, b"message too big")
        assert client.at_eof()
        app.wait_finished()
    assert app.received[1] == {"type": "websocket.receive", "bytes": b"x" * 1000}
    assert app.received[2]["code"] == 1009


def test_fragments_adding_up_over_max_size_are_closed_with_1009() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app, ws_max_size=1000) as running:
        client = RawClient.open(running.port)
        client.send(client_frame(TEXT, b"a" * 400, fin=False))
        client.send(client_frame(CONTINUATION, b"b" * 400, fin=False))
        client.send(client_frame(CONTINUATION, b"c" * 400, fin=False))
        assert client.recv_close()[0] == 1009
        assert client.at_eof()
        app.wait_finished()
    assert app.received[-1]["code"] == 1009


def test_a_big_frame_still_arriving_does_not_reset_the_close_frame_away() -> None:
    # The client is still writing a large frame when the server fails the connection; the
    # server half-closes instead of resetting, so the close frame survives.
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app, ws_max_size=1 << 16) as running:
        client = RawClient.open(running.port)
        client.send(client_frame(BINARY, b"z" * 200_000))
        assert client.recv_close()[0] == 1009
        assert client.at_eof()


def test_compressed_message_expanding_over_max_size_is_closed_with_1009() -> None:
    import zlib

    compressor = zlib.compressobj(wbits=-15)
    body = compressor.compress(b"\x00" * 100_000) + compressor.flush(zlib.Z_SYNC_FLUSH)
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app, ws_max_size=50_000) as running:
        client, status, headers = RawClient.connect(
            running.port, headers=[("Sec-WebSocket-Extensions", "permessage-deflate")])
        assert status == 101
        assert headers[b"sec-websocket-extensions"].startswith(b"permessage-deflate")
        client.send(client_frame(BINARY, body[:-4], rsv=0x40))
        assert client.recv_close()[0] == 1009
        assert client.at_eof()
        app.wait_finished()
    assert app.received[-1]["code"] == 1009


def test_ping_is_answered_with_its_payload() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app) as running:
        client = RawClient.open(running.port)
        client.send_frame(PING, b"are you there")
        frame = client.recv_frame()
        assert (frame.opcode, frame.payload) == (0xA, b"are you there")
        client.send_close(1000)
        assert client.recv_close()[0] == 1000
        assert client.at_eof()


def test_bytes_before_accept_over_the_limit_drop_the_connection() -> None:
    import threading

    release = threading.Event()

    async def slow_to_accept(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        while not release.is_set():
            import asyncio

            await asyncio.sleep(0.01)
        assert (await receive())["type"] == "websocket.disconnect"

    app = Recorder(slow_to_accept)
    with serve(app) as running, RawClient.connect_raw(running.port) as client:
        from tests.support.websocket import upgrade_request

        client.send(upgrade_request())
        frame = client_frame(BINARY, b"p" * 65536)
        try:
            for _ in range(40):  # 2.6 MB, over the 1 MiB allowed before accept
                client.send(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert client.read_to_eof() == b""
        release.set()
        app.wait_finished()
    assert app.error is None


def test_answer_to_a_message_goes_out_before_the_close_a_later_frame_causes() -> None:
    from tests.support.websocket import echo

    with serve(echo) as running:
        client = RawClient.open(running.port)
        client.send(client_frame(TEXT, b"first") + client_frame(BINARY, b"second")
                    + client_frame(0x5, b"reserved opcode"))
        assert client.recv_frame().payload == b"first"
        assert client.recv_frame().payload == b"second"
        assert client.recv_close()[0] == 1002
        assert client.at_eof()


def test_answer_to_a_message_goes_out_before_the_reply_to_a_close_right_behind_it() -> None:
    from tests.support.websocket import echo
    from tests.support.websocket_frames import close_payload

    with serve(echo) as running:
        client = RawClient.open(running.port)
        client.send(client_frame(TEXT, b"x" * 100_000) + client_frame(CLOSE, close_payload(1000)))
        assert client.recv_frame().payload == b"x" * 100_000
        assert client.recv_close() == (1000, b"")
        assert client.at_eof()
