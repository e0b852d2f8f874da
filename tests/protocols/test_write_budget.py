"""Large bodies that become ready together are written a budget per turn of the event loop
(fastasgi/protocols/write_budget.pyx), so that other connections' events run in between.

The connections share one ServerState on a real event loop and write to recording transports;
a callback that schedules itself again each time counts the loop's turns. A recording
transport sends nothing, so the budget keeps its pace there; a paced one takes a known time per
byte, as a slow kernel does, and the budget follows it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastasgi.protocols.state import ServerState
from fastasgi.protocols.write_budget import (
    BYTES_PER_TURN,
    BYTES_PER_TURN_MIN,
    LARGE_WRITE,
    WRITE_NS_PER_TURN,
    LargeWriteBudget,
)
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection
from tests.support.turns import TurnCounter

MIB = b"x" * (1 << 20)
SMALL = b"small"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``GET /mib``: 1 MiB in one message; ``GET /parts``: 2 MiB in two messages of 1 MiB,
    under a Content-Length; anything else: five bytes. Records what send() did: "sent", or
    the exception it raised."""
    messages = {"/mib": [MIB], "/parts": [MIB, MIB]}.get(scope["path"], [SMALL])
    length = sum(len(body) for body in messages)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(length).encode())]})
    try:
        for index, body in enumerate(messages):
            await send({"type": "http.response.body", "body": body,
                        "more_body": index < len(messages) - 1})
    except OSError as exc:
        OUTCOMES.append(type(exc).__name__)
    else:
        OUTCOMES.append("sent")


OUTCOMES: list[str] = []


def serve_together(paths: list[str], lose: int | None = None,
                   transport_type: type[RecordingTransport] = RecordingTransport,
                   ) -> list[RecordingTransport]:
    """One connection per path, each request received in the same turn; each transport as
    it was written once every app is done. ``lose``: the index of a connection the client
    closes two turns later."""
    transports: list[RecordingTransport] = []
    OUTCOMES.clear()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        turns = TurnCounter(loop)
        state = ServerState(loop, app, connection_settings(access_log=False))
        protocols = []
        for _ in paths:
            transport = transport_type(turns)
            transports.append(transport)
            protocols.append(http_connection(state, transport))
        for protocol, path in zip(protocols, paths):
            protocol.data_received(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        for step in range(1000):
            if step == 2 and lose is not None:
                protocols[lose].connection_lost(None)
            elif step > 2 and len(OUTCOMES) == len(paths):
                break
            await asyncio.sleep(0)
        turns.handle.cancel()
        for protocol in protocols:
            protocol.connection_lost(None)

    asyncio.run(run())
    return transports


def body_of(transport: RecordingTransport) -> bytes:
    response = b"".join(transport.writes)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    return body


def test_large_bodies_ready_together_go_out_one_per_turn_in_order_and_whole() -> None:
    transports = serve_together(["/mib"] * 4)
    # A 1 MiB body fills the budget of its turn: each is written in a turn of its own, in the
    # order the requests came, and each whole.
    turns = [transport.turns for transport in transports]
    assert all(len(t) == 1 for t in turns), turns
    assert [t[0] for t in turns] == sorted({t[0] for t in turns}), turns
    assert all(body_of(transport) == MIB for transport in transports)
    assert OUTCOMES == ["sent"] * 4


def test_small_responses_do_not_wait_behind_large_ones() -> None:
    transports = serve_together(["/mib", "/mib", "/mib", "/", "/"])
    first_large = transports[0].turns[0]
    assert transports[3].turns == [first_large] and transports[4].turns == [first_large]
    assert transports[2].turns[0] > transports[1].turns[0] > first_large
    assert body_of(transports[3]) == SMALL


def test_a_content_length_body_in_several_large_messages_goes_out_a_budget_per_turn() -> None:
    # After the first message, the encoder hands the app's bytes back as they are; they take
    # their turn like any other large write.
    transports = serve_together(["/parts", "/parts", "/mib"])
    written: dict[int, int] = {}
    for transport in transports:
        for turn, data in zip(transport.turns, transport.writes):
            written[turn] = written.get(turn, 0) + len(data)
    heads = 1024
    assert max(written.values()) <= BYTES_PER_TURN + heads, written
    assert len(written) == 5, written
    assert [body_of(transport) for transport in transports] == [MIB + MIB, MIB + MIB, MIB]
    assert OUTCOMES == ["sent"] * 3


def test_a_client_gone_while_its_body_waits_gets_nothing_and_send_raises() -> None:
    transports = serve_together(["/mib", "/mib", "/mib"], lose=2)
    assert body_of(transports[0]) == MIB and body_of(transports[1]) == MIB
    # The third body was still waiting for a turn when its client left.
    assert transports[2].writes == []
    assert sorted(OUTCOMES) == ["ClientDisconnected", "sent", "sent"]


def test_the_budget_admits_first_come_first_served_and_skips_cancelled_waiters() -> None:
    admitted: list[str] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        budget = LargeWriteBudget(loop)
        assert budget.admit(600_000)            # the first write of a turn always goes
        assert budget.admit(400_000)            # within 1 MiB
        assert not budget.admit(100_000)        # over it

        async def writer(name: str, size: int) -> None:
            await budget.wait(size)
            admitted.append(name)

        tasks = [asyncio.ensure_future(writer(name, size))
                 for name, size in (("a", 700_000), ("b", 700_000), ("c", 400_000))]
        await asyncio.sleep(0)
        tasks[1].cancel()
        for _ in range(10):
            await asyncio.sleep(0)
        # "a" and "c" do not fit one turn together; "b" was cancelled and is passed over.
        assert admitted == ["a", "c"]
        # No one waits: a new write goes at once again.
        assert budget.admit(2_000_000)

    asyncio.run(run())


def test_bytes_a_write_did_not_use_go_to_another_writer_of_the_turn() -> None:
    async def run() -> None:
        budget = LargeWriteBudget(asyncio.get_running_loop())
        assert budget.admit(600_000)
        assert not budget.admit(600_000)
        budget.give_back(500_000)               # the socket took 100,000 bytes of them
        assert budget.admit(600_000)

    asyncio.run(run())


# A kernel short of memory: 8 ms to accept a MiB, 24 times a quiet one's pace.
SLOW_NS_PER_BYTE = 8_000_000 / (1 << 20)


class PacedTransport(RecordingTransport):
    """Accepts all it is given, taking SLOW_NS_PER_BYTE for each byte (or longer: a sleep
    never ends early)."""

    def writelines(self, list_of_data: Any) -> None:
        super().writelines(list_of_data)
        time.sleep(len(self.writes[-1]) * SLOW_NS_PER_BYTE / 1e9)

    def get_write_buffer_size(self) -> int:
        return 0


def test_the_budget_follows_the_pace_its_writes_were_measured_at() -> None:
    async def run() -> None:
        budget = LargeWriteBudget(asyncio.get_running_loop())
        assert budget.turn_bytes == BYTES_PER_TURN      # nothing measured yet
        mib, slow = 1 << 20, 4_000_000                  # 4 ms per MiB
        budget.measured(mib, slow)
        after_one = budget.turn_bytes
        assert BYTES_PER_TURN_MIN <= after_one < BYTES_PER_TURN // 4
        for _ in range(30):
            budget.measured(mib, slow)
        # What the kernel accepts in a turn's time, at the pace it kept.
        assert budget.turn_bytes == int(WRITE_NS_PER_TURN * mib / slow)
        # A write into a full socket, which accepted little, tells nothing of the pace.
        budget.measured(LARGE_WRITE - 1, 1)
        assert budget.turn_bytes == int(WRITE_NS_PER_TURN * mib / slow)
        # Slower than a turn can hold any large write: the least budget.
        budget.measured(mib, 1_000_000_000)
        assert budget.turn_bytes == BYTES_PER_TURN_MIN
        # A faster kernel opens the budget again, gradually.
        fast = 50_000                                   # 0.05 ms per MiB
        budget.measured(mib, fast)
        assert budget.turn_bytes < BYTES_PER_TURN
        for _ in range(120):
            budget.measured(mib, fast)
        assert budget.turn_bytes == BYTES_PER_TURN

    asyncio.run(run())


def test_a_write_the_transport_kept_tells_nothing_of_the_pace() -> None:
    async def run() -> None:
        budget = LargeWriteBudget(asyncio.get_running_loop())
        budget.measured(1 << 20, 8_000_000)
        before = budget.turn_bytes
        # A recording transport keeps every byte: the kernel accepted none of them.
        budget.write_measured(RecordingTransport(), (MIB,), len(MIB))
        assert budget.turn_bytes == before
        paced = PacedTransport()
        budget.write_measured(paced, (MIB[:LARGE_WRITE], MIB[:LARGE_WRITE]), 2 * LARGE_WRITE)
        assert paced.writes == [MIB[:2 * LARGE_WRITE]]
        assert budget.turn_bytes < before               # slower than the estimate: counted

    asyncio.run(run())


def test_large_bodies_to_a_slow_kernel_go_out_a_turns_worth_at_a_time() -> None:
    count = 3
    transports = serve_together(["/mib"] * count, transport_type=PacedTransport)
    assert OUTCOMES == ["sent"] * count
    assert all(body_of(transport) == MIB for transport in transports)
    # The first body goes whole: nothing was measured yet. It took 8 ms; from then on a turn
    # holds what the kernel takes in WRITE_NS_PER_TURN at half that pace or slower, and what
    # is left of a body under LARGE_WRITE, with the head.
    bound = int(WRITE_NS_PER_TURN / (SLOW_NS_PER_BYTE / 2)) + LARGE_WRITE + 1024
    first, *others = transports
    assert len(first.writes) == 1
    written: dict[int, int] = {}
    for transport in others:
        assert len(transport.writes) > len(MIB) // bound
        for turn, data in zip(transport.turns, transport.writes):
            written[turn] = written.get(turn, 0) + len(data)
    assert max(written.values()) <= bound, written
    # Turn by turn, in the order the requests came: the second body's pieces begin first.
    assert others[0].turns[0] < others[1].turns[0]


def kernel_slowing_after(fast_writes: int) -> type[RecordingTransport]:
    """Transports of one kernel that keeps its first ``fast_writes`` writes as a recording
    transport does (telling the budget nothing of its pace, however long the copy took on a
    busy machine) and accepts every later one at SLOW_NS_PER_BYTE."""
    written = [0]

    class Slowing(PacedTransport):
        kept = 0

        def writelines(self, list_of_data: Any) -> None:
            written[0] += 1
            if written[0] <= fast_writes:
                RecordingTransport.writelines(self, list_of_data)
                self.kept += len(self.writes[-1])
            else:
                super().writelines(list_of_data)

        def get_write_buffer_size(self) -> int:
            return self.kept

    return Slowing


def test_a_body_that_waited_is_cut_again_when_the_kernel_slowed_meanwhile() -> None:
    # The first body goes at once and tells nothing of the pace; the other two wait, cut at the
    # whole budget (a MiB). The second goes whole in the next turn, and slowly; the third,
    # woken after that, goes in pieces of the smaller budget the slow write made.
    first, second, third = serve_together(["/mib"] * 3, transport_type=kernel_slowing_after(1))
    assert OUTCOMES == ["sent"] * 3
    assert [body_of(t) for t in (first, second, third)] == [MIB] * 3
    assert len(first.writes) == len(second.writes) == 1
    bound = int(WRITE_NS_PER_TURN / (SLOW_NS_PER_BYTE / 2)) + LARGE_WRITE + 1024
    assert len(third.writes) > len(MIB) // bound
    assert max(len(data) for data in third.writes) <= bound
