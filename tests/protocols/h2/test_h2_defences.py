"""The HTTP/2 defences against abusive clients, over a real socket to a running server: Rapid
Reset (CVE-2023-44487) and its cousin, a stream of malformed requests; CONTINUATION, PING,
SETTINGS and empty-DATA floods; HPACK bombs and table-size updates beyond our limit; and a
client that never opens its flow-control window.

The bounds are the core's (``fastasgi._h2connection``): each flood is sent up to its bound,
where the connection must still answer, and then one frame past it, where it must end with
GOAWAY. After every attack a new, well-behaved connection to the same server gets its 200.
(Streams beyond SETTINGS_MAX_CONCURRENT_STREAMS: test_h2_settings_and_shutdown.py.)"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from h2.errors import ErrorCodes
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
)

from fastasgi._h2connection import (
    DEFAULT_MAX_CONCURRENT_STREAMS,
    DEFAULT_MAX_CONTROL_FRAMES,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_HEADER_LIST_SIZE,
    DEFAULT_MAX_RESETS,
)
from fastasgi.errors import ClientDisconnected
from fastasgi.protocols.connection import WRITE_STALL_TICKS
from fastasgi.protocols.h2 import H2Protocol
from tests.protocols.h2.client import (
    DEADLINE,
    REQUEST,
    RawClient,
    is_ping_ack,
    of_type,
    status_of_a_fresh_get,
)
from tests.support import apps
from tests.support.server import Running, serve
from tests.support.websocket import on_loop, wait_for

# Every control frame counts against one bound, the client's SETTINGS in its preface too.
CONTROL_FRAMES_AFTER_PREFACE = DEFAULT_MAX_CONTROL_FRAMES - 1
POST = [(":method", "POST"), *REQUEST[1:]]


def assert_calm_goaway(client: RawClient) -> GoAwayFrame:
    goaway = client.goaway_then_close()
    assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    return goaway


def assert_still_serving(srv: Running) -> None:
    assert status_of_a_fresh_get(srv.url) == 200


def test_rapid_reset_ends_the_connection_with_enhance_your_calm() -> None:
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        pairs = []
        for stream_id in range(1, 2 * DEFAULT_MAX_RESETS, 2):
            pairs += [client.headers(stream_id), RstStreamFrame(stream_id, ErrorCodes.CANCEL)]
        client.send(*pairs, PingFrame(0, b"atbound!"))
        frames = client.frames_until(is_ping_ack(b"atbound!"))
        assert not of_type(frames, GoAwayFrame)          # at the bound: still served
        last = 2 * DEFAULT_MAX_RESETS + 1
        client.send(client.headers(last), RstStreamFrame(last, ErrorCodes.CANCEL))
        goaway = assert_calm_goaway(client)
        assert goaway.last_stream_id == last
        assert_still_serving(srv)


@pytest.mark.parametrize("fields", [
    [*REQUEST[:2], (":path", "no-slash"), REQUEST[3]],
    [(":method", "G T"), *REQUEST[1:]],
    [*REQUEST, ("content-length", "12")],              # with END_STREAM: no body comes
    [*REQUEST, ("content-length", "x")],
], ids=["path", "method", "length-without-body", "bad-length"])
def test_malformed_requests_count_as_stream_errors(fields: list[tuple[str, str]]) -> None:
    # Each such request is reset with PROTOCOL_ERROR, a stream error the client provoked: they
    # count against the same bound as its resets. In batches within the concurrency limit, so
    # that no stream is refused for concurrency instead.
    stream_ids = list(range(1, 2 * DEFAULT_MAX_RESETS, 2))
    batch = DEFAULT_MAX_CONCURRENT_STREAMS // 2
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        for start in range(0, len(stream_ids), batch):
            sent = stream_ids[start:start + batch]
            client.send(*[client.headers(stream_id, fields) for stream_id in sent])
            resets = []
            while len(resets) < len(sent):
                frames = client.frames_until(lambda f: isinstance(f, RstStreamFrame))
                assert not of_type(frames, GoAwayFrame)
                resets.append((frames[-1].stream_id, frames[-1].error_code))
            assert resets == [(stream_id, ErrorCodes.PROTOCOL_ERROR) for stream_id in sent]
        client.send(client.headers(2 * DEFAULT_MAX_RESETS + 1, fields))
        assert_calm_goaway(client)
        assert_still_serving(srv)


def test_ping_flood_ends_the_connection_with_enhance_your_calm() -> None:
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        pings = [PingFrame(0, n.to_bytes(8, "big")) for n in range(CONTROL_FRAMES_AFTER_PREFACE)]
        client.send(*pings)
        frames = client.frames_until(is_ping_ack(pings[-1].opaque_data))
        assert len([f for f in of_type(frames, PingFrame) if "ACK" in f.flags]) == len(pings)
        assert not of_type(frames, GoAwayFrame)
        client.send(PingFrame(0, b"one more"))
        assert_calm_goaway(client)
        assert_still_serving(srv)


def test_settings_flood_ends_the_connection_with_enhance_your_calm() -> None:
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        client.send(*[SettingsFrame(0) for _ in range(CONTROL_FRAMES_AFTER_PREFACE - 1)],
                    PingFrame(0, b"atbound!"))
        frames = client.frames_until(is_ping_ack(b"atbound!"))
        # Every SETTINGS acknowledged (ours in the server preface is not an ACK).
        acks = [f for f in of_type(frames, SettingsFrame) if "ACK" in f.flags]
        assert len(acks) == CONTROL_FRAMES_AFTER_PREFACE
        assert not of_type(frames, GoAwayFrame)
        client.send(SettingsFrame(0))
        assert_calm_goaway(client)
        assert_still_serving(srv)


def test_empty_data_flood_ends_the_connection_with_enhance_your_calm() -> None:
    with serve(apps.echo_body) as srv, RawClient.open(srv) as client:
        client.send(client.headers(1, POST, end_stream=False),
                    *[DataFrame(1, b"") for _ in range(CONTROL_FRAMES_AFTER_PREFACE - 1)],
                    PingFrame(0, b"atbound!"))
        frames = client.frames_until(is_ping_ack(b"atbound!"))
        assert not of_type(frames, GoAwayFrame)
        client.send(DataFrame(1, b""))
        goaway = assert_calm_goaway(client)
        assert goaway.last_stream_id == 1
        assert_still_serving(srv)


def test_continuation_flood_ends_the_connection_before_the_block_ends() -> None:
    # A field block that never ends: fragments of one huge literal field, sent until the server
    # has had four times the most it takes. It must not wait for END_HEADERS.
    fragment = DEFAULT_MAX_FRAME_SIZE
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        block = client.encoder.encode(
            [*REQUEST, ("x-pad", "p" * (4 * DEFAULT_MAX_HEADER_LIST_SIZE))], huffman=False)
        client.send(HeadersFrame(1, block[:fragment], flags=["END_STREAM"]))
        try:
            for start in range(fragment, len(block) - fragment, fragment):
                client.send(ContinuationFrame(1, block[start:start + fragment]))
        except OSError:
            pass                                          # closed while we were still sending
        assert_calm_goaway(client)
        assert_still_serving(srv)


def test_empty_continuation_flood_ends_the_connection_with_enhance_your_calm() -> None:
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        # At the bound: the block ends, and its request is served.
        client.send(HeadersFrame(1, client.encoder.encode(REQUEST), flags=["END_STREAM"]),
                    *[ContinuationFrame(1, b"") for _ in range(CONTROL_FRAMES_AFTER_PREFACE)],
                    ContinuationFrame(1, b"", flags=["END_HEADERS"]))
        frames = client.frames_until(lambda f: isinstance(f, DataFrame) and f.stream_id == 1
                                     and "END_STREAM" in f.flags)
        assert not of_type(frames, GoAwayFrame)
        assert dict(client.responses[1])[":status"] == "200"
        client.send(HeadersFrame(3, client.encoder.encode(REQUEST), flags=["END_STREAM"]),
                    ContinuationFrame(3, b""))
        assert_calm_goaway(client)
        assert_still_serving(srv)


def test_hpack_bomb_gets_431_and_the_connection_goes_on() -> None:
    paths: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        paths.append(scope["path"])
        await apps.hello(scope, receive, send)

    # One field of about 4 KB enters the dynamic table; each repetition is then one octet that
    # decodes to the whole field again (RFC 7541 §4.1: 32 more octets each).
    bomb = ("x-bomb", "b" * 4000)
    repeats = DEFAULT_MAX_HEADER_LIST_SIZE // (len(bomb[0]) + len(bomb[1]) + 32) + 1
    with serve(app) as srv, RawClient.open(srv) as client:
        bombed = client.headers(1, [*REQUEST, *[bomb] * repeats])
        assert len(bombed.data) < DEFAULT_MAX_HEADER_LIST_SIZE // 8   # small on the wire
        client.send(bombed)
        client.frames_until(lambda f: isinstance(f, HeadersFrame) and f.stream_id == 1)
        assert client.responses[1] == [(":status", "431")]
        # The table stayed in step: the next block, which refers to it, still decodes.
        client.send(client.headers(3, [*REQUEST[:2], (":path", "/after"), REQUEST[3], bomb]))
        frames = client.frames_until(lambda f: isinstance(f, DataFrame) and f.stream_id == 3
                                     and "END_STREAM" in f.flags)
        assert not of_type(frames, GoAwayFrame)
        assert dict(client.responses[3])[":status"] == "200"
        assert_still_serving(srv)
    assert paths == ["/after", "/"]                       # the bomb never reached the app


def test_table_size_update_above_our_limit_is_a_compression_error() -> None:
    with serve(apps.hello) as srv, RawClient.open(srv) as client:
        # We advertise no SETTINGS_HEADER_TABLE_SIZE: the limit is the default 4096 octets.
        client.encoder.header_table_size = 8192
        client.send(client.headers(1))
        goaway = client.goaway_then_close()
        assert goaway.error_code == ErrorCodes.COMPRESSION_ERROR
        assert_still_serving(srv)


def test_a_window_never_opened_resets_the_stream_after_the_stall_ticks() -> None:
    outcome: list[BaseException] = []
    finished = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"w" * 1000})
        except Exception as exc:  # noqa: BLE001 -- what send() raised is the result
            outcome.append(exc)
        finally:
            finished.set()

    with serve(app) as srv, RawClient.open(srv, settings={
            SettingsFrame.INITIAL_WINDOW_SIZE: 0}) as client:
        client.send(client.headers(1))
        client.frames_until(lambda f: isinstance(f, HeadersFrame) and f.stream_id == 1)

        def waiting_stream() -> Any:
            for connection in srv.server.state.connections:
                if isinstance(connection, H2Protocol) and 1 in connection.streams:
                    stream = connection.streams[1]
                    if stream.window_waiter is not None:
                        return connection, stream
            return None

        wait_for(srv, waiting_stream)
        connection, stream = on_loop(srv, waiting_stream)
        # The server's tick would get there after WRITE_STALL_TICKS seconds; call it as if it
        # had. At the bound the stream still waits; one tick past it, it is reset.
        on_loop(srv, lambda: connection.on_tick(stream.window_since + WRITE_STALL_TICKS))
        assert on_loop(srv, lambda: 1 in connection.streams)
        on_loop(srv, lambda: connection.on_tick(stream.window_since + WRITE_STALL_TICKS + 1))
        frames = client.frames_until(lambda f: isinstance(f, RstStreamFrame))
        assert (frames[-1].stream_id, frames[-1].error_code) == (1, ErrorCodes.CANCEL)
        assert not of_type(frames, DataFrame)
        assert finished.wait(DEADLINE)
        assert_still_serving(srv)
    assert [type(exc) for exc in outcome] == [ClientDisconnected]

