"""Invariants any client byte stream must keep in the sans-I/O HTTP/2 server connection, and
any header block in the HPACK decoder.

Connection (``check_connection``), the bytes fed after a valid client preface:
- ``receive_data`` raises nothing: every bad input ends as a stream error (RST_STREAM) or a
  connection error (GOAWAY, ConnectionTerminated(remote=False), ``closed``);
- events are of the documented types and say sane things (client stream ids are odd, a body
  piece never counts more than the window allows, ...); once closed, nothing more comes;
- what the connection owes the peer parses (with hyperframe, not our reader) as well-formed
  server frames: our SETTINGS first, no frame type a server may not send, field blocks that the
  hpack library decodes to responses, nothing after a GOAWAY that carries an error;
- fed whole or cut anywhere, a passive server (one that answers nothing) gives the same events
  and owes the same bytes (the core handles a frame only once it is complete); updates of one
  window in a row count as one event, as one read reports them, however the reads fell;
- a server that answers every request, reads every body and resets some streams keeps the
  same invariants (only ``ValueError``, for a stream that cannot send, escapes its calls).

HPACK (``check_hpack``): a block decodes to a list of byte pairs within max_header_list_size,
or raises HPACKError (HeaderListTooLarge when only the size is wrong); a block we accept, the
hpack library decodes to the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import hpack
from hyperframe.exceptions import HyperframeError
from hyperframe.frame import (
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from fastasgi._h2connection import H2Connection, H2Settings
from fastasgi._h2events import (
    ConnectionTerminated,
    DataReceived,
    PingAcked,
    RequestReceived,
    SettingsAcked,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from fastasgi._h2frames import PREFACE, encode_settings
from fastasgi._hpack import Decoder, HeaderListTooLarge, HPACKError
from tests.fuzz.checks import split

CLIENT_START = PREFACE + encode_settings([])
SERVER_FRAME_TYPES = (DataFrame, HeadersFrame, RstStreamFrame, SettingsFrame, PingFrame,
                      GoAwayFrame, WindowUpdateFrame)
MAX_FRAME_PAYLOAD = (1 << 24) - 1
NO_ERROR = 0
RESPONSE = [(b":status", b"200"), (b"content-type", b"text/plain")]


@dataclass(frozen=True)
class Config:
    settings: dict[str, int | float]
    respond: bool       # answer requests, read bodies, reset every third stream


class FixedClock:
    """Time stands still: every flood bound counts the whole input as one window."""

    def __call__(self) -> float:
        return 0.0


def describe(event: object) -> tuple[object, ...]:
    """What an event says, comparable across runs."""
    if isinstance(event, RequestReceived | TrailersReceived):
        return (type(event).__name__, event.stream_id, tuple(event.headers),
                getattr(event, "end_stream", True))
    if isinstance(event, DataReceived):
        return ("data", event.stream_id, event.data, event.end_stream,
                event.flow_controlled_length)
    if isinstance(event, StreamReset):
        return ("reset", event.stream_id, event.error_code, event.remote)
    if isinstance(event, ConnectionTerminated):
        return ("terminated", event.error_code, event.last_stream_id, event.remote)
    if isinstance(event, WindowUpdated):
        return ("window", event.stream_id)
    if isinstance(event, PingAcked):
        return ("ping-acked", event.opaque_data)
    assert isinstance(event, SettingsAcked), f"undocumented event {event!r}"
    return ("settings-acked",)


def check_event(event: object, settings: H2Settings) -> None:
    if isinstance(event, RequestReceived | TrailersReceived):
        assert event.stream_id % 2 == 1
        assert all(type(n) is bytes and type(v) is bytes for n, v in event.headers)
        size = sum(len(n) + len(v) + 32 for n, v in event.headers)
        assert size <= settings.max_header_list_size
    if isinstance(event, RequestReceived):
        names = [name for name, _ in event.headers]
        assert {b":method", b":scheme", b":path"} <= set(names)
        pseudo = [name.startswith(b":") for name in names]
        assert pseudo == sorted(pseudo, reverse=True), "pseudo-header fields come first"
    elif isinstance(event, DataReceived):
        assert event.stream_id % 2 == 1
        assert len(event.data) <= event.flow_controlled_length <= MAX_FRAME_PAYLOAD
    elif isinstance(event, StreamReset):
        assert event.stream_id > 0


class Server:
    """One connection fed piece by piece, with the harness playing the application."""

    def __init__(self, config: Config) -> None:
        self.settings = H2Settings(**config.settings)
        self.respond = config.respond
        self.conn = H2Connection(self.settings, clock=FixedClock())
        self.conn.initiate()
        self.out = bytearray(self.conn.data_to_send())
        self.events: list[tuple[object, ...]] = []
        self.terminated = False

    def feed(self, data: bytes) -> None:
        events = self.conn.receive_data(data)
        if self.terminated:
            assert events == [], "events after the connection ended"
        for event in events:
            check_event(event, self.settings)
            said = describe(event)
            if not (said[0] == "window" and self.events and self.events[-1] == said):
                self.events.append(said)
            if isinstance(event, ConnectionTerminated) and not event.remote:
                assert self.conn.closed
                self.terminated = True
            elif self.respond:
                self.act(event)
        if self.conn.closed:
            self.terminated = True
        self.out += self.conn.data_to_send()

    def act(self, event: object) -> None:
        conn = self.conn
        try:
            if isinstance(event, RequestReceived):
                if event.stream_id % 3 == 0:
                    conn.reset_stream(event.stream_id)
                else:
                    conn.send_headers(event.stream_id, RESPONSE)
                    conn.send_data(event.stream_id, b"x" * (event.stream_id % 200),
                                   end_stream=event.end_stream)
            elif isinstance(event, DataReceived):
                conn.acknowledge_received_data(event.stream_id, event.flow_controlled_length)
                if event.end_stream:
                    conn.send_data(event.stream_id, event.data[:100], end_stream=True)
            elif isinstance(event, WindowUpdated) and event.stream_id:
                conn.send_data(event.stream_id, b"w" * 10)
        except ValueError:
            pass                       # the stream cannot send: documented, and harmless


def parse_server_frames(out: bytes) -> list[Frame]:
    """Our output as hyperframe reads it; every frame complete and well-formed."""
    frames = []
    view = memoryview(out)
    pos = 0
    while pos < len(out):
        assert len(out) - pos >= 9, "a truncated frame header"
        frame, length = Frame.parse_frame_header(view[pos:pos + 9])
        assert len(out) - pos - 9 >= length, "a truncated frame"
        try:
            frame.parse_body(view[pos + 9:pos + 9 + length])
        except HyperframeError as exc:
            raise AssertionError(f"malformed {type(frame).__name__}: {exc}") from exc
        assert isinstance(frame, SERVER_FRAME_TYPES), f"a server never sends {frame!r}"
        frames.append(frame)
        pos += 9 + length
    return frames


def check_output(out: bytes) -> None:
    frames = parse_server_frames(out)
    assert frames and isinstance(frames[0], SettingsFrame) and "ACK" not in frames[0].flags
    decoder = hpack.Decoder()
    decoder.max_header_list_size = 1 << 30
    for n, frame in enumerate(frames):
        if isinstance(frame, HeadersFrame):
            assert "END_HEADERS" in frame.flags      # our responses are small
            fields = decoder.decode(frame.data, raw=True)
            assert fields[0][0] == b":status" and fields[0][1].isdigit()
            assert frame.stream_id % 2 == 1
        elif isinstance(frame, DataFrame | RstStreamFrame):
            assert frame.stream_id % 2 == 1
        elif isinstance(frame, GoAwayFrame) and frame.error_code != NO_ERROR:
            assert n == len(frames) - 1, "frames after a GOAWAY that ends the connection"


def run(stream: bytes, pieces: Sequence[bytes], config: Config) -> Server:
    server = Server(config)
    server.feed(CLIENT_START)
    for piece in pieces:
        server.feed(piece)
    check_output(bytes(server.out))
    return server


def check_connection(stream: bytes, cuts: Sequence[int], config: Config) -> None:
    passive = Config(config.settings, respond=False)
    whole = run(stream, [stream], passive)
    cut = run(stream, split(stream, cuts), passive)
    assert cut.events == whole.events
    assert cut.out == whole.out
    if len(stream) <= 256:
        one_by_one = run(stream, [stream[i:i + 1] for i in range(len(stream))], passive)
        assert one_by_one.events == whole.events
    if config.respond:
        run(stream, split(stream, cuts), config)


def check_hpack(blocks: Sequence[bytes], max_header_list_size: int) -> None:
    """Decode ``blocks`` in order on one connection's decoder, ours beside the library's."""
    ours = Decoder(max_header_list_size)
    library = hpack.Decoder()
    library.max_header_list_size = 1 << 30        # ours applies the bound; compare the rest
    for block in blocks:
        try:
            fields = ours.decode(block)
        except HeaderListTooLarge:
            # The whole block was decoded, so the table is still usable; the library agrees
            # on what the list holds, which is larger than allowed.
            listed = library.decode(block, raw=True)
            assert sum(len(n) + len(v) + 32 for n, v in listed) > max_header_list_size
            continue
        except HPACKError:
            return                                  # the connection would end here
        assert all(type(n) is bytes and type(v) is bytes for n, v in fields)
        assert sum(len(n) + len(v) + 32 for n, v in fields) <= max_header_list_size
        assert [(n, v) for n, v in library.decode(block, raw=True)] == fields
