"""The `fastasgi` command serving over real sockets, and stopping on signals."""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx

from tests.support.server import Running, read_response, serve_cli


def test_example_app_is_served_by_the_command() -> None:
    with serve_cli("examples.hello:app", "--port", "0") as srv:
        response = httpx.get(srv.url)
    assert response.status_code == 200
    assert response.headers["server"] == "fastasgi"


def _answered_after(srv: Running) -> None:
    """Return once a second request is answered. The worker accepts in order and reads every
    readable connection in one turn of its loop, so a request sent before this one has
    reached the app by then, however long a busy machine took."""
    with socket.create_connection((srv.host, srv.port), timeout=20) as sock:
        sock.sendall(b"GET /?0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        assert read_response(sock)[2] == b"finished"


def test_sigterm_lets_the_in_flight_request_finish_and_exits_zero() -> None:
    with serve_cli("tests.e2e.slow_app:app", "--port", "0") as srv:
        result: dict[str, object] = {}
        busy = socket.create_connection((srv.host, srv.port), timeout=20)
        busy.sendall(b"GET /?3.0 HTTP/1.1\r\nHost: t\r\n\r\n")

        def read() -> None:
            with busy:
                result["response"] = read_response(busy)

        thread = threading.Thread(target=read)
        thread.start()
        _answered_after(srv)
        assert srv.process is not None
        srv.process.send_signal(signal.SIGTERM)
        thread.join(20)
        code = srv.process.wait(20)
    status, headers, body = result["response"]  # type: ignore[misc]
    assert (status, body) == (200, b"finished")
    assert headers[b"connection"] == b"close"
    assert code == 0


def test_new_connections_are_refused_once_stopping() -> None:
    with serve_cli("tests.e2e.slow_app:app", "--port", "0") as srv:
        busy = socket.create_connection((srv.host, srv.port), timeout=20)
        busy.sendall(b"GET /?5 HTTP/1.1\r\nHost: t\r\n\r\n")
        _answered_after(srv)
        assert srv.process is not None
        srv.process.send_signal(signal.SIGTERM)
        # While the request runs (5 s), the listener must close; poll rather than guess how
        # long a busy machine takes to deliver the signal.
        deadline = time.monotonic() + 4
        refused = False
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection((srv.host, srv.port), timeout=2).close()
                time.sleep(0.1)
            except OSError:
                refused = True
        assert refused, "the listening socket still accepts after SIGTERM"
        assert read_response(busy)[2] == b"finished"
        busy.close()
        assert srv.process.wait(10) == 0
