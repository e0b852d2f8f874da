"""Signals to the supervisor: stop, stop now, rolling restart, one worker more or fewer."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

from tests.supervisor.supervised import load, supervise
from tests.support.server import read_response


class InFlight:
    """One request sent from a thread of its own; ``response`` once it is answered."""

    def __init__(self, port: int, path: str) -> None:
        self.response: tuple[int, dict[bytes, bytes], bytes] | None = None
        self.error: OSError | None = None
        self.thread = threading.Thread(target=self._run, args=(port, path))
        self.thread.start()

    def _run(self, port: int, path: str) -> None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                self.response = read_response(sock)
        except OSError as exc:
            self.error = exc


def test_sigterm_lets_the_in_flight_request_finish_and_exits_zero() -> None:
    with supervise() as server:
        workers = server.pids_answering(2)
        # The app answers 3 s after the request arrives and SIGTERM comes 1 s after it is sent:
        # the response starts after the stop, so it must close, even when a busy machine is
        # slow to deliver the request or the signal.
        request = InFlight(server.port, "/sleep?3.0")
        time.sleep(1.0)
        server.send_signal(signal.SIGTERM)
        request.thread.join(15)
        assert server.wait(15) == 0
    assert request.response is not None, request.error
    status, headers, body = request.response
    assert status == 200 and int(body) in workers
    assert headers[b"connection"] == b"close"
    assert "Received SIGTERM: stopping 2 workers" in server.log
    assert server.workers() == set()


def test_second_sigint_stops_without_waiting_for_requests() -> None:
    with supervise("--timeout-graceful-shutdown", "60") as server:
        server.pids_answering(2)
        request = InFlight(server.port, "/sleep?60")
        time.sleep(0.3)
        server.send_signal(signal.SIGINT)
        # The second comes once the first was seen, as a user's second Ctrl+C does: two sent
        # while a busy machine has not yet run the supervisor arrive as one (the kernel keeps
        # one of each signal pending).
        server.wait_for(lambda: "Received SIGINT: stopping" in server.log, 15,
                        "the first SIGINT to be handled")
        server.send_signal(signal.SIGINT)
        # Well before the request's 60 s are up.
        assert server.wait(15) == 0
        request.thread.join(15)
    assert "Received SIGINT again" in server.log
    assert request.response is None or request.response[0] != 200


def test_sighup_replaces_every_worker_without_a_failed_request() -> None:
    with supervise() as server:
        old = server.pids_answering(2)
        with load(server) as sent:
            server.send_signal(signal.SIGHUP)
            server.wait_for(lambda: len(server.workers()) == 2 and not server.workers() & old,
                            20, "two new workers and no old one")
            new = server.workers()
            server.wait_for(lambda: new <= set(sent.pids[-400:]) or None, 10,
                            "both new workers to answer")
        assert sent.failures == []
        assert server.pids_answering(2) == new
        assert server.log.count("Rolling restart: stopping worker") == 2


def test_sigttin_adds_a_worker_and_sigttou_removes_one() -> None:
    with supervise() as server:
        first = server.pids_answering(2)
        server.send_signal(signal.SIGTTIN)
        server.wait_for(lambda: len(server.workers()) == 3, 10, "a third worker")
        assert server.pids_answering(3) == server.workers()
        # Two of the same signal pending at once are one signal: wait until each is handled.
        server.send_signal(signal.SIGTTOU)
        server.wait_for(lambda: "SIGTTOU: 2 workers wanted" in server.log, 10, "a SIGTTOU")
        server.send_signal(signal.SIGTTOU)
        server.wait_for(lambda: len(server.workers()) == 1, 10, "one worker left")
        assert server.workers().isdisjoint(first)  # the oldest go first
        assert server.answering_pid() in server.workers()
        server.send_signal(signal.SIGTTOU)  # never fewer than one
        server.wait_for(lambda: server.log.count("Received SIGTTOU: 1 workers wanted") == 2, 10,
                        "the third SIGTTOU")
        assert len(server.workers()) == 1


def test_rolling_restart_is_abandoned_when_a_new_worker_cannot_start(tmp_path: Path) -> None:
    marker = tmp_path / "fail"
    with supervise(app="tests.supervisor.apps:failing_when_marked",
                   env={"SUPERVISOR_TEST_FAIL_IF": str(marker)}) as server:
        old = server.pids_answering(2)
        marker.touch()
        server.send_signal(signal.SIGHUP)
        server.wait_for(lambda: "Rolling restart abandoned" in server.log, 10, "the abandon")
        assert server.workers() == old
        assert server.pids_answering(2) == old


def test_a_frozen_and_thawed_process_tree_keeps_its_workers() -> None:
    with supervise("--timeout-worker-healthcheck", "1") as server:
        workers = server.pids_answering(2)
        # As a container pause does: everything stops, for longer than the health check allows.
        tree = [server.pid, *workers]
        for pid in tree:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(2.5)
        for pid in tree:
            os.kill(pid, signal.SIGCONT)
        for _ in range(20):
            server.answering_pid()
        time.sleep(1.5)  # more than a health-check period after the thaw
        assert server.workers() == workers
        assert "killing it" not in server.log
