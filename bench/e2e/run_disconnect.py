"""How long after its client leaves does an app learn of it? fastasgi beside uvicorn and granian.

Two apps (bench/disconnect_app.py): a Starlette StreamingResponse producing a token every 5 ms
(under ASGI spec 2.4 it stops only when send() raises), and a long-poll waiting in receive(). For
each round the client starts a request, closes the socket, and the app writes down when it
noticed; the report gives the median, p90 and worst delay per server.

    python -m bench.e2e.run_disconnect --rounds 50 --servers fastasgi,uvicorn,granian

127.0.0.1 only, bounded: each round waits at most --timeout seconds for the app.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.e2e.servers import HOST, SERVERS, ServerProcess, free_port, launch
from bench.exclusive import exclusive_machine
from bench.machine import describe

APPS = {
    "stream": "bench.e2e.disconnect_app:streaming",
    "long-poll": "bench.e2e.disconnect_app:long_poll",
}


def wait_ready(server: ServerProcess, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=2) as sock:
                sock.sendall(b"GET /ready HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start:\n{server.log_tail()}")


def one_round(port: int, stops: Path, app: str, timeout: float) -> float | None:
    """Seconds from the client's close to the app's notice; None if it never noticed."""
    before = len(stops.read_text().split()) if stops.exists() else 0
    with socket.create_connection((HOST, port), timeout=5) as sock:
        path = b"/stream" if app == "stream" else b"/poll"
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: b\r\n\r\n")
        if app == "stream":
            sock.recv(4096)  # the stream is running
        else:
            time.sleep(0.05)  # the app waits in receive()
        closed_at = time.monotonic()
    deadline = closed_at + timeout
    while time.monotonic() < deadline:
        lines = stops.read_text().split() if stops.exists() else []
        if len(lines) > before:
            return float(lines[before]) - closed_at
        time.sleep(0.001)
    return None


def measure(name: str, app: str, rounds: int, timeout: float, cpu: int | None) -> dict[str, object]:
    stops = Path(tempfile.mkdtemp()) / "stops"
    port = free_port()
    target = APPS[app]
    command = SERVERS[name](target, port)
    if name == "granian":
        command = [c for c in command if c != "--no-ws"]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    os.environ["FASTASGI_BENCH_STOPS"] = str(stops)
    log = Path(tempfile.gettempdir()) / f"bench-disconnect-{name}-{port}.log"
    server = launch(name, app, port, command, log)
    try:
        wait_ready(server)
        delays = [one_round(port, stops, app, timeout) for _ in range(rounds)]
    finally:
        server.stop()
    seen = sorted(d for d in delays if d is not None)
    # The report names no machine's paths: the interpreter is shown as plain "python".
    shown = ["python" if part == sys.executable else part for part in command]
    return {
        "server": name, "app": app, "command": " ".join(shown), "rounds": rounds,
        "missed": rounds - len(seen),
        "median_ms": statistics.median(seen) * 1000 if seen else None,
        "p90_ms": seen[int(0.9 * (len(seen) - 1))] * 1000 if seen else None,
        "max_ms": seen[-1] * 1000 if seen else None,
    }


def fmt(value: object) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def report(results: list[dict[str, object]], args: argparse.Namespace) -> str:
    machine = {k: v.replace(sys.executable, "python") for k, v in describe().items()}
    lines = [
        f"# Disconnect detection, {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "Delay from the client closing its socket to the app learning of it (a Starlette",
        "StreamingResponse stopped by send() raising, a long-poll woken by http.disconnect).",
        f"{args.rounds} rounds per server and app; `missed`: rounds in which the app had not",
        f"noticed after {args.timeout} s.",
        "",
        "Machine: " + ", ".join(f"{k}: {v}" for k, v in machine.items()),
        "",
        "| app | server | median ms | p90 ms | max ms | missed |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['app']} | {r['server']} | {fmt(r['median_ms'])} | {fmt(r['p90_ms'])} "
                     f"| {fmt(r['max_ms'])} | {r['missed']} |")
    lines += ["", "Command lines:", ""]
    lines += [f"- `{r['command']}`" for r in results if r["app"] == "stream"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="fastasgi,uvicorn,granian")
    parser.add_argument("--apps", default="stream,long-poll")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin each server to this CPU")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="write a dated markdown report here (e.g. bench/reports)")
    args = parser.parse_args(argv)
    results = []
    with exclusive_machine(progress=print):
        for app in args.apps.split(","):
            for name in args.servers.split(","):
                results.append(measure(name, app, args.rounds, args.timeout, args.cpu))
                print(results[-1], flush=True)
    text = report(results, args)
    print(text)
    if args.report_dir:
        path = args.report_dir / f"{time.strftime('%Y-%m-%dT%H%M')}-disconnect.md"
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
