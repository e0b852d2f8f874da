"""Run a real fastasgi server for a test: in a thread of this process, or as a CLI subprocess."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` is true (a hang guard, not a latency bound)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@dataclass
class Running:
    host: str
    port: int
    server: Any = None
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connect(self, timeout: float = 5.0) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        return sock


@contextlib.contextmanager
def serve(app: Any, **settings: Any) -> Iterator[Running]:
    """Serve ``app`` on 127.0.0.1 on a free port in a background thread, until the block ends."""
    import asyncio

    from fastasgi.config import Config
    from fastasgi.server import Server
    from fastasgi.sockets import bind_sockets

    settings.setdefault("host", "127.0.0.1")
    settings.setdefault("port", 0)
    settings.setdefault("lifespan", "off")
    config = Config(app=app, **settings)
    sockets = bind_sockets(config)
    name = sockets[0].getsockname()
    port = name[1] if isinstance(name, tuple) else 0  # 0: a UNIX socket (--uds)
    server = Server(config)
    errors: list[BaseException] = []

    def run() -> None:
        # The production path is uvloop; FASTASGI_TEST_LOOP=asyncio runs the suite on asyncio.
        if os.environ.get("FASTASGI_TEST_LOOP", "uvloop") == "uvloop":
            import uvloop

            loop = uvloop.new_event_loop()
        else:
            loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(server.serve(sockets))
        except BaseException as exc:  # noqa: BLE001 -- surfaced to the test below
            errors.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not server.started.wait(10):
        raise RuntimeError(f"server did not start: {errors!r}")
    try:
        yield Running("127.0.0.1", port, server=server)
    finally:
        server.should_exit = True
        thread.join(15)
        if thread.is_alive():
            raise RuntimeError("server did not stop within 15 s")
        if errors:
            raise errors[0]


@contextlib.contextmanager
def serve_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 15.0) -> Iterator[Running]:
    """Run ``python -m fastasgi ARGS --port 0`` and wait for the line naming the port."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "fastasgi", *args],
        cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    port = _wait_for_port(process, timeout)
    try:
        yield Running("127.0.0.1", port, process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _wait_for_port(process: subprocess.Popen[str], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(r"running on https?://[^\s]+:(\d+)", line)
        if match:
            threading.Thread(target=_drain, args=(process,), daemon=True).start()
            return int(match.group(1))
    process.kill()
    raise RuntimeError("server did not report its port:\n" + "".join(seen))


def _drain(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for _ in process.stdout:
        pass


def recv_until_closed(sock: socket.socket, limit: int = 1 << 24) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the socket timeout)."""
    chunks = []
    total = 0
    while total < limit:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def read_response(
    sock: socket.socket, buffer: bytearray | None = None, *, head_request: bool = False
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Read one HTTP/1.1 response (Content-Length or chunked) from a raw socket."""
    buf = buffer if buffer is not None else bytearray()
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed before a full head: {bytes(buf)!r}")
        buf += data
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    del buf[:]
    buf += rest
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if head_request or status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    if b"content-length" in headers:
        length = int(headers[b"content-length"])
        while len(buf) < length:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed inside the body")
            buf += data
        body = bytes(buf[:length])
        del buf[:length]
        return status, headers, body
    if headers.get(b"transfer-encoding") == b"chunked":
        body = bytearray()
        while True:
            while b"\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("closed inside a chunk")
                buf += data
            line, _, _ = bytes(buf).partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            need = len(line) + 2 + size + 2
            while len(buf) < need:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("closed inside a chunk")
                buf += data
            body += buf[len(line) + 2: len(line) + 2 + size]
            del buf[:need]
            if size == 0:
                return status, headers, bytes(body)
    body = bytes(buf) + recv_until_closed(sock)
    del buf[:]
    return status, headers, body
