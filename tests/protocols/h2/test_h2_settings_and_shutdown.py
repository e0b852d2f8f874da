"""What the --h2-* settings, --no-http2 and a graceful stop do on the wire, seen by the h2
library as a client over a real socket; and the access line of an HTTP/2 request."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import httpx
import hyperframe.frame
import pytest

from tests.protocols.h2.client import DEADLINE, RawClient, events_until, start_client
from tests.support import apps
from tests.support.server import serve


def test_h2_settings_are_advertised_in_the_server_preface() -> None:
    with serve(apps.hello, h2_max_concurrent_streams=7, h2_initial_window_size=1 << 20,
               h2_max_frame_size=32768, h2_max_header_list_size=4096) as srv, \
            srv.connect(timeout=DEADLINE) as sock:
        client = start_client(sock)
        events_until(sock, client, lambda seen: any(
            isinstance(e, h2.events.RemoteSettingsChanged) for e in seen))
    remote = client.remote_settings
    assert remote[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 7
    assert remote[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == 1 << 20
    assert remote[h2.settings.SettingCodes.MAX_FRAME_SIZE] == 32768
    assert remote[h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE] == 4096
    assert remote[h2.settings.SettingCodes.ENABLE_PUSH] == 0


def test_a_client_header_table_size_above_2_31_is_taken() -> None:
    # Any 32-bit value is a valid SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2); 2**32-1 once
    # escaped the core as ValueError and cost the client its connection.
    with serve(apps.hello) as srv, RawClient.open(srv, settings={
            hyperframe.frame.SettingsFrame.HEADER_TABLE_SIZE: 2**32 - 1}) as client:
        client.send(client.headers(1))
        frames = client.frames_until(lambda f: isinstance(f, hyperframe.frame.DataFrame)
                                     and "END_STREAM" in f.flags)
    assert dict(client.responses[1])[":status"] == "200"
    assert b"".join(f.data for f in frames if isinstance(f, hyperframe.frame.DataFrame)) == (
        b"Hello, world!")


def test_streams_beyond_max_concurrent_streams_are_refused() -> None:
    release = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        for _ in range(1000):
            if release.is_set():
                break
            await asyncio.sleep(0.01)
        await apps.hello(scope, receive, send)

    with serve(app, h2_max_concurrent_streams=1) as srv, srv.connect(timeout=DEADLINE) as sock:
        # Both streams go out before the client learns the limit: the second is refused
        # (§5.1.2).
        client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        client.initiate_connection()
        for stream_id in (1, 3):
            client.send_headers(stream_id, [(":method", "GET"), (":scheme", "http"),
                                            (":path", "/"), (":authority", "t")],
                                end_stream=True)
        sock.sendall(client.data_to_send())
        seen = events_until(sock, client, lambda seen: any(
            isinstance(e, h2.events.StreamReset) for e in seen))
        release.set()
        seen += events_until(sock, client, lambda seen: any(
            isinstance(e, h2.events.StreamEnded) for e in seen))
    [reset] = [e for e in seen if isinstance(e, h2.events.StreamReset)]
    assert (reset.stream_id, reset.error_code) == (3, h2.errors.ErrorCodes.REFUSED_STREAM)
    assert any(isinstance(e, h2.events.StreamEnded) and e.stream_id == 1 for e in seen)


def test_graceful_stop_sends_goaway_and_lets_the_open_stream_finish() -> None:
    running, release = threading.Event(), threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        running.set()
        for _ in range(1000):
            if release.is_set():
                break
            await asyncio.sleep(0.01)
        await apps.hello(scope, receive, send)

    with serve(app) as srv, srv.connect(timeout=DEADLINE) as sock:
        client = start_client(sock)
        client.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/"),
                                (":authority", "t")], end_stream=True)
        sock.sendall(client.data_to_send())
        assert running.wait(DEADLINE)
        srv.server.should_exit = True
        seen = events_until(sock, client, lambda seen: any(
            isinstance(e, h2.events.ConnectionTerminated) for e in seen))
        release.set()
        # After GOAWAY the h2 library takes no more frames; hyperframe reads what follows.
        rest = bytearray()
        while data := sock.recv(65536):   # until the server closes
            rest += data
    [goaway] = [e for e in seen if isinstance(e, h2.events.ConnectionTerminated)]
    assert goaway.error_code == h2.errors.ErrorCodes.NO_ERROR
    assert goaway.last_stream_id == 1
    frames = []
    while rest:
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(rest[:9]))
        frame.parse_body(memoryview(rest[9:9 + length]))
        frames.append(frame)
        del rest[:9 + length]
    data_frames = [f for f in frames if isinstance(f, hyperframe.frame.DataFrame)]
    assert b"".join(f.data for f in data_frames) == b"Hello, world!"
    assert {f.stream_id for f in data_frames} == {1}
    assert "END_STREAM" in data_frames[-1].flags


def test_access_line_names_http2(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="fastasgi.access"), \
            serve(apps.hello, access_log=True) as srv, \
            httpx.Client(http1=False, http2=True, timeout=DEADLINE) as client:
        client.get(f"{srv.url}/logged?x=1")
        for _ in range(500):
            records = [r for r in caplog.records if r.name == "fastasgi.access"]
            if records:
                break
            threading.Event().wait(0.01)
    [record] = records
    assert record.getMessage().endswith(' - "GET /logged?x=1 HTTP/2" 200 OK')
