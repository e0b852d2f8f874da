"""--metrics-port: Prometheus metrics summed over real worker processes, and the probes.

Every metrics page is read with prometheus_client's own parser, the format's reference reader.
Workers send their counts once a second, so the tests wait for the page to show what they did
(a wait with a bound, never a timing assertion).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from fastasgi.metrics import EMPTY_SNAPSHOT
from fastasgi.metrics_text import render
from tests.supervisor.supervised import Supervised, free_port, supervise
from tests.support.server import read_response

APPS = "tests.supervisor.apps"


def fetch(port: int, request: bytes, timeout: float = 10.0) -> tuple[int, dict[bytes, bytes], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_response(sock, head_request=request.startswith(b"HEAD "))


def get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    status, _, body = fetch(
        port, f"{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    return status, body


class Page:
    """One /metrics page, parsed: samples by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in self.families.values():
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str) -> float:
        return sum(value for (sample, _), value in self.samples.items() if sample == name)


def scrape(port: int) -> Page:
    status, headers, body = fetch(port, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == 200, body
    assert headers[b"content-type"].startswith(b"text/plain; version=0.0.4")
    return Page(body.decode())


def wait_for_page(server: Supervised, port: int, check: Any, what: str) -> Page:
    pages: list[Page] = []

    def satisfied() -> Page | None:
        page = scrape(port)
        pages[:] = [page]
        return page if check(page) else None

    try:
        return server.wait_for(satisfied, 15.0, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe last page:\n{pages[0].text if pages else ''}") from None


@contextmanager
def with_metrics(*args: str, app: str = f"{APPS}:answering", workers: int = 2,
                 ) -> Iterator[tuple[Supervised, int]]:
    metrics_port = free_port()
    with supervise("--metrics-port", str(metrics_port), *args, app=app,
                   workers=workers) as server:
        yield server, metrics_port


def test_the_exposition_parses_and_keeps_every_family() -> None:
    snapshot = dict(EMPTY_SNAPSHOT, requests={"GET 2xx": 3, "other 5xx": 1}, in_flight=2,
                    duration_buckets=[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], duration_sum=42.5)
    page = Page(render(snapshot, {"died": 2}, {"serving": 2}))
    assert page.value("fastasgi_requests_total", method="GET", status_class="2xx") == 3
    assert page.value("fastasgi_requests_total", method="other", status_class="5xx") == 1
    assert page.families["fastasgi_requests"].type == "counter"
    assert page.families["fastasgi_request_duration_seconds"].type == "histogram"
    assert page.value("fastasgi_request_duration_seconds_bucket", le="0.005") == 1
    assert page.value("fastasgi_request_duration_seconds_bucket", le="10.0") == 1
    assert page.value("fastasgi_request_duration_seconds_bucket", le="+Inf") == 4
    assert page.value("fastasgi_request_duration_seconds_count") == 4
    assert page.value("fastasgi_request_duration_seconds_sum") == 42.5
    assert page.value("fastasgi_requests_in_flight") == 2
    assert page.value("fastasgi_worker_restarts_total", reason="died") == 2
    assert page.value("fastasgi_workers", phase="serving") == 2


def test_requests_are_counted_over_both_workers_by_method_and_status_class() -> None:
    with with_metrics() as (server, metrics_port):
        port = server.port
        pids: set[int] = set()
        gets = 0
        # Until both workers have served, so that the sum is over both. Bounded by time, not by
        # count: a worker still starting on a busy machine can leave the other to take hundreds.
        deadline = time.monotonic() + 30
        while len(pids) < 2:
            status, body = get(port, "/")
            assert status == 200
            pids.add(int(body))
            gets += 1
            assert time.monotonic() < deadline, f"one worker served all {gets} requests in 30 s"
        for _ in range(3):
            assert get(port, "/", "POST")[0] == 200
        assert get(port, "/status?404")[0] == 404
        assert get(port, "/fail")[0] == 500
        assert get(port, "/", "DELETE")[0] == 200
        expected = gets + 6

        page = wait_for_page(
            server, metrics_port,
            lambda page: page.total("fastasgi_requests_total") == expected,
            f"{expected} requests on the metrics page",
        )
        assert page.value("fastasgi_requests_total", method="GET", status_class="2xx") == gets
        assert page.value("fastasgi_requests_total", method="POST", status_class="2xx") == 3
        assert page.value("fastasgi_requests_total", method="GET", status_class="4xx") == 1
        assert page.value("fastasgi_requests_total", method="GET", status_class="5xx") == 1
        assert page.value("fastasgi_requests_total", method="DELETE", status_class="2xx") == 1
        assert page.value("fastasgi_request_duration_seconds_count") == expected
        assert page.value("fastasgi_request_duration_seconds_bucket", le="+Inf") == expected
        assert page.value("fastasgi_requests_in_flight") == 0
        # Each request sent a head of more than 30 bytes, each response one of more than 30.
        assert page.value("fastasgi_received_bytes_total") > 30 * expected
        assert page.value("fastasgi_sent_bytes_total") > 30 * expected
        assert page.value("fastasgi_workers", phase="serving") == 2


def test_open_connections_and_requests_in_flight_are_seen() -> None:
    with with_metrics() as (server, metrics_port):
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        busy = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            busy.sendall(b"GET /sleep?30 HTTP/1.1\r\nHost: t\r\n\r\n")
            page = wait_for_page(
                server, metrics_port,
                lambda page: page.value("fastasgi_requests_in_flight") == 1
                and page.value("fastasgi_connections_open", protocol="http") == 2,
                "one request in flight on two open connections",
            )
            assert page.value("fastasgi_connections_open", protocol="websocket") == 0
        finally:
            idle.close()
            busy.close()
        # The idle connection goes. The busy one stays open to its request, which still runs
        # (its app sleeps and never calls receive()): a client that closes after its request
        # may only have half-closed, and is still owed the response.
        wait_for_page(
            server, metrics_port,
            lambda page: page.value("fastasgi_connections_open", protocol="http") == 1
            and page.value("fastasgi_requests_in_flight") == 1,
            "the idle connection to close",
        )


def test_probes_answer_and_bad_requests_get_a_clear_answer() -> None:
    with with_metrics() as (server, metrics_port):
        server.wait_for(lambda: get(metrics_port, "/readyz")[0] == 200, 15.0, "readiness")
        assert get(metrics_port, "/healthz") == (200, b"ok\n")
        assert get(metrics_port, "/readyz") == (200, b"ok\n")
        status, headers, body = fetch(metrics_port, b"HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (status, body, headers[b"content-length"]) == (200, b"", b"3")
        assert get(metrics_port, "/metrics?name=x")[0] == 200
        assert get(metrics_port, "/nope")[0] == 404
        status, headers, _ = fetch(metrics_port, b"POST /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        assert (status, headers[b"allow"]) == (405, b"GET, HEAD")
        assert fetch(metrics_port, b"hello there\r\n\r\n")[0] == 400
        huge = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"
        assert fetch(metrics_port, huge)[0] == 431
        # A client that says nothing holds up nobody, and neither does one that leaves.
        with socket.create_connection(("127.0.0.1", metrics_port), timeout=10):
            socket.create_connection(("127.0.0.1", metrics_port), timeout=10).close()
            assert get(metrics_port, "/healthz")[0] == 200
            assert get(server.port, "/")[0] == 200
        assert server.process.poll() is None


def test_a_killed_worker_is_counted_as_a_restart_and_its_requests_stay_counted() -> None:
    with with_metrics() as (server, metrics_port):
        for _ in range(5):
            assert get(server.port, "/")[0] == 200
        # Both workers serving first: one killed while still starting counts as failed-to-start.
        wait_for_page(server, metrics_port,
                      lambda page: page.total("fastasgi_requests_total") == 5
                      and page.value("fastasgi_workers", phase="serving") == 2,
                      "the five requests on the page, both workers serving")
        victim = min(server.workers())
        os.kill(victim, signal.SIGKILL)
        page = wait_for_page(
            server, metrics_port,
            lambda page: page.value("fastasgi_worker_restarts_total", reason="died") == 1
            and page.value("fastasgi_workers", phase="serving") == 2,
            "the restart counted and a new worker serving",
        )
        assert page.total("fastasgi_requests_total") == 5
        assert page.total("fastasgi_worker_restarts_total") == 1
        assert "killed by SIGKILL" in server.log


def test_rolling_restart_is_counted_with_its_reason() -> None:
    with with_metrics() as (server, metrics_port):
        old = server.workers()
        server.send_signal(signal.SIGHUP)
        page = wait_for_page(
            server, metrics_port,
            lambda page: page.value("fastasgi_worker_restarts_total",
                                    reason="rolling-restart") == 2,
            "both workers replaced by the rolling restart",
        )
        assert page.total("fastasgi_worker_restarts_total") == 2
        assert not old & server.workers()


def _starting_when_marked(tmp_path: Path, workers: int) -> tuple[Supervised, int, Path]:
    marker = tmp_path / "go"
    metrics_port = free_port()
    command = [sys.executable, "-m", "fastasgi", f"{APPS}:starting_when_marked",
               "--workers", str(workers), "--port", "0", "--no-access-log",
               "--metrics-port", str(metrics_port)]
    return Supervised(command, {"SUPERVISOR_TEST_START_WHEN": str(marker)}), metrics_port, marker


def _answers(port: int, path: str) -> int | None:
    try:
        return get(port, path)[0]
    except OSError:
        return None  # not listening yet


def test_readyz_says_503_until_every_worker_finished_lifespan_startup(tmp_path: Path) -> None:
    server, metrics_port, marker = _starting_when_marked(tmp_path, workers=2)
    try:
        server.wait_for(lambda: _answers(metrics_port, "/readyz") == 503, 15.0,
                        "/readyz to answer 503")
        assert get(metrics_port, "/healthz")[0] == 200   # starting, within its bounds
        assert "running on" not in server.log
        marker.touch()
        server.wait_for(lambda: _answers(metrics_port, "/readyz") == 200, 15.0,
                        "/readyz to answer 200")
        page = scrape(metrics_port)
        assert page.value("fastasgi_workers", phase="serving") == 2
    finally:
        server.stop()


def test_one_process_without_supervisor_serves_the_same_port(tmp_path: Path) -> None:
    server, metrics_port, marker = _starting_when_marked(tmp_path, workers=1)
    try:
        server.wait_for(lambda: _answers(metrics_port, "/readyz") == 503, 15.0,
                        "/readyz to answer 503")
        assert get(metrics_port, "/healthz")[0] == 200
        marker.touch()
        server.wait_for_port()
        assert "Started supervisor" not in server.log
        assert get(metrics_port, "/readyz")[0] == 200
        for _ in range(4):
            assert get(server.port, "/")[0] == 200
        assert get(server.port, "/", "PUT")[0] == 200
        page = scrape(metrics_port)   # counted in this process: no wait for a heartbeat
        assert page.value("fastasgi_requests_total", method="GET", status_class="2xx") == 4
        assert page.value("fastasgi_requests_total", method="PUT", status_class="2xx") == 1
        assert page.value("fastasgi_request_duration_seconds_count") == 5
        assert "fastasgi_worker_restarts" not in page.families
        assert get(metrics_port, "/nope")[0] == 404
        assert get(metrics_port, "/metrics", "POST")[0] == 405
        assert fetch(metrics_port, b"hello there\r\n\r\n")[0] == 400
        huge = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"
        assert fetch(metrics_port, huge)[0] == 431
        with socket.create_connection(("127.0.0.1", metrics_port), timeout=10):
            assert get(metrics_port, "/healthz")[0] == 200   # a silent client holds up nobody
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
    finally:
        server.stop()


def test_websocket_and_http2_connections_are_counted_by_protocol() -> None:
    import h2.config
    import h2.connection
    import h2.events

    metrics_port = free_port()
    command = [sys.executable, "-m", "fastasgi", f"{APPS}:answering", "--port", "0",
               "--no-access-log", "--metrics-port", str(metrics_port)]
    server = Supervised(command)
    try:
        port = server.wait_for_port()
        ws = socket.create_connection(("127.0.0.1", port), timeout=10)
        h2_sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            ws.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            assert read_response(ws)[0] == 101
            client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            client.initiate_connection()
            client.send_headers(1, [(":method", "GET"), (":path", "/"), (":scheme", "http"),
                                    (":authority", "t")], end_stream=True)
            h2_sock.sendall(client.data_to_send())
            ended = False
            while not ended:
                data = h2_sock.recv(65536)
                assert data, "the HTTP/2 connection closed"
                events = client.receive_data(data)
                ended = any(isinstance(e, h2.events.StreamEnded) for e in events)
                h2_sock.sendall(client.data_to_send())
            page = scrape(metrics_port)
            assert page.value("fastasgi_connections_open", protocol="websocket") == 1
            assert page.value("fastasgi_connections_open", protocol="h2") == 1
            assert page.value("fastasgi_connections_open", protocol="http") == 0
            # The HTTP/2 request counts like any other; the WebSocket session is no request.
            assert page.total("fastasgi_requests_total") == 1
            assert page.value("fastasgi_requests_total", method="GET", status_class="2xx") == 1
        finally:
            ws.close()
            h2_sock.close()
    finally:
        server.stop()


def test_a_metrics_port_in_use_is_a_clear_error_with_and_without_supervisor() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            command = [sys.executable, "-m", "fastasgi", f"{APPS}:answering", "--port", "0",
                       "--workers", workers, "--metrics-port", str(port)]
            server = Supervised(command)
            try:
                assert server.wait(30) == 1, server.log
            finally:
                server.stop()
            assert f"error: --metrics-port: cannot listen on 127.0.0.1:{port}" in server.log
            assert "Traceback" not in server.log


def test_a_hung_worker_and_an_old_one_are_counted_with_their_reasons() -> None:
    with with_metrics("--timeout-worker-healthcheck", "1") as (server, metrics_port):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as blocked:
            blocked.sendall(b"GET /block?60 HTTP/1.1\r\nHost: t\r\n\r\n")
            page = wait_for_page(
                server, metrics_port,
                lambda page: page.value("fastasgi_worker_restarts_total", reason="heartbeat") == 1,
                "the hung worker counted",
            )
        assert page.value("fastasgi_worker_restarts_total", reason="died") == 0
        assert "sent no heartbeat for 1 s; killing it" in server.log
    with with_metrics("--workers-lifetime", "1") as (server, metrics_port):
        wait_for_page(
            server, metrics_port,
            lambda page: page.value("fastasgi_worker_restarts_total", reason="lifetime") >= 2,
            "workers replaced for their lifetime",
        )
