"""``http.response.pathsend`` files that go out together are written a budget per turn of the
event loop (fastasgi/protocols/write_budget.pyx): in pieces through the transport (TLS, or no
sendfile), and zero-copy (os.sendfile) over real socket pairs.

The connections share one ServerState on a real event loop. The file's pieces are read by an
executor that runs each read at once, so a piece is ready a known number of turns later; a
callback that schedules itself again each time counts the loop's turns."""

from __future__ import annotations

import asyncio
import os
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fastasgi.protocols.filesend import PIECE
from fastasgi.protocols.http import HTTPProtocol
from fastasgi.protocols.state import ServerState
from fastasgi.protocols.write_budget import BYTES_PER_TURN, LARGE_WRITE
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport
from tests.support.turns import InlineExecutor, TurnCounter

MIB = 1 << 20
# Eight files ready at once: eight pieces of 256 KiB, or eight sendfile calls that each fill a
# socket pair's buffer (256 KiB), are 2 MiB in one turn without the budget.
FILES = 8
TURNS_GUARD = 10_000


class Files:
    """The files the app sends, in one folder, by the request path that names them: FILES of
    1 MiB and a small one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.contents = {f"/file/{i}": os.urandom(MIB) for i in range(FILES)}
        self.contents["/small"] = b"small file"
        for path, data in self.contents.items():
            self.path_of(path).write_bytes(data)

    def path_of(self, request_path: str) -> Path:
        return self.folder / request_path.strip("/").replace("/", "_")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("files"))


def file_app(files: Files, outcomes: dict[str, str]) -> Any:
    """Sends the file the request's path names; records what send() did, by path: "sent", or
    the exception it raised."""
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await send({"type": "http.response.pathsend",
                        "path": str(files.path_of(scope["path"]))})
        except OSError as exc:
            outcomes[scope["path"]] = type(exc).__name__
        else:
            outcomes[scope["path"]] = "sent"
    return app


class Served:
    """What the clients got: each response, the bytes of large writes per turn (pieces through
    the transport, or sendfile calls) and the turn of each response's first body write."""

    def __init__(self, count: int) -> None:
        self.responses = [bytearray() for _ in range(count)]
        self.large_by_turn: Counter[int] = Counter()
        self.first_body_turn: list[int | None] = [None] * count
        self.outcomes: dict[str, str] = {}
        self.largest_write = 0
        self.turn_bytes = BYTES_PER_TURN  # the budget of a turn the server began with

    def body_written(self, index: int, turn: int, size: int) -> None:
        if self.first_body_turn[index] is None:
            self.first_body_turn[index] = turn
        if size >= LARGE_WRITE:
            self.large_by_turn[turn] += size
        self.largest_write = max(self.largest_write, size)

    def body(self, index: int) -> bytes:
        head, _, body = bytes(self.responses[index]).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        return body


async def serve_until_done(protocols: list[Any], paths: list[str], served: Served,
                           lose: int | None) -> None:
    """Each request received in the same turn, then turns until every app is done. ``lose``:
    the index of a connection whose client leaves once another connection made a large
    write (its own file must be waiting for the budget then)."""
    for protocol, path in zip(protocols, paths):
        protocol.data_received(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    # A hang guard, not a bound on the turns: over a socket pair the budget follows the real
    # kernel's pace, and a busy machine's makes it as small as 32 KiB a turn (256 turns for
    # these files, with the waits for the sockets to drain besides). A quiet one takes ~40.
    for _ in range(TURNS_GUARD):
        if lose is not None and served.large_by_turn:
            assert served.first_body_turn[lose] is None
            protocols[lose].connection_lost(None)
            lose = None
        if len(served.outcomes) == len(paths):
            return
        await asyncio.sleep(0)
    raise AssertionError(f"not done after {TURNS_GUARD} turns: {served.outcomes}")


def serve_in_pieces(files: Files, paths: list[str], lose: int | None = None,
                    ns_per_mib: int = 0) -> Served:
    """One connection per path over a recording transport (no socket: the file goes through
    the transport, in pieces). ``ns_per_mib``: the pace the server's write budget measured
    before (a recording transport keeps every byte, so no write changes it)."""
    served = Served(len(paths))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(InlineExecutor())
        turns = TurnCounter(loop)
        state = ServerState(loop, file_app(files, served.outcomes),
                            connection_settings(access_log=False))
        if ns_per_mib:
            state.large_writes.measured(MIB, ns_per_mib)
            served.turn_bytes = state.large_writes.turn_bytes
        transports = [PieceRecorder(turns, served, index) for index in range(len(paths))]
        protocols = [HTTPProtocol(state) for _ in paths]
        for protocol, transport in zip(protocols, transports):
            protocol.connection_made(transport)
        await serve_until_done(protocols, paths, served, lose)
        turns.handle.cancel()
        for protocol, transport in zip(protocols, transports):
            protocol.connection_lost(None)
            served.responses[transport.index] += b"".join(transport.writes)

    asyncio.run(run())
    return served


class PieceRecorder(RecordingTransport):
    """Tells ``served`` of each body write as it comes (the head is the first write)."""

    def __init__(self, turns: TurnCounter, served: Served, index: int) -> None:
        super().__init__(turns)
        self.served = served
        self.index = index

    def write(self, data: Any) -> None:
        super().write(data)
        self.written()

    def writelines(self, list_of_data: Any) -> None:
        super().writelines(list_of_data)  # a large piece, written as the budget times it
        self.written()

    def written(self) -> None:
        if len(self.writes) > 1:
            self.served.body_written(self.index, self.turns[-1], len(self.writes[-1]))


def serve_zero_copy(files: Files, paths: list[str], monkeypatch: pytest.MonkeyPatch,
                    lose: int | None = None) -> Served:
    """One connection per path over a socket pair, whose client side a reader drains as it
    can: the file goes out by os.sendfile."""
    served = Served(len(paths))
    real_sendfile = os.sendfile

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)
        state = ServerState(loop, file_app(files, served.outcomes),
                            connection_settings(access_log=False))
        sockets = [socket.socketpair() for _ in paths]
        index_of_socket = {}   # the server side's inode (sendfile gets a duplicate descriptor)
        protocols = []
        for index, (server_side, client_side) in enumerate(sockets):
            _, protocol = await loop.connect_accepted_socket(
                lambda: HTTPProtocol(state), server_side)
            protocols.append(protocol)
            index_of_socket[os.fstat(server_side.fileno()).st_ino] = index
            client_side.setblocking(False)
            loop.add_reader(client_side.fileno(), read, client_side, served.responses[index])

        def sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
            n = real_sendfile(out_fd, in_fd, offset, count)
            served.body_written(index_of_socket[os.fstat(out_fd).st_ino], turns(), n)
            return n
        monkeypatch.setattr(os, "sendfile", sendfile)

        await serve_until_done(protocols, paths, served, lose)
        turns.handle.cancel()
        for _ in range(3):   # the readers take what is left in the sockets
            await asyncio.sleep(0)
        for protocol, (_, client_side) in zip(protocols, sockets):
            loop.remove_reader(client_side.fileno())
            protocol.transport.close()
            client_side.close()
        await asyncio.sleep(0)

    asyncio.run(run())
    monkeypatch.setattr(os, "sendfile", real_sendfile)
    return served


def read(sock: socket.socket, into: bytearray) -> None:
    try:
        into += sock.recv(4 * MIB)
    except BlockingIOError:
        pass


def assert_a_budget_per_turn(served: Served, total: int) -> None:
    by_turn = sorted(served.large_by_turn.items())
    assert max(served.large_by_turn.values()) <= BYTES_PER_TURN, by_turn
    assert sum(served.large_by_turn.values()) == total


def test_files_sent_in_pieces_together_go_out_a_budget_per_turn(files: Files) -> None:
    paths = [f"/file/{i}" for i in range(FILES)] + ["/small"]
    served = serve_in_pieces(files, paths)
    assert served.outcomes == dict.fromkeys(paths, "sent")
    for index, path in enumerate(paths):
        assert served.body(index) == files.contents[path]
    assert_a_budget_per_turn(served, sum(len(files.contents[path]) for path in paths[:-1]))
    # The small file does not wait behind the large ones: it goes in the first turn they do.
    assert served.first_body_turn[-1] == min(served.large_by_turn)


def test_files_sent_in_pieces_to_a_slow_kernel_go_in_smaller_pieces(files: Files) -> None:
    paths = [f"/file/{i}" for i in range(2)]
    served = serve_in_pieces(files, paths, ns_per_mib=8_000_000)  # 8 ms per MiB
    assert served.turn_bytes < PIECE
    assert served.outcomes == dict.fromkeys(paths, "sent")
    for index, path in enumerate(paths):
        assert served.body(index) == files.contents[path]
    # Each piece read is no larger than a turn's budget, and no turn writes more.
    assert served.largest_write <= served.turn_bytes
    assert max(served.large_by_turn.values()) <= served.turn_bytes


def test_files_sent_zero_copy_together_go_out_a_budget_per_turn(
        files: Files, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [f"/file/{i}" for i in range(FILES)]
    served = serve_zero_copy(files, paths, monkeypatch)
    assert served.outcomes == dict.fromkeys(paths, "sent")
    for index, path in enumerate(paths):
        assert served.body(index) == files.contents[path]
    assert_a_budget_per_turn(served, sum(len(files.contents[path]) for path in paths))


@pytest.mark.parametrize("way", ["pieces", "zero-copy"])
def test_a_client_gone_while_its_file_waits_gets_nothing_and_send_raises(
        files: Files, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    paths = [f"/file/{i}" for i in range(FILES)]
    last = FILES - 1
    if way == "pieces":
        served = serve_in_pieces(files, paths, lose=last)
    else:
        served = serve_zero_copy(files, paths, monkeypatch, lose=last)
    # The last file was still waiting for a turn when its client left: nothing of it went.
    assert served.first_body_turn[last] is None
    assert served.outcomes.pop(paths[last]) == "ClientDisconnected"
    assert served.outcomes == dict.fromkeys(paths[:last], "sent")
    for index, path in enumerate(paths[:last]):
        assert served.body(index) == files.contents[path]
