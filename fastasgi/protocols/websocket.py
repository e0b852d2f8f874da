"""The WebSocket connection: the ASGI websocket protocol over the Cython frame codec.

The HTTP protocol hands over the transport once a request asks to upgrade to websocket. From then
on data flows: transport -> data_received -> WebSocketCodec -> bounded queue -> app's receive();
app's send() -> codec.encode_* -> transport.write.

Back-pressure both ways: once ``ws_max_queue`` messages wait for the app, reading pauses until
receive() takes one; send() waits while the transport is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from fastasgi._serializer import ResponseEncoder, ResponseError
from fastasgi._websocket import (
    NEED_DATA,
    Close,
    DeflateParams,
    Ping,
    Pong,
    ProtocolError,
    WebSocketClosed,
    WebSocketCodec,
)
from fastasgi.protocols.http import error_response
from fastasgi.websocket_handshake import (
    HandshakeError,
    UpgradeRequest,
    accept_headers,
    encode_switching_protocols,
    parse_upgrade,
)

logger = logging.getLogger("fastasgi.error")

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
PENDING_LIMIT = 1 << 20  # bytes a client may send before the app accepts
CLOSE_TIMEOUT = 5.0  # seconds to wait for the peer's close frame after ours


class ClientDisconnected(OSError):
    """send() on a WebSocket whose connection is gone (what the ASGI spec asks servers to raise)."""


class WebSocketSettings:
    """The --ws-* settings one server's connections share."""

    def __init__(self, config: Any) -> None:
        self.max_size: int = config.ws_max_size
        self.max_queue: int = config.ws_max_queue
        self.ping_interval: float = config.ws_ping_interval
        self.ping_timeout: float = config.ws_ping_timeout
        self.deflate = DeflateParams() if config.ws_per_message_deflate else None
        self.server_header = b"fastasgi" if config.server_header else None

    def factory(self, state: Any, transport: Any, head: Any, client: Any, server: Any,
                scheme: str, buffered: bytes) -> WebSocketProtocol:
        return WebSocketProtocol(self, state, transport, head, client, server, scheme, buffered)


class WebSocketProtocol(asyncio.Protocol):
    def __init__(self, settings: WebSocketSettings, state: Any, transport: Any, head: Any,
                 client: Any, server: Any, scheme: str, buffered: bytes) -> None:
        self.settings = settings
        self.state = state
        self.loop = state.loop
        self.transport = transport
        self.head = head
        self.client = client
        self.server = server
        self.scheme = "wss" if scheme == "https" else "ws"
        self.pending = bytearray(buffered)  # frames that came before accept
        self.codec: WebSocketCodec | None = None
        self.request: UpgradeRequest | None = None
        self.inbox: deque[dict[str, Any]] = deque()
        self.inbox_waiter: asyncio.Future[None] | None = None
        self.drain_waiters: list[asyncio.Future[None]] = []
        self.accepted = False
        self.handshake_done = False  # 101, 403 or a denial response went out
        self.denial: ResponseEncoder | None = None
        self.closed = False  # the transport is gone or going
        self.close_sent = False
        self.disconnect_code: int | None = None
        self.reading_paused = False
        self.writing_paused = False
        self.connect_delivered = False
        self.task: asyncio.Task[None] | None = None
        self.ping_handle: asyncio.TimerHandle | None = None
        self.pong_deadline: asyncio.TimerHandle | None = None
        self.close_handle: asyncio.TimerHandle | None = None

    # -- hand-over from HTTP ---------------------------------------------------------------

    def start(self) -> None:
        head = self.head
        try:
            self.request = parse_upgrade(head.method, head.http_version, head.headers)
        except HandshakeError as exc:
            self.refuse(exc.status, str(exc), exc.headers)
            return
        state = self.state
        path, raw_path = head.path, head.raw_path
        if state.root_path:
            path = state.root_path + path
            raw_path = state.root_path_bytes + raw_path
        client, scheme = self.client, self.scheme
        if state.proxy_headers and client is not None:
            client, http_scheme = state.forwarded(head.headers, client, "https" if scheme == "wss" else "http")
            scheme = "wss" if http_scheme == "https" else "ws"
        scope = {
            "type": "websocket",
            "asgi": ASGI_VERSION,
            "http_version": head.http_version,
            "scheme": scheme,
            "server": self.server,
            "client": client,
            "root_path": state.root_path,
            "path": path,
            "raw_path": raw_path,
            "query_string": head.query_string,
            "headers": head.headers,
            "subprotocols": list(self.request.subprotocols),
            "state": state.lifespan_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        state.connections.add(self)
        self.task = self.loop.create_task(self.run_app(scope))
        state.tasks.add(self.task)

    def refuse(self, status: int, message: str, headers: Any = ()) -> None:
        response = error_response(status, message)
        if headers:
            head, sep, body = response.partition(b"\r\n\r\n")
            extra = b"".join(b"\r\n%s: %s" % (name, value) for name, value in headers)
            response = head + extra + sep + body
        self.transport.write(response)
        self.transport.close()
        self.closed = True

    # -- asyncio.Protocol ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.closed and self.codec is None:
            return
        if self.codec is None:
            self.pending += data
            if len(self.pending) > PENDING_LIMIT:
                self.abort()
            return
        self.codec.feed(data)
        self.pump()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        self.cancel_timers()
        if self.disconnect_code is None:
            self.disconnect(1006, "")
        self.wake_writers()

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self.wake_writers()

    # -- incoming frames -------------------------------------------------------------------

    def pump(self) -> None:
        codec = self.codec
        assert codec is not None
        while len(self.inbox) < self.settings.max_queue:
            try:
                event = codec.next_event()
            except ProtocolError as exc:
                self.write(codec.data_to_send())
                self.disconnect(exc.code, exc.reason)
                self.shutdown_transport()
                return
            if event is NEED_DATA:
                break
            kind = type(event)
            if kind is str:
                self.deliver({"type": "websocket.receive", "text": event})
            elif kind is bytes:
                self.deliver({"type": "websocket.receive", "bytes": event})
            elif kind is Ping:
                self.write(codec.data_to_send())
            elif kind is Pong:
                if self.pong_deadline is not None:
                    self.pong_deadline.cancel()
                    self.pong_deadline = None
            elif kind is Close:
                self.write(codec.data_to_send())
                self.disconnect(event.code, event.reason)
                self.shutdown_transport()
                return
        # Too many messages waiting for the app: stop reading until it catches up.
        full = len(self.inbox) >= self.settings.max_queue
        if full and not self.reading_paused and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()
        elif not full and self.reading_paused and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

    def deliver(self, message: dict[str, Any]) -> None:
        self.inbox.append(message)
        waiter = self.inbox_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def disconnect(self, code: int, reason: str) -> None:
        if self.disconnect_code is None:
            self.disconnect_code = code
            self.deliver({"type": "websocket.disconnect", "code": code, "reason": reason})

    # -- the app's side --------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        if not self.connect_delivered:
            self.connect_delivered = True
            return {"type": "websocket.connect"}
        while not self.inbox:
            if self.disconnect_code is not None:
                return {"type": "websocket.disconnect", "code": self.disconnect_code, "reason": ""}
            waiter = self.inbox_waiter
            if waiter is None or waiter.done():
                waiter = self.inbox_waiter = self.loop.create_future()
            await waiter
        message = self.inbox.popleft()
        if self.reading_paused and self.codec is not None:
            self.pump()
        return message

    async def send(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if not self.handshake_done:
            if kind == "websocket.accept":
                self.accept(message)
            elif kind == "websocket.close":
                self.handshake_done = True
                self.deny_forbidden()
            elif kind == "websocket.http.response.start":
                self.start_denial(message)
            else:
                raise RuntimeError(f"ASGI send: expected 'websocket.accept', 'websocket.close' or "
                                   f"'websocket.http.response.start', got {kind!r}")
            return
        if self.denial is not None:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"ASGI send: expected 'websocket.http.response.body', got {kind!r}")
            self.send_denial_body(message)
            return
        if self.closed or self.close_sent:
            raise ClientDisconnected("the WebSocket connection is closed")
        codec = self.codec
        assert codec is not None
        if kind == "websocket.send":
            text = message.get("text")
            if text is not None:
                if not isinstance(text, str):
                    raise TypeError("ASGI send: 'text' must be str")
                self.write(codec.encode_text(text))
            else:
                data = message.get("bytes")
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise TypeError("ASGI send: 'websocket.send' needs 'text' or 'bytes'")
                self.write(codec.encode_binary(data))
            if self.writing_paused:
                await self.drain()
        elif kind == "websocket.close":
            code = message.get("code", 1000) or 1000
            reason = message.get("reason") or ""
            try:
                frame = codec.encode_close(code, reason)
            except WebSocketClosed:
                return
            self.close_sent = True
            self.write(frame)
            # Wait for the client's close frame, but not forever (RFC 6455 §7.1.1).
            self.close_handle = self.loop.call_later(CLOSE_TIMEOUT, self.abort)
        else:
            raise RuntimeError(f"ASGI send: unexpected message type {kind!r}")

    def accept(self, message: dict[str, Any]) -> None:
        assert self.request is not None
        headers, agreed = accept_headers(
            self.request,
            subprotocol=message.get("subprotocol"),
            deflate=self.settings.deflate,
            extra_headers=message.get("headers") or (),
        )
        if self.settings.server_header:
            headers.append((b"server", self.settings.server_header))
        self.handshake_done = True
        self.accepted = True
        self.codec = WebSocketCodec(max_size=self.settings.max_size, deflate=agreed)
        self.write(encode_switching_protocols(headers))
        self.schedule_ping()
        if self.pending:
            data, self.pending = bytes(self.pending), bytearray()
            self.codec.feed(data)
            self.pump()

    def deny_forbidden(self) -> None:
        self.write(error_response(403, "Forbidden"))
        self.disconnect(1000, "")
        self.shutdown_transport()

    def start_denial(self, message: dict[str, Any]) -> None:
        encoder = ResponseEncoder(server=self.settings.server_header)
        status = message.get("status")
        if type(status) is not int:
            raise TypeError("ASGI send: 'status' must be an int")
        encoder.start(status, message.get("headers", ()), keep_alive=False)
        self.handshake_done = True
        self.denial = encoder

    def send_denial_body(self, message: dict[str, Any]) -> None:
        encoder = self.denial
        assert encoder is not None
        if encoder.complete:
            raise RuntimeError("ASGI send: the denial response is already complete")
        more = bool(message.get("more_body", False))
        self.write(encoder.body(bytes(message.get("body", b"")), more))
        if not more:
            self.disconnect(1000, "")
            self.shutdown_transport()

    async def run_app(self, scope: dict[str, Any]) -> None:
        try:
            await self.state.app(scope, self.receive, self.send)
        except asyncio.CancelledError:
            self.abort()
            raise
        except BaseException as exc:
            logger.error("Exception in ASGI application", exc_info=exc)
            if not self.handshake_done:
                self.handshake_done = True
                self.write(error_response(500, "Internal Server Error"))
                self.shutdown_transport()
            elif self.accepted and not self.close_sent and not self.closed:
                self.close_with(1011, "")
            else:
                self.shutdown_transport()
        else:
            if not self.handshake_done:
                # RFC 6455 has no place for "no answer": refuse as if the app closed.
                self.handshake_done = True
                self.deny_forbidden()
            elif self.denial is not None and not self.denial.complete:
                self.abort()
            elif self.accepted and not self.close_sent and not self.closed:
                self.close_with(1000, "")
        finally:
            if self.task is not None:
                self.state.tasks.discard(self.task)

    def close_with(self, code: int, reason: str) -> None:
        codec = self.codec
        assert codec is not None
        try:
            self.write(codec.encode_close(code, reason))
        except WebSocketClosed:
            pass
        self.close_sent = True
        self.close_handle = self.loop.call_later(CLOSE_TIMEOUT, self.abort)

    # -- keep-alive pings ------------------------------------------------------------------

    def schedule_ping(self) -> None:
        if self.settings.ping_interval and not self.closed:
            self.ping_handle = self.loop.call_later(self.settings.ping_interval, self.send_ping)

    def send_ping(self) -> None:
        codec = self.codec
        if self.closed or self.close_sent or codec is None:
            return
        self.write(codec.encode_ping(b""))
        if self.settings.ping_timeout and self.pong_deadline is None:
            self.pong_deadline = self.loop.call_later(self.settings.ping_timeout, self.ping_timed_out)
        self.schedule_ping()

    def ping_timed_out(self) -> None:
        logger.info("WebSocket peer did not answer a ping; closing")
        self.disconnect(1011, "keepalive ping timeout")
        self.abort()

    # -- transport -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if data and not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        waiter = self.loop.create_future()
        self.drain_waiters.append(waiter)
        await waiter

    def wake_writers(self) -> None:
        waiters, self.drain_waiters = self.drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def shutdown_transport(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()
        self.cancel_timers()

    def abort(self) -> None:
        self.closed = True
        self.transport.abort()
        self.cancel_timers()

    def cancel_timers(self) -> None:
        for handle in (self.ping_handle, self.pong_deadline, self.close_handle):
            if handle is not None:
                handle.cancel()
        self.ping_handle = self.pong_deadline = self.close_handle = None

    # -- called by the server --------------------------------------------------------------

    def on_tick(self, tick: int) -> None:
        pass

    def shutdown(self) -> None:
        """Graceful stop: a going-away close for accepted connections."""
        if self.accepted and not self.close_sent and not self.closed:
            self.close_with(1001, "server shutting down")
        elif not self.handshake_done and not self.closed:
            self.handshake_done = True
            self.write(error_response(503, "Service Unavailable"))
            self.shutdown_transport()

    def force_close(self) -> None:
        self.abort()
