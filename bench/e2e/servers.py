"""Start the servers under benchmark as subprocesses on 127.0.0.1 and stop them, bounded in time.

Every server runs ONE worker with access logging off, on uvloop, with its own HTTP/1.1 parser.
Each is started in a new session so that stopping it reaches the worker processes it forks
(granian runs its worker in a child process) and nothing else.
"""

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.apps import APPS
from bench.e2e.cpu_usage import server_processes, start_time
from bench.e2e.pythons import venv_python

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


# Flags that matter for a fair comparison are spelled out even where they are the default, so
# the command lines in a report say everything.


def _fastasgi(target: str, port: int) -> list[str]:
    flags = f"--host {HOST} --port {port} --no-access-log --log-level warning"
    return [sys.executable, "-m", "fastasgi", target, *flags.split()]


def _uvicorn(target: str, port: int) -> list[str]:
    flags = (
        f"--host {HOST} --port {port} --loop uvloop --http httptools"
        " --no-access-log --log-level warning"
    )
    return [sys.executable, "-m", "uvicorn", target, *flags.split()]


def _granian(target: str, port: int, http: str = "1") -> list[str]:
    # NOTE: --http 1 because the other two speak HTTP/1.1 only; "auto" would also sniff every
    # connection for an HTTP/2 preface.
    flags = (
        f"--interface asgi --host {HOST} --port {port} --workers 1 --runtime-threads 1"
        f" --loop uvloop --http {http} --no-ws --no-access-log --log-level warning"
    )
    return [sys.executable, "-m", "granian", *flags.split(), target]


# Before/after: an earlier fastasgi checkout, built into its own .venv, served beside this one
# as "fastasgi-baseline": from its own directory, so it imports its own code, with this
# checkout's bench apps (--app-dir), so both serve the same apps, including ones added since.
BASELINE_VARIABLE = "FASTASGI_BASELINE"


def baseline_root() -> Path:
    root = os.environ.get(BASELINE_VARIABLE)
    if not root:
        raise ValueError(f"fastasgi-baseline needs {BASELINE_VARIABLE}=<a checkout with a "
                         ".venv where it is installed>")
    return Path(root).resolve()


def _fastasgi_baseline(target: str, port: int) -> list[str]:
    python = baseline_root() / ".venv" / "bin" / "python"
    return [str(python), *_fastasgi(target, port)[1:], "--app-dir", str(REPO)]


def _fastasgi_py312(target: str, port: int) -> list[str]:
    # Built by bench/e2e/pythons.py (prepare()) before it is started.
    return [str(venv_python("fastasgi-py312")), *_fastasgi(target, port)[1:]]


def _fastasgi_py313(target: str, port: int) -> list[str]:
    return [str(venv_python("fastasgi-py313")), *_fastasgi(target, port)[1:]]


def _ceiling(target: str, port: int) -> list[str]:
    # Not a server: uvloop answering fixed bytes (bench/e2e/ceiling.py), the bound of the others.
    return [sys.executable, "-m", "bench.e2e.ceiling", "--host", HOST, "--port", str(port), target]


SERVERS: dict[str, Callable[[str, int], list[str]]] = {
    "fastasgi": _fastasgi,
    "fastasgi-baseline": _fastasgi_baseline,
    "fastasgi-py312": _fastasgi_py312,
    "fastasgi-py313": _fastasgi_py313,
    "uvicorn": _uvicorn,
    "granian": _granian,
    "ceiling": _ceiling,
}


# HTTP/2 over cleartext (h2c), the client speaking HTTP/2 from its first byte ("prior knowledge").
# fastasgi serves it on its plain port by default, hypercorn too; granian only with --http 2.


def _granian_h2(target: str, port: int) -> list[str]:
    return _granian(target, port, http="2")


def _hypercorn(target: str, port: int) -> list[str]:
    # One worker on uvloop; hypercorn logs no access by default (no --access-logfile).
    flags = f"--bind {HOST}:{port} --workers 1 --worker-class uvloop --log-level warning"
    return [sys.executable, "-m", "hypercorn", *flags.split(), target]


H2_SERVERS: dict[str, Callable[[str, int], list[str]]] = {
    "fastasgi": _fastasgi,
    "fastasgi-baseline": _fastasgi_baseline,  # a checkout with HTTP/2 (after commit 10fb5ad)
    "granian": _granian_h2,
    "hypercorn": _hypercorn,
}


def baseline_description(servers: list[str]) -> list[str]:
    """A report's line on which build fastasgi-baseline was, when it ran."""
    if "fastasgi-baseline" not in servers:
        return []
    commit = subprocess.run(
        ["git", "-C", str(baseline_root()), "log", "-1", "--format=%h %s"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    return [f"fastasgi-baseline: the same server built from commit {commit or '(unknown)'}."]


def command_for_report(command: list[str]) -> str:
    """``command`` as a report shows it, naming no machine's paths: the interpreter is "python",
    the baseline's "$FASTASGI_BASELINE/.venv/bin/python"."""
    line = shlex.join(command)
    root = os.environ.get(BASELINE_VARIABLE)
    if root:
        line = line.replace(str(Path(root).resolve()), "$FASTASGI_BASELINE")
    line = line.replace(sys.executable, "python").replace(f"{REPO}{os.sep}", "")
    return line.replace(shlex.quote(str(REPO)), ".")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pinned(command: list[str], cpu: int | None) -> list[str]:
    """``command`` run on one CPU through taskset, or unchanged when ``cpu`` is None."""
    return command if cpu is None else ["taskset", "-c", str(cpu), *command]


def http_get(port: int, timeout: float) -> tuple[int, dict[bytes, bytes], bytes]:
    """One ``GET /`` with ``Connection: close``: (status, headers, body). Raises OSError."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > 2 << 20:  # the largest app answers 1 MiB
                raise OSError("response larger than 2 MiB")
    raw = b"".join(chunks)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise OSError(f"incomplete response: {raw[:200]!r}")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@dataclass
class ServerProcess:
    """One server serving one app of bench.apps, from start until stop()."""

    name: str
    app: str
    port: int
    command: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the server answers ``GET /`` with the app's exact response."""
        _, content_type, body = APPS[self.app]
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode} before serving\n"
                    f"command: {' '.join(self.command)}\n{self.log_tail()}"
                )
            try:
                status, headers, got = http_get(self.port, timeout=2.0)
            except OSError as exc:
                last_error = repr(exc)
                time.sleep(0.1)
                continue
            if (status, headers.get(b"content-type"), got) != (200, content_type, body):
                raise RuntimeError(
                    f"{self.name} answered {status} {headers} {got[:100]!r} for the {self.app} app"
                )
            return
        self.stop()
        raise RuntimeError(
            f"{self.name} did not serve within {timeout:.0f} s ({last_error})\n"
            f"command: {' '.join(self.command)}\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM the server's processes, SIGKILL what is left after STOP_TIMEOUT."""
        workers = {pid: start_time(pid) for pid in server_processes({self.process.pid})}
        workers.pop(self.process.pid, None)
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # Workers may outlive the parent. The group is ours alone (a new session); a worker that
        # left it was found above as a descendant, while its parent was still there to say so.
        self._signal_group(signal.SIGKILL)
        for pid, started in workers.items():
            if started is None or start_time(pid) != started:
                continue  # gone, or its pid now belongs to someone else's process
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


def start_server(
    name: str,
    app: str,
    cpu: int | None,
    log_dir: Path | None = None,
    commands: dict[str, Callable[[str, int], list[str]]] = SERVERS,
) -> ServerProcess:
    """Start server ``name`` of ``commands`` serving ``bench.apps`` app ``app`` on a free port,
    pinned to ``cpu``.

    Returns once the process is spawned; call wait_ready() before sending load."""
    if name not in commands:
        raise ValueError(f"unknown server {name!r}; known: {', '.join(commands)}")
    if app not in APPS:
        raise ValueError(f"unknown app {app!r}; known: {', '.join(APPS)}")
    port = free_port()
    command = pinned(commands[name](f"bench.apps:{APPS[app][0]}", port), cpu)
    log_dir = log_dir or Path(tempfile.gettempdir())
    log_path = log_dir / f"bench-{name}-{app}-{port}.log"
    root = baseline_root() if name == "fastasgi-baseline" else REPO
    return launch(name, app, port, command, log_path, root)


def launch(name: str, app: str, port: int, command: list[str], log_path: Path,
           root: Path = REPO) -> ServerProcess:
    """Start ``command`` from ``root`` (the repository), in its own session, logging to
    ``log_path``."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServerProcess(name, app, port, command, process, log_path)
