"""Several workers serving one port: sharing it, lifespan in each, replacement of the ones that go."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

from fastasgi.supervisor.supervisor import STABLE_SECONDS
from tests.supervisor.supervised import load, supervise


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone too: its parent (here init) just has not reaped it yet.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        # Reaped between the two looks: reading the stat of a process that went away
        # meanwhile fails with ESRCH.
        return False


def read_events(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        return []
    return [(int(pid), event) for pid, event in
            (line.split() for line in path.read_text().splitlines())]


def test_two_workers_share_the_port_and_both_answer() -> None:
    with supervise() as server:
        pids = server.pids_answering(2)
        assert pids == server.workers()
        assert server.pid not in pids


def test_workers_started_by_spawn_share_the_port_and_stop_cleanly() -> None:
    with supervise(module="tests.supervisor.spawn_main") as server:
        # (multiprocessing's resource tracker is a child process too under spawn)
        assert server.pids_answering(2) <= server.workers()
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
    assert "2 workers (spawn)" in server.log
    assert server.log.count("Application shutdown complete.") == 2


def test_workers_stop_when_the_supervisor_is_killed() -> None:
    with supervise() as server:
        workers = server.pids_answering(2)
        server.send_signal(signal.SIGKILL)
        server.wait(5)
        server.wait_for_end_of_output(10)
        deadline = time.monotonic() + 5  # they closed their output; now exiting
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers)
    assert server.log.count("is gone; stopping.") == 2
    assert server.log.count("Application shutdown complete.") == 2


def test_supervisor_never_imports_the_app(tmp_path: Path) -> None:
    events = tmp_path / "events"
    with supervise(env={"SUPERVISOR_TEST_EVENTS": str(events)}) as server:
        server.pids_answering(2)
        importers = {pid for pid, event in read_events(events) if event == "import"}
        assert importers == server.workers()


def test_lifespan_starts_before_the_first_request_and_shuts_down_after_the_last(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events"
    with supervise(env={"SUPERVISOR_TEST_EVENTS": str(events)}) as server:
        pids = server.pids_answering(2)
        for _ in range(10):
            server.answering_pid()
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
    by_worker: dict[int, list[str]] = {}
    for pid, event in read_events(events):
        by_worker.setdefault(pid, []).append(event)
    assert set(by_worker) == pids
    for history in by_worker.values():
        assert history[:2] == ["import", "startup"]
        assert history[-1] == "shutdown"
        assert set(history[2:-1]) == {"request"}


def test_killed_worker_is_replaced_while_requests_keep_succeeding() -> None:
    with supervise() as server:
        first = server.pids_answering(2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        # What the victim was serving is lost with it; from the moment it is gone, nothing is.
        server.wait_for(lambda: not alive(victim), 10, "the worker to die")
        with load(server) as sent:
            server.wait_for(
                lambda: len(server.workers() - first) == 1 and victim not in server.workers(),
                10, "a replacement worker",
            )
            replacement = (server.workers() - first).pop()
            server.wait_for(lambda: replacement in sent.pids[-200:] or None, 10,
                            "the replacement to answer")
        assert sent.failures == []
        assert f"Worker [{victim}] died" in server.log, server.log
        assert "(killed by SIGKILL)" in server.log


def test_max_requests_recycles_workers_without_a_failed_request() -> None:
    with supervise("--limit-max-requests", "25") as server:
        first = server.pids_answering(2)
        with load(server) as sent, load(server):
            server.wait_for(lambda: len(set(sent.pids) - first) >= 3, 20,
                            "three workers started after recycling")
        assert sent.failures == []
        assert "stopping on its own; starting another" in server.log
        server.wait_for(lambda: len(server.workers()) == 2, 10, "two workers")


def test_hung_worker_is_killed_and_replaced() -> None:
    with supervise("--timeout-worker-healthcheck", "1") as server:
        first = server.pids_answering(2)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as blocked:
            blocked.sendall(b"GET /block?60 HTTP/1.1\r\nHost: t\r\n\r\n")
            # The worker that took it no longer accepts; new connections go to the other one.
            time.sleep(0.2)
            with load(server) as sent:
                hung = server.wait_for(
                    lambda: [pid for pid in first if pid not in server.workers()], 10,
                    "the hung worker to be killed",
                )[0]
                server.wait_for(lambda: len(server.workers() - first) == 1, 10, "a replacement")
            try:
                left = blocked.recv(100)
            except ConnectionResetError:
                left = b""
            assert left == b""  # its connection went with it, unanswered
        assert "sent no heartbeat for 1 s; killing it" in server.log
        assert f"Worker [{hung}] died" in server.log
        assert sent.failures == []


def test_worker_failing_to_restart_is_retried_with_growing_delays(tmp_path: Path) -> None:
    marker = tmp_path / "fail"
    with supervise(app="tests.supervisor.apps:failing_when_marked",
                   env={"SUPERVISOR_TEST_FAIL_IF": str(marker)}) as server:
        first = server.pids_answering(2)
        # Both have served for longer than STABLE_SECONDS: the death of one is no failed start,
        # and the survivor's stability must not cut the back-off of the failing replacements.
        time.sleep(STABLE_SECONDS + 0.5)
        marker.touch()
        os.kill(min(first), signal.SIGKILL)
        server.wait_for(lambda: "replacement in 2.0 s" in server.log, 15, "a third failure")
        # The supervisor keeps running on the worker it has, and keeps serving.
        assert server.answering_pid() == max(first)
        marker.unlink()
        server.wait_for(lambda: len(server.workers()) == 2 and server.workers() - first, 15,
                        "a replacement to start")
        assert server.pids_answering(2) == server.workers()
    log = server.log
    assert f"Worker [{min(first)}] died (killed by SIGKILL)" in log
    assert log.index("replacement in 0.5 s") < log.index("replacement in 1.0 s") \
        < log.index("replacement in 2.0 s")
