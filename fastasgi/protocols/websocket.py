"""The WebSocket connection: the ASGI websocket protocol over the Cython frame codec.

The HTTP protocol hands over the transport once a request asks to upgrade to websocket. From then
on data flows one way: transport -> data_received -> WebSocketCodec -> inbox -> app's receive();
app's send() -> codec.encode_* -> transport.write.

Bounds and back-pressure:
- reading: once ``ws_max_queue`` messages wait in the inbox, events are no longer pulled from the
  codec and the transport stops reading until receive() takes one. Bytes that arrive before the
  app accepts are capped at PENDING_LIMIT. One message is at most ``ws_max_size`` (the codec).
- writing: send() waits while the transport is above its high-water mark; a client that reads
  nothing for WRITE_STALL_TICKS (``connection.py``) is dropped by the server's tick.
- fairness: at most FRAMES_PER_TURN frames are handled per turn of the event loop; the rest wait,
  with reading paused, for a later turn, so that a flood on one connection cannot hold the loop.

Order: a message handed to a waiting receive() ends the read turn, so the app's answer to it
goes out before anything a later frame causes (a close, a failure).

Closing (RFC 6455 §7): whoever closes, our close frame goes out once, and the TCP connection is
ended as every connection's is (``Connection.close_gracefully``: FIN, then drop what the client
still sends until it closes too), so a close frame is never destroyed by a reset. Every wait for
the peer is bounded, by a timer or by the server's tick.

docs/websocket.md describes the behaviour as users see it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from fastasgi._serializer import ResponseEncoder
from fastasgi._websocket import (
    NEED_DATA,
    Close,
    DeflateParams,
    Ping,
    ProtocolError,
    WebSocketClosed,
    WebSocketCodec,
)
from fastasgi.errors import ClientDisconnected
from fastasgi.protocols.awaitables import FINISHED as DONE
from fastasgi.protocols.connection import WRITE_STALL_TICKS, Connection
from fastasgi.protocols.state import WEBSOCKET_FRAMES_PER_CONNECTION
from fastasgi.protocols.turn_share import TurnAllowance
from fastasgi.protocols.write_budget import LARGE_WRITE
from fastasgi.settings import WebSocketSettings
from fastasgi.websocket_handshake import (
    HandshakeError,
    UpgradeRequest,
    accept_headers,
    encode_switching_protocols,
    parse_upgrade,
)

logger = logging.getLogger("fastasgi.error")

PENDING_LIMIT = 1 << 20  # bytes a client may send before the app accepts
CLOSE_TIMEOUT = 5.0  # seconds to wait for the peer's close frame after ours
# Frames (events of the codec: a message, a ping, a pong, a close) one connection handles in one
# turn of the event loop; all connections together handle WEBSOCKET_FRAMES_PER_TURN (state.pyx).
FRAMES_PER_TURN = WEBSOCKET_FRAMES_PER_CONNECTION
# What we offer to agree on for permessage-deflate (read, never changed, by the negotiation):
# made once rather than per upgrade.
PREFERRED_DEFLATE = DeflateParams()

class Handshake(enum.Enum):
    """What became of the upgrade request."""

    PENDING = "the app has not answered the upgrade yet"
    ACCEPTED = "101 went out: frames flow"
    REFUSED = "an HTTP error went out in place of the 101 (403, 500, 503, a bad request)"
    DENYING = "the app's own websocket.http.response is going out"


PENDING, ACCEPTED, REFUSED, DENYING = (
    Handshake.PENDING, Handshake.ACCEPTED, Handshake.REFUSED, Handshake.DENYING
)

CONNECT = "websocket.connect"
RECEIVE = "websocket.receive"
DISCONNECT = "websocket.disconnect"
SEND = "websocket.send"
ACCEPT = "websocket.accept"
CLOSE = "websocket.close"
RESPONSE_START = "websocket.http.response.start"
RESPONSE_BODY = "websocket.http.response.body"


class WebSocketProtocol(Connection):
    """One WebSocket connection, from the upgrade request to the closed transport.

    Made by the HTTP connection whose request asked to upgrade: it takes over that connection's
    transport, with whatever bytes followed the request head (``buffered``)."""

    def __init__(self, http: Connection, head: Any, buffered: bytes) -> None:
        super().__init__(http.state)
        settings = self.state.settings.websocket
        assert settings is not None, "made only when --ws is not none"
        self.settings: WebSocketSettings = settings
        self.take_over(http)
        self.head = head
        self.pending = bytearray(buffered)  # frames that came before accept
        self.codec: WebSocketCodec | None = None
        self.request: UpgradeRequest | None = None
        self.inbox: deque[dict[str, Any]] = deque([{"type": CONNECT}])
        self.inbox_waiter: asyncio.Future[dict[str, Any]] | None = None
        self.handshake = PENDING
        self.denial: ResponseEncoder | None = None  # the response while DENYING
        self.denial_sent = False  # its head reached the transport
        self.close_sent = False  # our close frame is out
        self.deferred = False  # frames wait for a later turn (FRAMES_PER_TURN)
        self.pongs: list[bytes] = []  # the pongs for this turn's pings, not yet written
        # Its frames per turn, out of those every connection shares (ServerState).
        self.frames = TurnAllowance(self.state.websocket_frames, FRAMES_PER_TURN)
        self.disconnect_message: dict[str, Any] | None = None
        self.task: asyncio.Task[None] | None = None
        self.ping_handle: asyncio.TimerHandle | None = None
        self.pong_deadline: asyncio.TimerHandle | None = None
        self.close_handle: asyncio.TimerHandle | None = None

    # -- hand-over from HTTP ---------------------------------------------------------------

    def start(self) -> None:
        """Check the upgrade request and run the app, or refuse it over HTTP."""
        head, state = self.head, self.state
        try:
            self.request = parse_upgrade(head.method, head.http_version, head.headers)
        except HandshakeError as exc:
            self.respond_and_close(exc.status, str(exc), exc.headers)
            return
        state.connections.add(self)
        if not self.admitted():
            self.respond_and_close(503, "Service Unavailable: too many requests in progress")
            return
        self.task = self.loop.create_task(self.run_app(self.build_scope()))
        state.tasks.add(self.task)

    def build_scope(self) -> dict[str, Any]:
        assert self.request is not None
        scope = self.request_scope("websocket", self.head)
        scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
        scope["subprotocols"] = list(self.request.subprotocols)
        scope["extensions"] = {"websocket.http.response": {}}
        return scope

    # -- asyncio.Protocol ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        metrics = self.state.metrics
        if metrics is not None:
            metrics.received_bytes += len(data)
        if self.closed:
            return  # after our FIN, or a refusal: drop it
        codec = self.codec
        if codec is None:
            self.pending += data
            if len(self.pending) > PENDING_LIMIT:
                logger.info("WebSocket client sent over %d bytes before the handshake ended",
                            PENDING_LIMIT)
                self.abort()
            return
        codec.feed(data)
        self.pump()

    def eof_received(self) -> bool | None:
        self.peer_eof = True
        return None  # the client will send nothing more, not even a close frame: close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        self.cancel_timers()
        self.disconnect(1006, "")
        self.wake_writers()

    def pause_writing(self) -> None:
        super().pause_writing()
        self.update_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.reading_paused:
            self.pump()

    # -- incoming frames -------------------------------------------------------------------

    def pump(self) -> None:
        """Pull events from the codec while the inbox has room; pause reading when it is full.

        A message handed to a waiting receive() ends the turn when more bytes wait: the app
        answers it before the next frame is parsed, so a close caused by a later frame (a
        violation, the peer's close) goes out after that answer, in the order the peer sent.
        After our close frame only the peer's close frame matters: reading goes on, and data
        messages that find the inbox full are dropped.

        At most FRAMES_PER_TURN events are handled, fewer when the frames every connection
        together may handle in this turn (ServerState.websocket_frames) run short; the rest wait
        for ``resume_deferred``. The pongs owed for the pings among them go out together, in
        one write, when the turn ends."""
        if self.closed or self.deferred:
            return  # deferred: resume_deferred pumps, in a turn of its own
        codec = self.codec
        assert codec is not None
        # The app's receive() pumps too, within its own step: FRAMES_PER_TURN counts every
        # pump of the turn, or an app that reads its queue without waiting would take frames
        # by the queue's length again and again in one turn.
        frames = self.frames
        budget = granted = frames.grant()
        inbox = self.inbox
        max_queue = self.settings.max_queue
        try:
            while len(inbox) < max_queue or self.close_sent:
                if not budget:
                    if codec.buffered:
                        self.defer()
                        return
                    break
                budget -= 1
                try:
                    event = codec.next_event()
                except ProtocolError as exc:
                    logger.debug("WebSocket protocol error from the client: %s", exc)
                    self.write_pongs()
                    self.write(codec.data_to_send())
                    self.disconnect(exc.code, exc.reason)
                    self.close_transport()
                    return
                if event is NEED_DATA:
                    budget += 1
                    break
                kind = type(event)
                if kind is str or kind is bytes:
                    if len(inbox) >= max_queue:
                        continue
                    handed = self.deliver(
                        {"type": RECEIVE, "text": event} if kind is str
                        else {"type": RECEIVE, "bytes": event})
                    if not codec.buffered:
                        break  # NOTE: the usual case; saves asking the codec for NEED_DATA
                    if handed:
                        # The app answers it before the next frame is parsed, in a later turn
                        # (after the app's task has run). Reading waits meanwhile: a turn that
                        # read while it handled a single message would let the buffer grow by
                        # a read per message.
                        self.defer()
                        return
                elif self.control_frame(codec, event):
                    return
            if self.reading_paused or self.writing_paused or len(inbox) >= max_queue:
                self.update_reading()
        finally:
            frames.used(granted - budget)
            if self.pongs:
                self.write_pongs()

    def write_pongs(self) -> None:
        """Write the pongs owed for this turn's pings, in one write."""
        pongs = self.pongs
        if pongs:
            self.pongs = []
            if not self.closed:
                self.write(b"".join(pongs))

    def defer(self) -> None:
        """Leave the frames still buffered for a later turn of the loop, reading nothing more
        until then: the other connections' ready work runs first."""
        self.deferred = True
        self.loop.call_soon(self.resume_deferred)
        self.update_reading()

    def resume_deferred(self) -> None:
        self.deferred = False
        self.pump()
        self.update_reading()

    def update_reading(self) -> None:
        """Read only while the inbox has room, no frames wait for a later turn, and the client
        takes what we write: a client that sends pings but reads no pongs must not grow our
        write buffer."""
        if self.closed or self.codec is None:
            return  # closing reads on to drop input; before accept PENDING_LIMIT bounds it
        paused = self.writing_paused or self.deferred or (
            len(self.inbox) >= self.settings.max_queue and not self.close_sent)
        if paused != self.reading_paused:
            self.reading_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def control_frame(self, codec: WebSocketCodec, event: object) -> bool:
        """Act on a ping, pong or close; True once the connection is over."""
        if type(event) is Close:
            # The codec queued our reply unless our close frame was already out.
            self.write_pongs()
            self.write(codec.data_to_send())
            self.disconnect(event.code, event.reason)
            self.close_transport()
            return True
        if type(event) is Ping:
            # One write for every pong of this turn (pump). RFC 6455 §5.5.3 would allow
            # answering only the last ping, but clients that count their pongs expect one each.
            self.pongs.append(codec.data_to_send())
        elif self.pong_deadline is not None:  # a pong: the peer is alive
            self.pong_deadline.cancel()
            self.pong_deadline = None
        return False

    def deliver(self, message: dict[str, Any]) -> bool:
        """Hand a message to the app's waiting receive() (True), or queue it (False)."""
        waiter = self.inbox_waiter
        if waiter is not None:
            self.inbox_waiter = None
            if not waiter.done():  # done here means cancelled: the app stopped waiting
                waiter.set_result(message)
                return True
        self.inbox.append(message)
        return False

    def disconnect(self, code: int, reason: str) -> None:
        """The connection is over for the app: queue websocket.disconnect (once)."""
        if self.disconnect_message is None:
            self.disconnect_message = {"type": DISCONNECT, "code": code, "reason": reason}
            self.deliver(dict(self.disconnect_message))

    # -- the app's side --------------------------------------------------------------------

    def receive(self) -> asyncio.Future[dict[str, Any]]:
        """The app's receive(): a future of the next message (already done when one waits).

        NOTE: a future rather than a coroutine: no coroutine object or frame per message, and
        deliver() resolves it with the message itself."""
        waiter = self.loop.create_future()
        if self.inbox:
            waiter.set_result(self.inbox.popleft())
            if self.reading_paused:
                self.pump()
        elif self.disconnect_message is not None:
            # Every receive() after the disconnect gets it again.
            waiter.set_result(dict(self.disconnect_message))
        elif self.inbox_waiter is not None and not self.inbox_waiter.done():
            raise RuntimeError("ASGI receive() called while another receive() is waiting")
        else:
            self.inbox_waiter = waiter
        return waiter

    def send(self, message: dict[str, Any]) -> Any:
        """The app's send(): an awaitable, finished unless the transport is full."""
        kind = message.get("type")
        if kind == SEND and self.handshake is ACCEPTED:
            if self.close_sent or self.closed:
                raise ClientDisconnected("the WebSocket connection is closed")
            codec = self.codec
            assert codec is not None
            payload: Any = message.get("text")
            encode: Callable[[Any], bytes]
            if payload is not None:
                if type(payload) is not str:
                    raise TypeError("ASGI send: 'text' must be str")
                encode = codec.encode_text
            else:
                payload = message.get("bytes")
                if not isinstance(payload, (bytes, bytearray, memoryview)):
                    raise TypeError("ASGI send: 'websocket.send' needs 'text' or 'bytes'")
                encode = codec.encode_binary
            # NOTE: a text's characters, the fewest bytes its UTF-8 can take: counted before
            # it is encoded, so that a message waiting for its turn holds no frame yet. A
            # memoryview's len() counts its items, which may be wider than a byte.
            size = payload.nbytes if type(payload) is memoryview else len(payload)
            if size < LARGE_WRITE:
                self.transport_write(encode(payload))
            elif self.state.large_writes.admit(size):
                self.write_large(encode(payload))
            else:
                return self.send_in_turn(encode, payload, size)
            if self.writing_paused:
                return self.drain()
            return DONE
        if kind == CLOSE and (self.handshake is ACCEPTED or self.handshake is REFUSED):
            if self.handshake is ACCEPTED and not self.close_sent and not self.closed:
                self.close_with(message.get("code") or 1000, message.get("reason") or "")
            # Closing what is already closed (by us or by the peer) changes nothing.
            return DONE
        if self.handshake is PENDING:
            if kind == ACCEPT:
                self.accept(message)
            elif kind == CLOSE:
                self.respond_and_close(403, "Forbidden")
            elif kind == RESPONSE_START:
                self.start_denial(message)
            else:
                raise RuntimeError(f"ASGI send: expected {ACCEPT!r}, {CLOSE!r} or "
                                   f"{RESPONSE_START!r}, got {kind!r}")
            return DONE
        if self.handshake is DENYING:
            if kind != RESPONSE_BODY:
                raise RuntimeError(f"ASGI send: expected {RESPONSE_BODY!r}, got {kind!r}")
            return self.send_denial_body(message)
        if self.closed and kind in (ACCEPT, SEND):
            # The server answered the upgrade itself (503 while shutting down, or the client
            # left and the 500 went nowhere): for the app the connection is simply gone.
            raise ClientDisconnected("the WebSocket connection is closed")
        raise RuntimeError(f"ASGI send: unexpected message type {kind!r}")

    def accept(self, message: dict[str, Any]) -> None:
        assert self.request is not None
        if self.closed:
            raise ClientDisconnected("the client left before the WebSocket was accepted")
        # accept_headers raises ValueError for a subprotocol the client did not offer or a bad
        # header; nothing was sent then, so the app's failure still becomes a 500.
        headers, agreed = accept_headers(
            self.request,
            subprotocol=message.get("subprotocol"),
            deflate=PREFERRED_DEFLATE if self.settings.per_message_deflate else None,
            extra_headers=message.get("headers") or (),
        )
        defaults = self.state.settings.response
        names = {name.lower() for name, _ in headers}
        if defaults.server_header and b"server" not in names:
            headers.append((b"server", defaults.server_header))
        headers.extend(field for field in defaults.headers if field[0] not in names)
        self.handshake = ACCEPTED
        self.codec = WebSocketCodec(max_size=self.settings.max_size, deflate=agreed)
        self.transport_write(encode_switching_protocols(headers))
        self.log_access(101)
        self.schedule_ping()
        if self.pending:
            data, self.pending = bytes(self.pending), bytearray()
            self.codec.feed(data)
            self.pump()

    def start_denial(self, message: dict[str, Any]) -> None:
        """websocket.http.response.start: refuse the upgrade with the app's own response."""
        status = message.get("status")
        if type(status) is not int:
            raise TypeError("ASGI send: 'status' must be an int")
        if status < 200:
            # A 1xx (101 above all) would tell the client the upgrade went ahead.
            raise ValueError(f"ASGI send: a denial response needs a final status, not {status}")
        encoder = self.response_encoder()
        encoder.start(status, message.get("headers") or (), keep_alive=False)
        self.handshake = DENYING
        self.denial = encoder

    def send_denial_body(self, message: dict[str, Any]) -> Any:
        encoder = self.denial
        assert encoder is not None
        if encoder.complete:
            raise RuntimeError("ASGI send: the denial response is already complete")
        if self.closed:
            raise ClientDisconnected("the client left during the denial response")
        body = message.get("body", b"")
        if type(body) is not bytes:
            body = bytes(body)
        more = bool(message.get("more_body", False))
        data = encoder.body(body, more)
        if data:
            self.denial_sent = True
            self.transport_write(data)
        if not more:
            self.log_access(encoder.status)
            self.disconnect(1000, "")
            self.close_transport()
        elif self.writing_paused:
            return self.drain()
        return DONE

    async def run_app(self, scope: dict[str, Any]) -> None:
        try:
            await self.state.app(scope, self.receive, self.send)
        except asyncio.CancelledError:
            self.abort()
            raise
        except BaseException as exc:  # noqa: BLE001 -- any failure of the app is answered
            self.app_failed(exc)
        else:
            self.app_returned()
        finally:
            if self.task is not None:
                self.state.tasks.discard(self.task)

    def app_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ClientDisconnected):
            logger.debug("ASGI application sent on a closed WebSocket: %s", exc)
        else:
            logger.error("Exception in ASGI application", exc_info=exc)
        if self.closed:
            return
        if self.handshake is PENDING or (self.handshake is DENYING and not self.denial_sent):
            self.respond_and_close(500, "Internal Server Error")
        elif self.handshake is ACCEPTED and not self.close_sent:
            self.close_with(1011, "")
        elif self.handshake is DENYING:
            self.abort()  # part of the denial response is out: cut it short

    def app_returned(self) -> None:
        if self.closed:
            return  # the client left (or was refused): nothing is owed
        if self.handshake is PENDING:
            logger.error("ASGI callable returned without accepting or refusing the WebSocket.")
            self.respond_and_close(500, "Internal Server Error")
        elif self.handshake is DENYING:
            assert self.denial is not None
            if not self.denial.complete:
                logger.error("ASGI callable returned without completing the denial response.")
                self.abort()
        elif not self.close_sent:
            self.close_with(1000, "")

    # -- closing ---------------------------------------------------------------------------

    def close_with(self, code: int, reason: str) -> None:
        """Send our close frame and wait, for CLOSE_TIMEOUT at most, for the peer's."""
        codec = self.codec
        assert codec is not None
        try:
            frame = codec.encode_close(code, reason)
        except WebSocketClosed:
            return
        self.close_sent = True
        self.transport_write(frame)
        self.close_handle = self.loop.call_later(CLOSE_TIMEOUT, self.abort)
        if self.reading_paused:
            self.pump()  # reads on until the peer's close frame

    def close_transport(self) -> None:
        """End TCP after the last frame (FIN, then drop input until the peer's FIN or a tick)."""
        if not self.closed:
            self.cancel_timers()
            self.close_gracefully()

    def respond_and_close(self, status: int, message: str, headers: Any = ()) -> None:
        """A plain-text HTTP response in place of the 101, then the end of the connection."""
        self.handshake = REFUSED
        if self.closed:
            return
        self.log_access(status)
        encoder = self.response_encoder()
        fields = [(b"content-type", b"text/plain; charset=utf-8"), *headers]
        encoder.start(status, fields, keep_alive=False)
        self.transport_write(encoder.body((message + "\n").encode("utf-8", "replace"), False))
        # The app refused (403) or never answered: no WebSocket, so no close code either.
        self.disconnect(1006, "")
        self.close_transport()

    def abort(self) -> None:
        self.closed = True
        self.cancel_timers()
        self.transport.abort()

    def cancel_timers(self) -> None:
        for handle in (self.ping_handle, self.pong_deadline, self.close_handle):
            if handle is not None:
                handle.cancel()
        self.ping_handle = self.pong_deadline = self.close_handle = None

    # -- keep-alive pings ------------------------------------------------------------------

    def schedule_ping(self) -> None:
        if self.settings.ping_interval and not self.closed:
            self.ping_handle = self.loop.call_later(self.settings.ping_interval, self.send_ping)

    def send_ping(self) -> None:
        codec = self.codec
        self.ping_handle = None
        if self.closed or self.close_sent or codec is None:
            return
        self.transport_write(codec.encode_ping(b""))
        if self.settings.ping_timeout and self.pong_deadline is None:
            self.pong_deadline = self.loop.call_later(self.settings.ping_timeout,
                                                      self.ping_timed_out)
        self.schedule_ping()

    def ping_timed_out(self) -> None:
        self.pong_deadline = None
        logger.info("WebSocket client did not answer a ping within %s s; closing",
                    self.settings.ping_timeout)
        self.disconnect(1011, "keepalive ping timeout")
        self.abort()

    # -- transport -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if data and not self.closed:
            self.transport_write(data)

    async def send_in_turn(self, encode: Callable[[Any], bytes], payload: Any,
                           size: int) -> None:
        """A large message (``payload``, ``size`` characters or bytes, and the codec's
        ``encode`` for its kind) the server's write budget (write_budget.pyx) did not take in
        this turn: encoded and written whole in a later turn, in the order the writers came, so
        that a client that reads slowly holds the loop no longer than a fast one. It is encoded
        only then: hundreds of messages waiting hold no frame of their own meanwhile, only the
        app's data. A frame cannot be cut for a control frame to go between its pieces, so it
        goes as one write; a close frame written meanwhile (the peer's close answered, a
        protocol error) ends the connection before it, and it is not written after."""
        await self.state.large_writes.wait(size)
        if self.close_sent or self.closed:
            raise ClientDisconnected("the WebSocket connection is closed")
        self.write_large(encode(payload))
        if self.writing_paused:
            await self.drain()

    def write_large(self, frame: bytes) -> None:
        """A frame of LARGE_WRITE bytes or more, timed for the server's write budget."""
        metrics = self.state.metrics
        if metrics is not None:
            metrics.sent_bytes += len(frame)
        self.state.large_writes.write_measured(self.transport, (frame,), len(frame))

    def transport_write(self, data: bytes) -> None:
        """Every byte this connection writes goes through here, to be counted for
        --metrics-port."""
        metrics = self.state.metrics
        if metrics is not None:
            metrics.sent_bytes += len(data)
        self.transport.write(data)

    def response_encoder(self) -> ResponseEncoder:
        return ResponseEncoder(self.state.settings.response)

    def log_access(self, status: int) -> None:
        state = self.state
        if state.settings.access_log:
            state.log_access(self.client, self.head, status)

    # -- called by the server --------------------------------------------------------------

    def on_tick(self, tick: int) -> None:
        """Stop waiting for a client that neither closes after our FIN nor reads what we send."""
        if self.closed:
            if self.linger_over(tick):
                self.transport.abort()
        elif self.write_stalled(tick):
            logger.info("WebSocket client read nothing for %d s; closing", WRITE_STALL_TICKS)
            self.abort()

    def shutdown(self) -> None:
        """Graceful stop: going away (1001) for open WebSockets, 503 for undecided upgrades."""
        if self.handshake is ACCEPTED:
            if not self.close_sent and not self.closed:
                self.close_with(1001, "server shutting down")
        elif self.handshake is PENDING and not self.closed:
            self.respond_and_close(503, "Service Unavailable: the server is shutting down")

    def force_close(self) -> None:
        self.abort()
