"""End-to-end WebSocket echo throughput of fastasgi and uvicorn, side by side in one run.

What is measured: messages per second through an echo app, with CONNECTIONS connections that each
send one small text message, wait for its echo, and send the next (a ping-pong loop per
connection, so the figure is the server's round trip, not how fast a client can fill a pipe).

How a run goes: every server starts once (one worker, pinned to CPU 0), must echo a message, and
gets a warm-up; then rounds: each round runs the load client (a separate process pinned to CPU 1)
once against every server, round-robin, starting with a different server each round. The figure
per server is the MEDIAN messages/s over the rounds; the ratio is fastasgi / uvicorn.

The load client is a small asyncio Protocol on uvloop that writes a pre-built masked frame and
compares each echo with the expected bytes: a general-purpose client (the `websockets` library)
costs more CPU per message than the servers under test, and would measure itself.

Run directly:  python -m bench.e2e.run_websocket --rounds 3 --duration 5
or through pytest: pytest bench/e2e/test_websocket_e2e_bench.py --benchmark-only
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import importlib.metadata
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import machine
from bench.e2e.servers import (
    HOST,
    REPO,
    ServerProcess,
    baseline_description,
    command_for_report,
    free_port,
    launch,
    pinned,
)
from bench.e2e.servers import SERVERS as HTTP_SERVERS
from bench.exclusive import exclusive_machine
from bench.options import (
    WebSocketBenchConfig,
    add_options,
    from_options,
    report_path,
)

APP = "bench.e2e.run_websocket:echo"
START_TIMEOUT = 20.0


# -- the app every server runs -----------------------------------------------------------------


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """WebSocket: send every message back. HTTP: 200 "ok". Lifespan: complete both phases."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            await send(message | {"type": "websocket.send"})
    elif scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})
    else:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return


# -- servers -----------------------------------------------------------------------------------


def _uvicorn(port: int) -> list[str]:
    flags = (
        f"--host {HOST} --port {port} --loop uvloop --http httptools --ws websockets-sansio"
        " --no-access-log --log-level warning"
    )
    return [sys.executable, "-m", "uvicorn", APP, *flags.split()]


def _http_server(name: str) -> Callable[[int], list[str]]:
    """The HTTP benchmarks' command line for server ``name`` (bench/e2e/servers.py), serving the
    echo app."""
    return lambda port: HTTP_SERVERS[name](APP, port)


# uvicorn needs its WebSocket implementation named; fastasgi's commands are the HTTP ones.
SERVERS: dict[str, Callable[[int], list[str]]] = {
    "fastasgi": _http_server("fastasgi"),
    "fastasgi-baseline": _http_server("fastasgi-baseline"),
    "uvicorn": _uvicorn,
}


def start_server(name: str, cpu: int | None, log_dir: Path) -> ServerProcess:
    port = free_port()
    command = pinned(SERVERS[name](port), cpu)
    return launch(name, "ws-echo", port, command, log_dir / f"bench-ws-{name}-{port}.log")


def wait_ready(server: ServerProcess, timeout: float = START_TIMEOUT) -> None:
    """Wait until the server echoes one message over a WebSocket."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}\n{server.log_tail()}"
            )
        try:
            got = asyncio.run(run_load(server.port, connections=1, duration=0.0, size=5))
        except (OSError, ConnectionError) as exc:
            last_error = repr(exc)
            time.sleep(0.1)
            continue
        if got["messages"] < 1:
            raise RuntimeError(f"{server.name} did not echo: {got}")
        return
    server.stop()
    raise RuntimeError(
        f"{server.name} did not serve within {timeout:.0f} s ({last_error})\n{server.log_tail()}"
    )


# -- the load client ---------------------------------------------------------------------------

MASK = b"\x5a\x13\xc7\x2e"


def masked_text_frame(payload: bytes) -> bytes:
    """One client text frame (RFC 6455 §5.2) of fewer than 126 bytes."""
    assert len(payload) < 126
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + MASK + masked


class EchoLoop(asyncio.Protocol):
    """One connection: handshake, then send / await the echo / send again until stopped."""

    def __init__(self, frame: bytes, echo: bytes, state: dict[str, Any]) -> None:
        self.frame = frame
        self.echo = echo
        self.state = state
        self.buffer = b""
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.count = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16))
        transport.write(
            b"GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n" % (HOST.encode(), key)
        )

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            head, sep, rest = buffer.partition(b"\r\n\r\n")
            if not sep:
                self.buffer = buffer
                return
            if not head.startswith(b"HTTP/1.1 101 "):
                self.fail(ConnectionError(f"handshake refused: {head[:60]!r}"))
                return
            self.upgraded = True
            self.ready.set_result(None)
            buffer = rest
        echo = self.echo
        n = len(echo)
        while len(buffer) >= n:
            if buffer[:n] == echo:
                buffer = buffer[n:]
                self.count += 1
                if self.state["running"]:
                    self.transport.write(self.frame)  # type: ignore[union-attr]
                continue
            if buffer[0] == 0x89 and len(buffer) >= 2 + buffer[1]:  # a keep-alive ping
                payload_end = 2 + buffer[1]
                self.send_pong(buffer[2:payload_end])
                buffer = buffer[payload_end:]
                continue
            if buffer[0] == 0x89:
                break
            self.fail(ConnectionError(f"unexpected bytes from the server: {buffer[:20]!r}"))
            return
        self.buffer = buffer

    def send_pong(self, payload: bytes) -> None:
        masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + MASK + masked)  # type: ignore[union-attr]

    def fail(self, exc: Exception) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc)
        self.state["errors"] += 1
        self.transport.abort()  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)


async def run_load(port: int, *, connections: int, duration: float, size: int) -> dict[str, Any]:
    """Open the connections, run the echo loops for ``duration`` seconds, close them."""
    loop = asyncio.get_running_loop()
    payload = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    frame = masked_text_frame(payload)
    echo_frame = bytes([0x81, len(payload)]) + payload
    state: dict[str, Any] = {"running": True, "errors": 0}
    protocols: list[EchoLoop] = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(
            lambda: EchoLoop(frame, echo_frame, state), HOST, port
        )
        protocols.append(protocol)
    await asyncio.wait_for(asyncio.gather(*(p.ready for p in protocols)), 10)
    started = time.perf_counter()
    for protocol in protocols:
        protocol.transport.write(frame)  # type: ignore[union-attr]
    await asyncio.sleep(duration)
    counts = sum(p.count for p in protocols)
    elapsed = time.perf_counter() - started
    state["running"] = False
    if duration == 0.0:
        await asyncio.sleep(0.2)  # readiness check: let the one echo arrive
        counts = sum(p.count for p in protocols)
    close = bytes([0x88, 0x82]) + MASK + bytes(b ^ m for b, m in zip(b"\x03\xe8", MASK))
    for protocol in protocols:
        protocol.transport.write(close)  # type: ignore[union-attr]
    await asyncio.wait([p.closed for p in protocols], timeout=5)
    for protocol in protocols:
        protocol.transport.abort()  # type: ignore[union-attr]
    return {"messages": counts, "seconds": elapsed, "errors": state["errors"]}


def client_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e.run_websocket client")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--size", type=int, default=16)
    args = parser.parse_args(argv)
    import uvloop

    result = uvloop.run(
        run_load(args.port, connections=args.connections, duration=args.duration, size=args.size)
    )
    print(json.dumps(result))
    return 0


# -- the matrix --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    messages_per_s: float
    messages: int
    errors: int
    # CPU time the server process spent per message (Linux; 0.0 where /proc is missing).
    server_cpu_us: float = 0.0


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BenchResult:
    runs: dict[str, list[LoadResult]]
    commands: dict[str, list[str]]
    client_command: list[str]
    load_before: float = 0.0
    load_after: float = 0.0

    def median(self, server: str) -> float:
        return statistics.median(r.messages_per_s for r in self.runs[server])

    def median_cpu_us(self, server: str) -> float:
        return statistics.median(r.server_cpu_us for r in self.runs[server])

    def spread(self, server: str) -> float:
        rates = [r.messages_per_s for r in self.runs[server]]
        return (max(rates) - min(rates)) / statistics.median(rates)

    def errors(self, server: str) -> int:
        return sum(r.errors for r in self.runs[server])


def client_command(
    port: int, config: WebSocketBenchConfig, duration: float, cpu: int | None
) -> list[str]:
    return pinned(
        [
            sys.executable,
            "-m",
            "bench.e2e.run_websocket",
            "client",
            "--port",
            str(port),
            "--connections",
            str(config.connections),
            "--duration",
            str(duration),
            "--size",
            str(config.size),
        ],
        cpu,
    )


def run_client(
    server: ServerProcess, config: WebSocketBenchConfig, duration: float, cpu: int | None
) -> LoadResult:
    command = client_command(server.port, config, duration, cpu)
    cpu_before = process_cpu_seconds(server.process.pid)
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    cpu_after = process_cpu_seconds(server.process.pid)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited with {done.returncode}:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    messages = figures["messages"]
    # NOTE: the server's CPU is counted over the client's whole run (connect and close too);
    # the handshakes of 16 connections are noise next to a few hundred thousand messages.
    cpu_us = 0.0
    if cpu_before is not None and cpu_after is not None and messages:
        cpu_us = (cpu_after - cpu_before) / messages * 1e6
    return LoadResult(messages / figures["seconds"], messages, figures["errors"], cpu_us)


def run_bench(
    config: WebSocketBenchConfig, progress: Callable[[str], None] = lambda line: None
) -> BenchResult:
    """Run every configured server; every server is stopped before this returns. Holds the
    machine-wide benchmark lock meanwhile (bench/exclusive.py)."""
    config.validate()
    with exclusive_machine(progress=progress):
        return _run_bench_exclusive(config, progress)


def _run_bench_exclusive(config: WebSocketBenchConfig,
                         progress: Callable[[str], None]) -> BenchResult:
    server_cpu, client_cpu = config.cpus()
    load_before = os.getloadavg()[0]
    started: list[ServerProcess] = []
    logs = tempfile.TemporaryDirectory(prefix="fastasgi-ws-bench-")
    try:
        for name in config.servers:
            started.append(start_server(name, server_cpu, Path(logs.name)))
        for server in started:
            wait_ready(server)
            if config.warmup:
                run_client(server, config, config.warmup, client_cpu)
        runs: dict[str, list[LoadResult]] = {s.name: [] for s in started}
        for round_index in range(config.rounds):
            first = round_index % len(started)
            for server in started[first:] + started[:first]:
                result = run_client(server, config, config.duration, client_cpu)
                runs[server.name].append(result)
                errors = f", {result.errors} errors" if result.errors else ""
                progress(
                    f"round {round_index + 1}/{config.rounds} {server.name}: "
                    f"{result.messages_per_s:,.0f} messages/s, server CPU "
                    f"{result.server_cpu_us:.1f} us/message{errors}"
                )
                if server.process.poll() is not None:
                    raise RuntimeError(f"{server.name} died during the run:\n{server.log_tail()}")
        return BenchResult(
            runs,
            {s.name: s.command for s in started},
            client_command(0, config, config.duration, client_cpu),
            load_before,
            os.getloadavg()[0],
        )
    finally:
        for server in started:
            server.stop()
        logs.cleanup()


def results_table(result: BenchResult, servers: list[str]) -> str:
    lines = [
        "| server | messages/s (median) | spread | server CPU per message (median) | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in servers:
        lines.append(
            f"| {name} | {result.median(name):,.0f} | {result.spread(name):.1%} | "
            f"{result.median_cpu_us(name):.1f} us | {result.errors(name)} |"
        )
    first = servers[0]
    for other in servers[1:]:
        speed = result.median(first) / result.median(other)
        line = f"\n{first}/{other}: **{speed:.2f}x** messages/s"
        if result.median_cpu_us(first):
            cost = result.median_cpu_us(other) / result.median_cpu_us(first)
            line += f"; {cost:.2f}x less server CPU per message"
        lines.append(line)
    return "\n".join(lines)


def render_report(
    result: BenchResult, config: WebSocketBenchConfig, when: datetime.datetime
) -> str:
    facts = machine.describe()
    try:
        facts["websockets"] = importlib.metadata.version("websockets")
    except importlib.metadata.PackageNotFoundError:
        facts["websockets"] = "not installed"
    server_cpu, client_cpu = config.cpus()
    lines = [
        f"# WebSocket echo throughput, {when:%Y-%m-%d %H:%M} UTC",
        "",
        (
            f"{config.connections} connections, each a loop of one {config.size}-byte text message "
            f"and its echo; {config.rounds} rounds of {config.duration} s per server, interleaved; "
            f"median per server. Server on CPU {server_cpu}, client on CPU {client_cpu}."
        ),
        "",
        results_table(result, config.servers),
        "",
        "## Rounds",
        "",
        "messages/s (server CPU per message) of each round:",
        "",
    ]
    for name in config.servers:
        rates = ", ".join(
            f"{r.messages_per_s:,.0f} ({r.server_cpu_us:.1f} us)" for r in result.runs[name]
        )
        lines.append(f"- {name}: {rates}")
    lines += [
        "",
        (f"Load average (1 min) before: {result.load_before:.2f}, after: {result.load_after:.2f}"),
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines += ["", "## Command lines", ""]
    lines += [f"- {line}" for line in baseline_description(list(result.commands))]
    for name, command in result.commands.items():
        lines.append(f"- {name}: `{command_for_report(command)}`")
    lines.append(f"- client: `{shlex.join(result.client_command)}` (PORT: each server's)")
    return "\n".join(lines) + "\n"


def write_report(text: str, when: datetime.datetime) -> Path:
    """Write ``<date>T<time>-websocket.md``; a report already there is never overwritten."""
    path = report_path("websocket", when)
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["client"]:
        return client_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_options(WebSocketBenchConfig, parser.add_argument)
    config = from_options(WebSocketBenchConfig, parser.parse_args(argv))
    try:
        config.validate()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    when = datetime.datetime.now(datetime.timezone.utc)
    result = run_bench(config, progress=print)
    print()
    print(results_table(result, config.servers))
    if config.report:
        print(f"\nreport: {write_report(render_report(result, config, when), when)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
