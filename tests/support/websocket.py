"""What the WebSocket connection tests share: small ASGI apps, and a raw-socket client that
speaks the handshake and frames byte by byte (tests/support/websocket_frames.py builds the frames)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import threading
from typing import Any

from tests.support.websocket_frames import CLOSE, ServerFrame, client_frame, close_payload

Scope = dict[str, Any]
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
# RFC 6455 §1.3's example: the Sec-WebSocket-Accept for KEY.
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# -- apps ----------------------------------------------------------------------------------


async def echo(scope: Scope, receive: Any, send: Any) -> None:
    """Accepts, then sends every message back as it came, until the client leaves."""
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def echo_or_hello(scope: Scope, receive: Any, send: Any) -> None:
    """``echo`` for a WebSocket, ``hello`` for an HTTP request: one server for both kinds of
    client."""
    from tests.support.apps import hello

    if scope["type"] == "websocket":
        await echo(scope, receive, send)
    else:
        await hello(scope, receive, send)


class Recorder:
    """An app whose behaviour a test sets, recording what it saw; ``done`` is set when it ends."""

    def __init__(self, behaviour: Any) -> None:
        self.behaviour = behaviour
        self.scope: Scope | None = None
        self.received: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.scope = scope
        self.loop = asyncio.get_running_loop()

        async def recording_receive() -> dict[str, Any]:
            message = await receive()
            self.received.append(message)
            return message

        try:
            await self.behaviour(scope, recording_receive, send)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.finished.set()

    def wait_finished(self, timeout: float = 5.0) -> None:
        """Block the test (another thread than the server's) until the app returned or raised."""
        if not self.finished.wait(timeout):
            raise TimeoutError("the app did not finish")


# -- a raw client --------------------------------------------------------------------------


def upgrade_request(path: str = "/", *, method: str = "GET", version: str = "1.1",
                    headers: list[tuple[str, str]] | None = None, key: bytes = KEY,
                    omit: tuple[str, ...] = ()) -> bytes:
    """An upgrade request; ``headers`` are added, ``omit`` names standard ones to leave out."""
    fields = [
        ("Host", "127.0.0.1"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key.decode()),
        ("Sec-WebSocket-Version", "13"),
    ]
    fields = [(n, v) for n, v in fields if n.lower() not in {o.lower() for o in omit}]
    fields += headers or []
    lines = [f"{method} {path} HTTP/{version}"] + [f"{n}: {v}" for n, v in fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RawClient:
    """A WebSocket client over a plain socket, for what no well-behaved library would send."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    @classmethod
    def connect_raw(cls, port: int, timeout: float = 5.0) -> RawClient:
        """A connection on which nothing was sent yet."""
        return cls(socket.create_connection(("127.0.0.1", port), timeout=timeout))

    def __enter__(self) -> RawClient:  # noqa: PYI034 -- nothing subclasses it
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    @classmethod
    def connect(cls, port: int, path: str = "/", headers: list[tuple[str, str]] | None = None,
                timeout: float = 5.0) -> tuple[RawClient, int, dict[bytes, bytes]]:
        """Open a connection and send an upgrade request: (client, status, response headers).
        With a 101 the client is ready for frames; otherwise the response body is in .buffer."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        client = cls(sock)
        sock.sendall(upgrade_request(path, headers=headers))
        status, response_headers = client.read_head()
        return client, status, response_headers

    @classmethod
    def open(cls, port: int, path: str = "/", **kwargs: Any) -> RawClient:
        client, status, _ = cls.connect(port, path, **kwargs)
        assert status == 101, client.buffer
        return client

    def read_head(self) -> tuple[int, dict[bytes, bytes]]:
        while b"\r\n\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed before a full head: {bytes(self.buffer)!r}")
            self.buffer += data
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer = bytearray(rest)
        lines = head.split(b"\r\n")
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split()[1]), headers

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kwargs: Any) -> None:
        self.sock.sendall(client_frame(opcode, payload, **kwargs))

    def send_close(self, code: int = 1000, reason: bytes = b"") -> None:
        self.send_frame(CLOSE, close_payload(code, reason))

    def recv_frame(self) -> ServerFrame:
        """The next server frame; ConnectionError if the connection ends first."""
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed inside a frame: {bytes(self.buffer[:50])!r}")
            self.buffer += data

    def _parse(self) -> ServerFrame | None:
        buf = self.buffer
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        assert not b1 & 0x80, "a server frame must not be masked"
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            if len(buf) < 4:
                return None
            (n,) = struct.unpack_from("!H", buf, 2)
            pos = 4
        elif n == 127:
            if len(buf) < 10:
                return None
            (n,) = struct.unpack_from("!Q", buf, 2)
            pos = 10
        if len(buf) < pos + n:
            return None
        payload = bytes(buf[pos:pos + n])
        del buf[:pos + n]
        return ServerFrame(bool(b0 & 0x80), bool(b0 & 0x40), b0 & 0x0F, payload)

    def recv_close(self) -> tuple[int, bytes]:
        """Skip data and ping frames up to the server's close frame: (code, reason)."""
        while True:
            frame = self.recv_frame()
            if frame.opcode == CLOSE:
                if not frame.payload:
                    return 1005, b""
                return struct.unpack("!H", frame.payload[:2])[0], frame.payload[2:]

    def at_eof(self) -> bool:
        """True once the server ended the TCP connection (FIN or reset); the socket is then
        closed, as a client does once the server is gone."""
        if self.buffer:
            return False
        try:
            ended = self.sock.recv(1) == b""
        except ConnectionResetError:
            ended = True
        if ended:
            self.sock.close()
        return ended

    def read_to_eof(self) -> bytes:
        """Everything the server sends until it ends the connection (after what is buffered)."""
        data = bytes(self.buffer)
        self.buffer.clear()
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.sock.close()
                return data
            data += chunk

    def close(self) -> None:
        self.sock.close()


def random_key() -> bytes:
    return base64.b64encode(os.urandom(16))


# -- looking inside the running server -----------------------------------------------------


def on_loop(running: Any, function: Any, timeout: float = 5.0) -> Any:
    """Call ``function()`` on the server's event loop thread and return its result."""
    import concurrent.futures

    result: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def call() -> None:
        try:
            result.set_result(function())
        except BaseException as exc:  # noqa: BLE001 -- handed to the test thread
            result.set_exception(exc)

    running.server.state.loop.call_soon_threadsafe(call)
    return result.result(timeout)


def wait_for(running: Any, condition: Any, timeout: float = 5.0) -> None:
    """Wait until ``condition()``, evaluated on the server's loop, is true."""
    import time

    deadline = time.monotonic() + timeout
    while not on_loop(running, condition):
        if time.monotonic() > deadline:
            raise TimeoutError("the server never reached the expected state")
        time.sleep(0.01)


def websocket_connection(running: Any, timeout: float = 5.0) -> Any:
    """The server's only WebSocket connection (its WebSocketProtocol), once it has one."""
    from fastasgi.protocols.websocket import WebSocketProtocol

    def find() -> list[Any]:
        return [c for c in running.server.state.connections if isinstance(c, WebSocketProtocol)]

    wait_for(running, find, timeout)
    found = on_loop(running, find)
    assert len(found) == 1, found
    return found[0]
