"""fastasgi.workers.FastASGIWorker under gunicorn's arbiter, with gunicorn's settings."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from gunicorn import version_info as gunicorn_version  # type: ignore[import-untyped]

from tests.supervisor.supervised import APP, Supervised, free_port, load
from tests.support.server import read_response

WORKER_CLASS = "fastasgi.workers.FastASGIWorker"


@contextlib.contextmanager
def gunicorn(*args: str) -> Iterator[Supervised]:
    port = free_port()
    executable = Path(sys.executable).with_name("gunicorn")
    command = [str(executable) if executable.exists() else shutil.which("gunicorn") or "gunicorn",
               "-k", WORKER_CLASS, "-b", f"127.0.0.1:{port}", *args, APP]
    if gunicorn_version >= (25, 1):
        command.insert(1, "--no-control-socket")  # no socket file left in $HOME by tests
    server = Supervised(command)
    try:
        server.wait_for_port()
        assert server.port == port
        yield server
    finally:
        server.stop()


def raw_request(port: int, head: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        return read_response(sock)[0]


def test_gunicorn_runs_the_worker_class_and_stops_it_on_sigterm() -> None:
    with gunicorn("-w", "2") as server:
        pids = server.pids_answering(2)
        assert pids == server.workers()
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
    assert "Using worker: fastasgi.workers.FastASGIWorker" in server.log
    assert server.log.count("Application shutdown complete.") == 2


def test_gunicorn_request_limits_become_fastasgi_limits() -> None:
    with gunicorn("--limit-request-line", "100", "--limit-request-fields", "5") as server:
        assert raw_request(server.port, b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: t\r\n\r\n") \
            == 414
        fields = b"".join(b"X-%d: v\r\n" % n for n in range(10))
        assert raw_request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n") \
            == 431
        assert raw_request(server.port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n") == 200


def test_gunicorn_max_requests_recycles_the_worker() -> None:
    with gunicorn("-w", "1", "--max-requests", "20") as server:
        first = server.answering_pid()
        with load(server) as sent:
            server.wait_for(lambda: len(set(sent.pids)) >= 3, 20, "two recycled workers")
        assert first not in server.workers()
        assert sent.failures == []  # the arbiter holds the socket: the queue waits for the next
        assert "Maximum request limit of" in server.log
