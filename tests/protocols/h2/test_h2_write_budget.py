"""Large HTTP/2 bodies that become ready together are written a budget per turn of the event loop
(fastasgi/protocols/write_budget.pyx), however wide the client opened its flow-control windows.

Each connection is an HTTPProtocol that hands its recording transport over to HTTP/2 at the
preface; all share one ServerState on a real event loop, and a callback that schedules itself
again each time counts the loop's turns. The client's frames are built, and the server's read
back, with hyperframe and hpack."""

from __future__ import annotations

import asyncio
from typing import Any

import hpack
import pytest
from hyperframe.frame import (
    DataFrame,
    Frame,
    HeadersFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from fastasgi._h2frames import PREFACE
from fastasgi.protocols.state import ServerState
from fastasgi.protocols.write_budget import BYTES_PER_TURN, LARGE_WRITE, LargeWriteBudget
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter

BIG = bytes(range(256)) * 4096    # 1 MiB, the whole budget of a turn; a piece out of place shows
SMALL = b"small"
WINDOW = 2**31 - 1                # the largest window a client may open (RFC 9113 §6.9.1)
CANCEL = 8


class Client:
    """One client connection: the streams it asked for and the frames the server wrote to it,
    each with the turn of its write."""

    def __init__(self, paths: list[str]) -> None:
        self.transport: RecordingTransport
        self.encoder = hpack.Encoder()
        self.stream_of = {path: 1 + 2 * index for index, path in enumerate(paths)}
        self.opening = PREFACE + b"".join(frame.serialize() for frame in [
            SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: WINDOW}),
            WindowUpdateFrame(0, window_increment=WINDOW - 65535),
            *(HeadersFrame(stream_id, self.encoder.encode(request(path)),
                           flags=["END_HEADERS", "END_STREAM"])
              for path, stream_id in self.stream_of.items()),
        ])

    def frames(self) -> list[tuple[int, Frame]]:
        """(turn, frame) for each frame the server wrote; a write holds whole frames."""
        frames = []
        for turn, data in zip(self.transport.turns, self.transport.writes):
            view = memoryview(data)
            while view:
                frame, length = Frame.parse_frame_header(view[:9])
                frame.parse_body(view[9:9 + length])
                frames.append((turn, frame))
                view = view[9 + length:]
        return frames

    def body_of(self, path: str) -> tuple[bytes, set[int]]:
        """The DATA the server sent on ``path``'s stream, and the turns it was written in;
        asserts that the stream ended with it."""
        stream_id = self.stream_of[path]
        data = [(turn, frame) for turn, frame in self.frames()
                if isinstance(frame, DataFrame) and frame.stream_id == stream_id]
        if data:
            assert "END_STREAM" in data[-1][1].flags
        return b"".join(frame.data for _, frame in data), {turn for turn, _ in data}


def request(path: str) -> list[tuple[str, str]]:
    return [(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "t")]


def app_recording(outcomes: dict[str, str]) -> Any:
    """``/mib/...``: 1 MiB in one message, ``/3mib``: 3 MiB; anything else: five bytes.
    Records what send() did, by path: "sent", or the exception it raised."""
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        body = BIG if path.startswith("/mib") else BIG * 3 if path == "/3mib" else SMALL
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(body))]})
        try:
            await send({"type": "http.response.body", "body": body})
        except OSError as exc:
            outcomes[scope["path"]] = type(exc).__name__
        else:
            outcomes[scope["path"]] = "sent"
    return app


def serve_together(connections: list[list[str]], leave: str | None = None,
                   how: str = "reset", ns_per_mib: int = 0,
                   ) -> tuple[list[Client], dict[str, str]]:
    """One client connection per list of paths, every request received in the same turn;
    what each client got, and the apps' outcomes by path. ``leave``: the path whose client
    resets its stream (or closes its connection: ``how="close"``) once a large write went out.
    ``ns_per_mib``: the pace the server's write budget measured before (a recording transport
    keeps every byte, so no write changes it)."""
    clients = [Client(paths) for paths in connections]
    outcomes: dict[str, str] = {}
    every_path = [path for paths in connections for path in paths]

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)
        state = ServerState(loop, app_recording(outcomes), connection_settings(access_log=False))
        if ns_per_mib:
            state.large_writes.measured(len(BIG), ns_per_mib)
        for client in clients:
            client.transport = RecordingTransport(turns)
            http_connection(state, client.transport)
        for client in clients:
            client.transport.protocol.data_received(client.opening)
        left = leave is None
        for _ in range(100):
            if not left and any(len(data) >= LARGE_WRITE
                                for client in clients for data in client.transport.writes):
                [client] = [client for client in clients if leave in client.stream_of]
                if how == "reset":
                    client.transport.protocol.data_received(
                        RstStreamFrame(client.stream_of[leave], error_code=CANCEL).serialize())
                else:
                    client.transport.protocol.connection_lost(None)
                left = True
            if len(outcomes) == len(every_path):
                break
            await asyncio.sleep(0)
        for _ in range(3):   # the frames flush_soon writes in a later turn
            await asyncio.sleep(0)
        turns.handle.cancel()
        for client in clients:
            client.transport.protocol.connection_lost(None)

    asyncio.run(run())
    return clients, outcomes


@pytest.mark.parametrize("layout", ["streams", "connections"])
def test_large_bodies_ready_together_go_out_one_per_turn_in_order_and_whole(layout: str) -> None:
    paths = [f"/mib/{index}" for index in range(4)]
    clients, outcomes = serve_together([paths] if layout == "streams" else [[p] for p in paths])
    turns_of = []
    for path in paths:
        [client] = [client for client in clients if path in client.stream_of]
        body, turns = client.body_of(path)
        assert body == BIG
        turns_of.append(turns)
    # A 1 MiB body fills the budget of its turn: each goes in a turn of its own, whole, in the
    # order the requests came.
    assert all(len(turns) == 1 for turns in turns_of), turns_of
    assert [min(turns) for turns in turns_of] == sorted({min(turns) for turns in turns_of})
    assert outcomes == dict.fromkeys(paths, "sent")


def test_a_small_response_does_not_wait_behind_large_ones() -> None:
    paths = ["/mib/0", "/mib/1", "/mib/2", "/small"]
    [client], outcomes = serve_together([paths])
    large_turns = [min(client.body_of(path)[1]) for path in paths[:3]]
    body, small_turns = client.body_of("/small")
    assert body == SMALL
    # The small body goes in the turn after its app sent it (with the other streams' last
    # frames), before the second large body, which waited for the first one's budget.
    assert large_turns[0] < large_turns[1] < large_turns[2]
    assert max(small_turns) < large_turns[1], (small_turns, large_turns)
    assert outcomes == dict.fromkeys(paths, "sent")


def test_a_body_larger_than_the_budget_goes_out_a_budget_per_turn() -> None:
    [client], outcomes = serve_together([["/mib/0", "/3mib"]])
    written: dict[int, int] = {}
    for turn, frame in client.frames():
        if isinstance(frame, DataFrame):
            written[turn] = written.get(turn, 0) + len(frame.data)
    # The windows would take all 4 MiB at once; a call of the core gets a budget's worth.
    assert sorted(written.values()) == [BYTES_PER_TURN] * 4, written
    assert client.body_of("/3mib")[0] == BIG * 3
    assert outcomes == {"/mib/0": "sent", "/3mib": "sent"}


def test_a_slow_kernel_gets_less_data_per_turn() -> None:
    slow = 8_000_000  # 8 ms per MiB, as a kernel short of memory takes
    turn_bytes = paced_turn_bytes(slow)
    assert turn_bytes < BYTES_PER_TURN // 4
    [client], outcomes = serve_together([["/3mib"]], ns_per_mib=slow)
    written: dict[int, int] = {}
    for turn, frame in client.frames():
        if isinstance(frame, DataFrame):
            written[turn] = written.get(turn, 0) + len(frame.data)
    # The windows would take all 3 MiB at once; a call of the core gets the measured budget.
    assert max(written.values()) <= turn_bytes, written
    assert len(written) >= len(BIG) * 3 // turn_bytes, written
    assert client.body_of("/3mib")[0] == BIG * 3
    assert outcomes == {"/3mib": "sent"}


def paced_turn_bytes(ns_per_mib: int) -> int:
    """The budget of a turn once a write of a MiB was measured at ``ns_per_mib``."""
    async def run() -> int:
        budget = LargeWriteBudget(asyncio.get_running_loop())
        budget.measured(len(BIG), ns_per_mib)
        return budget.turn_bytes
    return asyncio.run(run())


@pytest.mark.parametrize("how", ["reset", "close"])
def test_a_client_gone_while_its_body_waits_gets_nothing_and_send_raises(how: str) -> None:
    paths = ["/mib/0", "/mib/1", "/mib/2"]
    connections = [paths] if how == "reset" else [[path] for path in paths]
    clients, outcomes = serve_together(connections, leave="/mib/2", how=how)
    # The third body was still waiting for a turn when its client left.
    assert clients[-1].body_of("/mib/2")[0] == b""
    for path in paths[:2]:
        [client] = [client for client in clients if path in client.stream_of]
        assert client.body_of(path)[0] == BIG
    assert outcomes == {"/mib/0": "sent", "/mib/1": "sent", "/mib/2": "ClientDisconnected"}
