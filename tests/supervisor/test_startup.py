"""Workers that cannot start: the supervisor gives up when none of the first ones can."""

from __future__ import annotations

import sys

from tests.supervisor.supervised import ROOT, Supervised


def run_to_exit(*args: str, timeout: float = 20.0) -> Supervised:
    server = Supervised([sys.executable, "-m", "fastasgi", *args, "--port", "0"])
    try:
        server.wait(timeout)
    finally:
        server.stop()
    return server


def test_lifespan_startup_failure_in_every_worker_exits_with_code_3() -> None:
    server = run_to_exit("tests.supervisor.apps:failing_startup", "--workers", "2")
    assert server.process.returncode == 3, server.log
    assert server.log.count("the database is unreachable") == 2
    assert "No worker could start (exit code 3); stopping." in server.log
    assert "running on" not in server.log


def test_app_import_error_exits_with_code_1_and_says_why() -> None:
    server = run_to_exit("tests.supervisor.no_such_module:app", "--workers", "2")
    assert server.process.returncode == 1, server.log
    assert "error: cannot load app 'tests.supervisor.no_such_module:app': no module named" \
        in server.log
    assert "No worker could start (exit code 1)" in server.log


def test_port_in_use_is_reported_before_any_worker_starts() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = Supervised([sys.executable, "-m", "fastasgi", "tests.supervisor.apps:app",
                             "--workers", "2", "--port", str(port)])
        try:
            code = server.wait(20)
        finally:
            server.stop()
    assert code == 1
    assert f"error: cannot bind 127.0.0.1:{port}: address already in use" in server.log
    assert "Started server process" not in server.log
    assert ROOT.exists()
