"""Clients for the HTTP/2 tests over real sockets.

- ``start_client`` / ``events_until``: the h2 library as a client that keeps every rule.
- ``RawClient``: sends whatever frames a test builds (hyperframe, hpack), including those a
  well-behaved client never sends, and reads the server's frames back with hyperframe.
- ``status_of_a_fresh_get``: what a new, well-behaved connection gets after an attack.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import h2.config
import h2.connection
import hpack
import httpx
import hyperframe.frame
from hyperframe.frame import Frame, GoAwayFrame, HeadersFrame, SettingsFrame

from fastasgi._h2frames import PREFACE

DEADLINE = 10.0
REQUEST = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "t")]


def start_client(sock: socket.socket) -> h2.connection.H2Connection:
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    sock.sendall(client.data_to_send())
    return client


def events_until(sock: socket.socket, client: h2.connection.H2Connection,
                 done: Any) -> list[Any]:
    """Events until ``done(events so far)`` holds or the server closes."""
    seen: list[Any] = []
    while not done(seen):
        data = sock.recv(65536)
        if not data:
            break
        seen.extend(client.receive_data(data))
        sock.sendall(client.data_to_send())
    return seen


def status_of_a_fresh_get(url: str) -> int:
    """The status a new HTTP/2 connection gets for GET ``url``: the worker still serves."""
    with httpx.Client(http1=False, http2=True, timeout=DEADLINE) as client:
        response = client.get(url)
    assert response.http_version == "HTTP/2"
    return response.status_code


class RawClient:
    """A client connection that sends frames as built and reads frames as they come.

    The server's field blocks are decoded in the order they arrive (HPACK state is shared by
    the whole connection); ``responses`` maps a stream id to its decoded response fields."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.responses: dict[int, list[tuple[str, str]]] = {}

    @classmethod
    def open(cls, running: Any, settings: dict[int, int] | None = None) -> RawClient:
        """Connect and send the client preface with ``settings``."""
        client = cls(running.connect(timeout=DEADLINE))
        client.send(PREFACE, SettingsFrame(0, settings=settings or {}))
        return client

    def __enter__(self) -> RawClient:  # noqa: PYI034 -- nothing subclasses it
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, *parts: Frame | bytes) -> None:
        self.sock.sendall(b"".join(
            part if isinstance(part, bytes) else part.serialize() for part in parts))

    def headers(self, stream_id: int, fields: list[tuple[str, str]] = REQUEST, *,
                end_stream: bool = True) -> HeadersFrame:
        """A complete HEADERS frame, encoded with this connection's HPACK state."""
        flags = ["END_HEADERS", "END_STREAM"] if end_stream else ["END_HEADERS"]
        return HeadersFrame(stream_id, self.encoder.encode(fields), flags=flags)

    def next_frame(self) -> Frame | None:
        """The server's next frame; None once it closed the connection."""
        while True:
            if len(self.buffer) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
                if len(self.buffer) >= 9 + length:
                    frame.parse_body(memoryview(self.buffer[9:9 + length]))
                    del self.buffer[:9 + length]
                    if isinstance(frame, HeadersFrame):
                        assert "END_HEADERS" in frame.flags, "no CONTINUATION expected"
                        self.responses[frame.stream_id] = self.decoder.decode(
                            frame.data, raw=False)
                    return frame
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buffer += data

    def frames_until(self, done: Callable[[Frame], bool]) -> list[Frame]:
        """Frames up to and including the first for which ``done`` holds."""
        frames = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
            if done(frame):
                return frames
        raise AssertionError(f"the server closed first; it sent {frames}")

    def frames_until_closed(self) -> list[Frame]:
        frames = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
        return frames

    def goaway_then_close(self) -> GoAwayFrame:
        """The one GOAWAY the server sends before it closes the connection."""
        goaways = [f for f in self.frames_until_closed() if isinstance(f, GoAwayFrame)]
        assert len(goaways) == 1, goaways
        return goaways[0]


def is_ping_ack(opaque: bytes) -> Callable[[Frame], bool]:
    return lambda frame: (isinstance(frame, hyperframe.frame.PingFrame)
                          and "ACK" in frame.flags and frame.opaque_data == opaque)


def of_type(frames: list[Frame], kind: type[Frame]) -> list[Any]:
    return [frame for frame in frames if isinstance(frame, kind)]
