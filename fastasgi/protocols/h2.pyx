# cython: language_level=3, annotation_typing=False
"""The HTTP/2 connection: the ASGI http protocol, one app call per stream, over the sans-I/O
core (``fastasgi._h2connection``).

The HTTP/1.1 connection hands over its transport when a client starts with the HTTP/2 preface
(h2c with prior knowledge, RFC 9113 §3.3) or chose h2 by ALPN over TLS (§3.2). From then on data
flows one way: transport -> data_received -> H2Connection events -> the streams (``h2stream.pyx``)
-> the app's receive(); the app's send() -> H2Connection -> ``flush`` -> transport.write.

Bounds: the core bounds streams, header lists, frames and floods; the body a stream holds for its
app is bounded by the window we advertise, which reopens only as the app reads. Every wait is
bounded by the server's tick: an idle connection (no open stream) by the keep-alive timeout, an
app waiting for body the client stopped sending by the head-read timeout, a response waiting
for a window the client never reopens, or a client that reads nothing, by WRITE_STALL_TICKS.

Fairness: the core is handed at most BYTES_PER_TURN of a connection's input per turn of the event
loop, and all connections' together at most H2_BYTES_PER_TURN (state.pyx); the rest waits, with
reading paused, for a later turn, so a flood of small frames, on one connection or fifty, cannot
hold the loop.

Closing: a connection error from the core goes out as GOAWAY, then the connection ends as every
connection's does (``Connection.close_gracefully``). A graceful stop sends GOAWAY with the last
stream id and lets the open streams finish.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from fastasgi._h2connection import H2Connection, H2Settings
from fastasgi._h2events cimport (
    ConnectionTerminated,
    DataReceived,
    RequestReceived,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from fastasgi.protocols.h2stream cimport H2Stream, open_stream, request_head
from fastasgi._serializer cimport COPY_LIMIT
from fastasgi._h2frames import ErrorCode, H2ConnectionError
from fastasgi.logging import TRACE
from fastasgi.protocols.connection import (
    WRITE_STALL_TICKS,
    Connection,
    make_request_head,
)
from fastasgi.protocols.state import H2_BYTES_PER_CONNECTION
from fastasgi.protocols.turn_share cimport TurnAllowance

logger = logging.getLogger("fastasgi.error")

HTTP_VERSION = "2"

SWITCHING_PROTOCOLS = (b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n"
                       b"upgrade: h2c\r\n\r\n")
# Fields of an Upgrade: h2c request that served the HTTP/1.1 hop (RFC 7540 §3.2), not the request
# that goes on as stream 1.
UPGRADE_HOP_FIELDS = frozenset((b"connection", b"upgrade", b"http2-settings", b"keep-alive",
                                b"proxy-connection", b"te", b"transfer-encoding"))
# Input one connection hands the core in one turn of the event loop (state.pyx says why this
# much); all connections together hand it H2_BYTES_PER_TURN. The rest waits, with reading paused.
BYTES_PER_TURN = H2_BYTES_PER_CONNECTION


class H2Protocol(Connection):
    """One HTTP/2 connection, from the preface to the closed transport.

    Made by the HTTP/1.1 connection that recognised HTTP/2: it takes over that connection's
    transport, with the bytes already received (``buffered``, the preface included)."""

    def __init__(self, http: Connection, buffered: bytes) -> None:
        super().__init__(http.state)
        settings = self.state.settings.h2
        assert settings is not None, "made only when --http2 is on"
        self.settings: H2Settings = settings
        self.take_over(http)
        self.conn = H2Connection(settings)
        self.streams: dict[int, H2Stream] = {}
        self.pending = buffered
        self.backlog: memoryview | None = None  # input left for a later turn (BYTES_PER_TURN)
        self.input = TurnAllowance(self.state.h2_input, BYTES_PER_TURN)
        self.going_away = False      # GOAWAY went out (or came in): close once streams end
        self.flush_scheduled = False  # flush_soon() has a call pending on the loop
        self.idle_since = self.state.tick

    def start(self, upgraded: Any = None) -> None:
        """Send our SETTINGS and read what came with the preface. ``upgraded``: the head of
        the Upgrade: h2c request, which goes on as stream 1 (``conn.upgrade`` opened it)."""
        self.state.connections.add(self)
        if self.state.log_trace:
            logger.log(TRACE, "%s - HTTP/2 connection", self.client_label)
        self.conn.initiate()
        self.flush()
        if upgraded is not None:
            headers = [(name, value) for name, value in upgraded.headers
                       if name not in UPGRADE_HOP_FIELDS]
            head = make_request_head(upgraded.method, upgraded.target, upgraded.path,
                                     upgraded.raw_path, upgraded.query_string, HTTP_VERSION,
                                     headers)
            open_stream(self, 1, head, True, None)
        pending, self.pending = self.pending, b""
        if pending:
            self.data_received(pending)

    # -- asyncio.Protocol ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        metrics = self.state.metrics
        if metrics is not None:
            metrics.received_bytes += len(data)
        if self.closed:
            return  # lingering after our FIN: drop it
        if self.backlog is not None:
            # Reading is paused, but a TLS transport may still deliver what it decrypted.
            self.backlog = memoryview(bytes(self.backlog) + bytes(data))
            return
        self.take_input(data)

    def take_input(self, data: bytes | memoryview) -> None:
        """Hand the core what this turn allows of ``data`` (this connection's BYTES_PER_TURN, and
        what every connection together has left, ServerState.h2_input); keep the rest for a
        later turn, reading nothing more until then: the other connections' ready work runs
        first."""
        cdef TurnAllowance allowance = self.input
        cdef Py_ssize_t allowed = allowance.grant()
        if len(data) > allowed:
            view = memoryview(data)
            self.backlog = view[allowed:]
            data = view[:allowed]
            self.loop.call_soon(self.resume_deferred)
            if not self.reading_paused:
                self.reading_paused = True
                self.transport.pause_reading()
        elif self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()
        if len(data):
            allowance.used(len(data))
            self.handle(data)

    def resume_deferred(self) -> None:
        data, self.backlog = self.backlog, None
        if self.closed or data is None:
            return  # close_gracefully resumed reading, to drop what still comes
        self.take_input(data)

    def handle(self, data: bytes | memoryview) -> None:
        """Hand ``data`` to the core and act on the events it completes."""
        cdef H2Stream stream
        cdef type kind
        conn = self.conn
        for event in conn.receive_data(data):
            kind = type(event)
            if kind is RequestReceived:
                head, content_length = request_head((<RequestReceived>event).headers)
                open_stream(self, (<RequestReceived>event).stream_id, head,
                            (<RequestReceived>event).end_stream, content_length)
            elif kind is DataReceived:
                stream = self.streams.get((<DataReceived>event).stream_id)
                if stream is None:   # its response is complete or it was reset: nobody reads
                    conn.acknowledge_received_data((<DataReceived>event).stream_id,
                                                   (<DataReceived>event).flow_controlled_length)
                else:
                    stream.add_body((<DataReceived>event).data,
                                    (<DataReceived>event).flow_controlled_length,
                                    (<DataReceived>event).end_stream)
            elif kind is WindowUpdated:
                if (<WindowUpdated>event).stream_id == 0:
                    for stream in self.streams.values():
                        stream.window_opened()
                else:
                    stream = self.streams.get((<WindowUpdated>event).stream_id)
                    if stream is not None:
                        stream.window_opened()
            elif kind is TrailersReceived:
                stream = self.streams.get((<TrailersReceived>event).stream_id)
                if stream is not None:
                    stream.end_body()
            elif kind is StreamReset:
                stream = self.streams.pop((<StreamReset>event).stream_id, None)
                if stream is not None:
                    stream.disconnect()
                    self.stream_ended(stream)
            elif kind is ConnectionTerminated:
                self.terminated(event)
        self.flush()
        if conn.closed and not self.closed or self.going_away and not self.streams:
            self.close_gracefully()

    def eof_received(self) -> bool | None:
        self.peer_eof = True
        return None  # an HTTP/2 client that half-closes sends nothing more: close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        self.disconnect_all()
        self.wake_writers()
        if self.state.log_trace:
            logger.log(TRACE, "%s - HTTP/2 connection lost", self.client_label)

    def resume_writing(self) -> None:
        super().resume_writing()
        for stream in self.streams.values():
            stream.window_opened()

    # -- streams ---------------------------------------------------------------------------

    def request_received(self, event: RequestReceived) -> None:
        head, content_length = request_head(event.headers)
        open_stream(self, event.stream_id, head, event.end_stream, content_length)

    def reset_stream(self, stream: H2Stream, code: int) -> None:
        """End a stream from our side (a malformed body, a failed app, a stalled wait)."""
        self.streams.pop(stream.stream_id, None)
        self.conn.reset_stream(stream.stream_id, code)
        stream.disconnect()
        self.flush()
        self.stream_ended(stream)

    def stream_ended(self, stream: H2Stream) -> None:
        """A stream's response is complete or the stream was reset."""
        if self.streams.get(stream.stream_id) is stream:
            del self.streams[stream.stream_id]
        if self.streams:
            self.flush_soon()
            return
        self.idle_since = self.state.tick
        if self.going_away and not self.closed:
            self.flush()  # the last responses go out before the close
            self.close_gracefully()
        else:
            self.flush_soon()

    def disconnect_all(self) -> None:
        streams = list(self.streams.values())
        self.streams.clear()
        for stream in streams:
            stream.disconnect()

    def terminated(self, event: ConnectionTerminated) -> None:
        """GOAWAY: ours for a connection error (the core is closed now), or the client's."""
        if not event.remote or event.error_code != ErrorCode.NO_ERROR:
            if not event.remote:
                logger.debug("HTTP/2 connection error from %s: code %d", self.client_label,
                             event.error_code)
            self.disconnect_all()
            self.going_away = True
            return
        # The client opens no new stream; those it has open may finish.
        self.going_away = True

    # -- writing ---------------------------------------------------------------------------

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.closed:
            metrics = self.state.metrics
            if metrics is not None:
                metrics.sent_bytes += len(data)
            if len(data) >= COPY_LIMIT:  # timed for the server's write budget
                self.state.large_writes.write_measured(self.transport, (data,), len(data))
            else:
                self.transport.write(data)

    def flush_soon(self) -> None:
        """Write what the core holds once the loop has run the other streams ready now.

        The streams one read opened answer in the same loop iteration: their frames then go out
        in one write (one system call) rather than two per stream, the cost that dominated a
        profile under h2load. What must not wait calls flush(): a body the app goes on
        streaming, whose backpressure comes from the transport's pause_writing."""
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.scheduled_flush)

    def scheduled_flush(self) -> None:
        self.flush_scheduled = False
        self.flush()

    # -- called by the server --------------------------------------------------------------

    def on_tick(self, tick: int) -> None:
        if self.closed:
            if self.linger_over(tick):
                self.transport.abort()
            return
        if self.write_stalled(tick):
            logger.info("Client %s read nothing for %d s; closing", self.client_label,
                        WRITE_STALL_TICKS)
            self.abort()
            return
        if not self.streams:
            if tick - self.idle_since > self.state.keep_alive_ticks:
                self.go_away()
            return
        for stream in list(self.streams.values()):
            if stream.window_waiter is not None and tick - stream.window_since > WRITE_STALL_TICKS:
                logger.info("Client %s opened no flow-control window for %d s; resetting "
                            "stream %d", self.client_label, WRITE_STALL_TICKS, stream.stream_id)
                self.reset_stream(stream, ErrorCode.CANCEL)
            elif (stream.receive_waiter is not None and not stream.body_complete
                    and tick - stream.receive_since > self.state.header_read_ticks):
                logger.info("Client %s stopped sending a request body; resetting stream %d",
                            self.client_label, stream.stream_id)
                self.reset_stream(stream, ErrorCode.CANCEL)

    def go_away(self) -> None:
        """GOAWAY naming the last stream we took; those open finish, then we close."""
        if self.closed:
            return
        self.conn.close(ErrorCode.NO_ERROR)
        self.flush()
        self.going_away = True
        if not self.streams:
            self.close_gracefully()

    def shutdown(self) -> None:
        self.go_away()

    def abort(self) -> None:
        self.closed = True
        self.transport.abort()
        self.disconnect_all()

    def force_close(self) -> None:
        self.abort()


def prepare_h2c_upgrade(http: Connection, head: Any) -> H2Protocol | None:
    """The HTTP/2 connection an ``Upgrade: h2c`` request switches to (RFC 7540 §3.2), with
    stream 1 open for it; None if the request does not qualify, and is served as HTTP/1.1:
    HTTP2-Settings missing, repeated or invalid, or not named in Connection (§3.2.1)."""
    settings = None
    options: set[bytes] = set()
    for name, value in head.headers:
        if name == b"http2-settings":
            if settings is not None:
                return None
            settings = value
        elif name == b"connection":
            options.update(option.strip().lower() for option in value.split(b","))
    if settings is None or b"http2-settings" not in options:
        return None
    try:
        # token68 in the base64url alphabet, padding optional (§3.2.1)
        payload = base64.b64decode(
            settings.translate(URL_SAFE_TO_STANDARD) + b"=" * (-len(settings) % 4),
            validate=True)
    except (binascii.Error, ValueError):
        return None
    protocol = H2Protocol(http, b"")
    try:
        protocol.conn.upgrade(payload)
    except H2ConnectionError:
        return None
    return protocol


URL_SAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def switch_to_h2(http: Connection, buffered: bytes) -> None:
    """Hand ``http``'s transport to a new HTTP/2 connection, with the bytes it received."""
    protocol = H2Protocol(http, buffered)
    http.transport.set_protocol(protocol)
    protocol.start()
