"""Bounds and liveness: reading pauses at --ws-max-queue, send() waits for a client that does not
read, keep-alive pings and their timeout, and the tick that drops a client reading nothing."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Any

from tests.support.server import serve
from tests.support.websocket import (
    RawClient,
    Recorder,
    echo,
    on_loop,
    wait_for,
    websocket_connection,
)
from tests.support.websocket_frames import BINARY, PING, PONG, TEXT, client_frame

KIB = 1024


def test_reading_pauses_when_max_queue_messages_wait_and_resumes_as_the_app_reads() -> None:
    release = threading.Event()
    count = 4096  # 4 MiB in 1 KiB messages: far more than one read or the queue holds

    async def slow_reader(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while not release.is_set():
            await asyncio.sleep(0.01)
        for i in range(count):
            message = await receive()
            assert message["bytes"] == i.to_bytes(4, "big") * (KIB // 4), i
        await send({"type": "websocket.send", "text": "all read"})
        await receive()

    app = Recorder(slow_reader)
    with serve(app, ws_max_queue=8) as running:
        client = RawClient.open(running.port)
        client.sock.settimeout(30)
        frames = b"".join(client_frame(BINARY, i.to_bytes(4, "big") * (KIB // 4))
                          for i in range(count))
        sender = threading.Thread(target=client.send, args=(frames,), daemon=True)
        sender.start()
        connection = websocket_connection(running)
        wait_for(running, lambda: connection.reading_paused)
        held = on_loop(running, lambda: (len(connection.inbox), connection.transport.is_reading(),
                                         connection.codec.buffered))
        queued, reading, buffered = held
        assert queued == 8
        assert not reading
        # What the server holds is the queue plus at most one read's worth of bytes; the rest
        # waits in the kernel and in the client, whose sendall() cannot finish yet.
        assert queued * KIB + buffered < 1024 * KIB
        assert sender.is_alive()
        release.set()
        sender.join(20)
        assert not sender.is_alive()
        assert client.recv_frame().payload == b"all read"
        client.send_close()
        assert client.recv_close()[0] == 1000
        assert client.at_eof()
        app.wait_finished()
    assert app.error is None


def test_send_waits_while_the_client_reads_nothing() -> None:
    sent = 0
    total = 64
    message = b"m" * (1024 * KIB)

    async def fast_writer(scope: Any, receive: Any, send: Any) -> None:
        nonlocal sent
        await receive()
        await send({"type": "websocket.accept"})
        for _ in range(total):
            await send({"type": "websocket.send", "bytes": message})
            sent += 1
        await receive()

    app = Recorder(fast_writer)
    with serve(app) as running:
        client = RawClient.open(running.port)
        connection = websocket_connection(running)
        wait_for(running, lambda: connection.writing_paused)
        in_flight = on_loop(running, lambda: (sent, connection.transport.get_write_buffer_size()))
        done, buffered = in_flight
        assert done < total
        # Nothing piles up beyond the transport's high-water mark and one message.
        assert buffered < 2 * len(message)
        for _ in range(total):
            frame = client.recv_frame()
            assert (frame.opcode, len(frame.payload)) == (BINARY, len(message))
        client.send_close()
        assert client.recv_close()[0] == 1000
        assert client.at_eof()
        app.wait_finished()
    assert sent == total
    assert app.error is None


def test_a_client_that_reads_nothing_for_a_minute_of_ticks_is_dropped() -> None:
    async def writer(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            await send({"type": "websocket.send", "bytes": b"w" * (256 * KIB)})

    app = Recorder(writer)
    with serve(app) as running:
        client = RawClient.open(running.port)
        connection = websocket_connection(running)
        wait_for(running, lambda: connection.writing_paused)
        from fastasgi.protocols.connection import WRITE_STALL_TICKS

        # The server's tick would get there after a minute; call it as if it had. The tick of
        # the pause may come just after the pause itself, so the bound is passed only after
        # more than WRITE_STALL_TICKS ticks (as for HTTP: late by up to a tick, never early).
        on_loop(running, lambda: connection.on_tick(connection.write_paused_at
                                                    + WRITE_STALL_TICKS))
        assert not on_loop(running, lambda: connection.closed)
        on_loop(running, lambda: connection.on_tick(connection.write_paused_at
                                                    + WRITE_STALL_TICKS + 1))
        app.wait_finished()
        client.close()
    assert isinstance(app.error, OSError)


def test_a_client_that_never_closes_after_our_fin_is_cut_after_the_linger_ticks() -> None:
    async def closer(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})

    app = Recorder(closer)
    with serve(app) as running:
        client = RawClient.open(running.port)
        connection = websocket_connection(running)
        assert client.recv_close()[0] == 1000
        client.send_close(1000)
        # The close handshake is over: the server half-closes and drops what still comes, and
        # this client keeps its side open.
        wait_for(running, lambda: connection.lingering_since >= 0)
        from fastasgi.protocols.connection import LINGER_TICKS

        state = running.server.state
        on_loop(running, lambda: connection.on_tick(connection.lingering_since + LINGER_TICKS))
        assert on_loop(running, lambda: connection in state.connections)
        on_loop(running, lambda: connection.on_tick(connection.lingering_since + LINGER_TICKS
                                                    + 1))
        wait_for(running, lambda: connection not in state.connections)
        assert client.at_eof()
        app.wait_finished()
    assert app.error is None


def test_ping_timeout_closes_a_client_that_never_answers() -> None:
    async def behaviour(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    app = Recorder(behaviour)
    with serve(app, ws_ping_interval=0.2, ws_ping_timeout=0.2) as running:
        client = RawClient.open(running.port)
        frame = client.recv_frame()
        assert (frame.opcode, frame.payload) == (PING, b"")
        # No pong: the server ends the connection (a reset: the peer is presumed dead).
        assert client.at_eof()
        app.wait_finished()
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 1011,
                                "reason": "keepalive ping timeout"}


def test_answered_pings_keep_the_connection_open() -> None:
    with serve(echo, ws_ping_interval=0.1, ws_ping_timeout=0.5) as running:
        client = RawClient.open(running.port)
        for _ in range(3):
            frame = client.recv_frame()
            assert frame.opcode == PING
            client.send_frame(PONG, frame.payload)
        client.send_frame(TEXT, b"still here")
        while (frame := client.recv_frame()).opcode == PING:
            client.send_frame(PONG, frame.payload)
        assert frame.payload == b"still here"
        client.send_close()
        assert client.recv_close()[0] == 1000
        assert client.at_eof()


def test_ping_interval_zero_sends_no_pings() -> None:
    with serve(echo, ws_ping_interval=0) as running:
        client = RawClient.open(running.port)
        client.send_frame(TEXT, b"hello")
        assert client.recv_frame().payload == b"hello"
        connection = websocket_connection(running)
        assert on_loop(running, lambda: connection.ping_handle) is None
        client.send_close()
        assert client.recv_close()[0] == 1000
        assert client.at_eof()


def test_messages_after_the_apps_close_do_not_stop_the_close_handshake() -> None:
    # The app closes without reading while the client's messages fill the queue: the server
    # keeps reading for the client's close frame instead of waiting out the close timeout.
    async def closes_without_reading(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "go"})
        while not release.is_set():
            await asyncio.sleep(0.01)
        await send({"type": "websocket.close", "code": 1000})

    release = threading.Event()
    app = Recorder(closes_without_reading)
    with serve(app, ws_max_queue=2) as running:
        client = RawClient.open(running.port)
        assert client.recv_frame().payload == b"go"
        for i in range(20):
            client.send_frame(TEXT, b"%d" % i)
        connection = websocket_connection(running)
        wait_for(running, lambda: connection.reading_paused)
        release.set()
        assert client.recv_close()[0] == 1000
        client.send_close()
        assert client.at_eof()
        app.wait_finished()


def test_a_client_flooding_pings_without_reading_pongs_is_no_longer_read() -> None:
    async def behaviour(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    app = Recorder(behaviour)
    with serve(app) as running:
        client = RawClient.open(running.port)
        client.sock.settimeout(30)
        pings = client_frame(PING, b"p" * 125) * 200_000  # 26 MB of pings, 25 MB of pongs

        def flood() -> None:
            with contextlib.suppress(OSError):  # ends when the test shuts the socket
                client.send(pings)

        sender = threading.Thread(target=flood, daemon=True)
        sender.start()
        connection = websocket_connection(running)
        wait_for(running, lambda: connection.writing_paused and connection.reading_paused)
        buffered = on_loop(running, lambda: connection.transport.get_write_buffer_size())
        # The pongs owed wait in the kernel and the client, not in the server's memory.
        assert buffered < 1024 * KIB
        assert sender.is_alive()
        # A reset (linger 0): the server learns of it at once although it no longer reads.
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sock.shutdown(socket.SHUT_RDWR)
        sender.join(10)
        client.close()
        app.wait_finished()
    assert app.received[-1]["type"] == "websocket.disconnect"
