"""``python -m fastasgi`` as a user runs it: one line per mistake, and a server that serves."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import fastasgi

from .conftest import REPO, RunCommand, clean_environ

HELLO = ["examples.hello:app", "--app-dir", str(REPO)]


def _one_error_line(result: subprocess.CompletedProcess, exit_code: int) -> str:
    assert result.returncode == exit_code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def test_no_app_is_an_error(run_fastasgi: RunCommand) -> None:
    line = _one_error_line(run_fastasgi(), 1)
    assert line == "error: no app given: fastasgi [OPTIONS] MODULE:ATTR (see --help)"


def test_bad_import_string_is_an_error(run_fastasgi: RunCommand) -> None:
    line = _one_error_line(run_fastasgi("main.app"), 1)
    assert line == 'error: cannot load app \'main.app\': expected "module:attribute", e.g. "main:app"'


def test_missing_module_is_an_error(run_fastasgi: RunCommand, tmp_path: Path) -> None:
    line = _one_error_line(run_fastasgi("mian:app"), 1)
    assert line == (
        f"error: cannot load app 'mian:app': no module named 'mian' (searched from {tmp_path})"
    )


def _traceback_and_error_line(result: subprocess.CompletedProcess) -> tuple[str, str]:
    """The traceback printed before the error line, and that line (exit status 1)."""
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    *traceback, line = result.stderr.splitlines()
    assert line.startswith("error: cannot load app "), result.stderr
    return "\n".join(traceback), line


def test_apps_own_import_error_is_shown_with_its_traceback(
    run_fastasgi: RunCommand, tmp_path: Path
) -> None:
    (tmp_path / "main.py").write_text("import os\nimport missing_dependency\n")
    traceback, line = _traceback_and_error_line(run_fastasgi("main:app"))
    assert line == (
        "error: cannot load app 'main:app': importing 'main' failed: ModuleNotFoundError: "
        f"No module named 'missing_dependency' (at {tmp_path / 'main.py'}:2)"
    )
    assert f'File "{tmp_path / "main.py"}", line 2, in <module>' in traceback
    assert "    import missing_dependency" in traceback


def test_exception_in_the_apps_module_shows_its_frames_and_no_importlib(
    run_fastasgi: RunCommand, tmp_path: Path
) -> None:
    (tmp_path / "settings.py").write_text(
        "import os\n\ndef require(name):\n    raise RuntimeError(f'{name} is not set')\n"
    )
    (tmp_path / "main.py").write_text("from settings import require\n\nrequire('SECRET_KEY')\n")
    traceback, line = _traceback_and_error_line(run_fastasgi("main:app"))
    assert line == (
        "error: cannot load app 'main:app': importing 'main' failed: RuntimeError: "
        f"SECRET_KEY is not set (at {tmp_path / 'settings.py'}:4)"
    )
    frames = re.findall(r'^  File "([^"]+)", line (\d+)', traceback, re.MULTILINE)
    assert frames == [(str(tmp_path / "main.py"), "3"), (str(tmp_path / "settings.py"), "4")]
    assert traceback.startswith("Traceback (most recent call last):")
    assert traceback.endswith("RuntimeError: SECRET_KEY is not set")
    assert "importlib" not in traceback and "importer.py" not in traceback


def test_syntax_error_names_the_users_file_and_line(
    run_fastasgi: RunCommand, tmp_path: Path
) -> None:
    (tmp_path / "main.py").write_text("async def app(scope, receive, send):\n    return (\n\n")
    traceback, line = _traceback_and_error_line(run_fastasgi("main:app"))
    assert line.startswith("error: cannot load app 'main:app': importing 'main' failed: "
                           "SyntaxError: ")
    assert line.endswith(f"(at {tmp_path / 'main.py'}:2)")
    assert f'File "{tmp_path / "main.py"}", line 2' in traceback
    assert "    return (" in traceback and "^" in traceback
    assert "importlib" not in traceback and "importer.py" not in traceback


def test_missing_attribute_is_an_error(run_fastasgi: RunCommand, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("application = None\n")
    line = _one_error_line(run_fastasgi("main:app"), 1)
    assert line == "error: cannot load app 'main:app': 'main' has no attribute 'app'"


def test_non_callable_app_is_an_error(run_fastasgi: RunCommand, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("app = {'routes': []}\n")
    line = _one_error_line(run_fastasgi("main:app"), 1)
    assert line == "error: cannot load app 'main:app': it is a 'dict' object, which is not callable"


def test_port_in_use_is_an_error(run_fastasgi: RunCommand) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = _one_error_line(run_fastasgi(*HELLO, "--port", str(port)), 1)
    assert line == f"error: cannot bind 127.0.0.1:{port}: address already in use"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "http"], "--port: expected an integer, got 'http'"),
        (["--loop", "tokio"], "--loop: expected one of auto, uvloop, asyncio; got 'tokio'"),
        (["--workers", "-2"], "--workers: must be at least 1, got -2"),
        (["--header", "X-Only"], "--header: expected NAME:VALUE, got 'X-Only'"),
        (["--bind", "0.0.0.0"], "unknown option --bind"),
    ],
)
def test_bad_flag_is_a_usage_error(run_fastasgi: RunCommand, args: list[str], message: str) -> None:
    line = _one_error_line(run_fastasgi("main:app", *args), 2)
    assert line == f"error: {message} (see fastasgi --help)"


def test_bad_environment_value_is_an_error(run_fastasgi: RunCommand) -> None:
    result = run_fastasgi("main:app", env={"FASTASGI_TIMEOUT_KEEP_ALIVE": "forever"})
    assert _one_error_line(result, 1) == (
        "error: FASTASGI_TIMEOUT_KEEP_ALIVE: expected a number, got 'forever'"
    )


def test_reload_without_watchfiles_says_how_to_install_it(tmp_path: Path) -> None:
    # None in sys.modules makes "import watchfiles" fail as if it were not installed.
    script = "import sys; sys.modules['watchfiles'] = None; from fastasgi.main import main; " \
             "sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", script, *HELLO, "--reload", "--port", "0"], cwd=tmp_path,
        env=clean_environ(), capture_output=True, text=True, timeout=15, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: --reload needs watchfiles: pip install 'fastasgi[standard]' "
        "(or pip install watchfiles)"
    )


def test_uds_with_port_is_an_error(run_fastasgi: RunCommand) -> None:
    line = _one_error_line(run_fastasgi("main:app", "--uds", "app.sock", "--port", "1"), 1)
    assert line == "error: --uds and --port cannot be used together"


def test_version_names_core_loop_and_python(run_fastasgi: RunCommand) -> None:
    result = run_fastasgi("--version")
    assert result.returncode == 0 and result.stderr == ""
    pattern = (
        rf"fastasgi {re.escape(fastasgi.__version__)} \(Cython core, (uvloop [\d.]+|asyncio)\) "
        rf"CPython \d+\.\d+ on \w+\n"
    )
    assert re.fullmatch(pattern, result.stdout)


def test_help_lists_the_flags(run_fastasgi: RunCommand) -> None:
    result = run_fastasgi("--help")
    assert result.returncode == 0
    assert "--port INT" in result.stdout and "FASTASGI_PORT" in result.stdout


# -- serving -------------------------------------------------------------------------------------


@pytest.fixture
def server_processes() -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _start(processes: list[subprocess.Popen], args: list[str], **popen: object) -> subprocess.Popen:
    env = clean_environ(**popen.pop("env", {}))  # type: ignore[arg-type]
    process = subprocess.Popen(
        [sys.executable, "-m", "fastasgi", *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, **popen,  # type: ignore[call-overload]
    )
    processes.append(process)
    return process


def _get(connect: socket.socket) -> tuple[int, bytes]:
    connect.sendall(b"GET /hello HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    response = http.client.HTTPResponse(connect)
    response.begin()
    return response.status, response.read()


def _connect_when_ready(address: object, family: int, process: subprocess.Popen) -> socket.socket:
    deadline = time.monotonic() + 10
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect(address)
            return sock
        except OSError:
            sock.close()
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {process.communicate()[1]}") from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    return out, err


def test_serves_on_the_port_from_the_environment(
    server_processes: list[subprocess.Popen],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _start(server_processes, HELLO, env={"FASTASGI_PORT": str(port)})
    with _connect_when_ready(("127.0.0.1", port), socket.AF_INET, process) as sock:
        assert _get(sock) == (200, b"Hello, world!")
    out, err = _stop(process)
    assert f"running on http://127.0.0.1:{port}" in err
    assert re.search(r'INFO:     127\.0\.0\.1:\d+ - "GET /hello HTTP/1\.1" 200', out)


def test_serves_the_app_and_port_named_by_uvicorn_variables(
    server_processes: list[subprocess.Popen],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _start(server_processes, [], env={
        "UVICORN_APP": "examples.hello:app", "UVICORN_APP_DIR": str(REPO),
        "UVICORN_PORT": str(port), "UVICORN_ACCESS_LOG": "false",
    })
    with _connect_when_ready(("127.0.0.1", port), socket.AF_INET, process) as sock:
        assert _get(sock) == (200, b"Hello, world!")
    out, err = _stop(process)
    assert f"running on http://127.0.0.1:{port}" in err
    assert out == ""


def test_serves_on_an_inherited_socket(server_processes: list[subprocess.Popen]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    address = listener.getsockname()
    with listener:
        fd = listener.fileno()
        process = _start(server_processes, [*HELLO, "--fd", str(fd), "--no-access-log"],
                         pass_fds=(fd,))
    with _connect_when_ready(address, socket.AF_INET, process) as sock:
        assert _get(sock) == (200, b"Hello, world!")
    out, _ = _stop(process)
    assert out == ""


def test_serves_on_a_unix_socket_and_removes_it(
    server_processes: list[subprocess.Popen], tmp_path: Path
) -> None:
    path = str(tmp_path / "app.sock")
    process = _start(server_processes, [*HELLO, "--uds", path])
    with _connect_when_ready(path, socket.AF_UNIX, process) as sock:
        assert _get(sock) == (200, b"Hello, world!")
    _stop(process)
    assert not os.path.exists(path)


def test_factory_without_the_flag_is_detected_and_served(
    server_processes: list[subprocess.Popen], tmp_path: Path
) -> None:
    (tmp_path / "main.py").write_text(
        "def create_app():\n"
        "    async def app(scope, receive, send):\n"
        "        if scope['type'] != 'http':\n"
        "            return\n"
        "        await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "        await send({'type': 'http.response.body', 'body': b'made by the factory'})\n"
        "    return app\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _start(server_processes, ["main:create_app", "--port", str(port),
                                        "--lifespan", "off"], cwd=tmp_path)
    with _connect_when_ready(("127.0.0.1", port), socket.AF_INET, process) as sock:
        assert _get(sock) == (200, b"made by the factory")
    _, err = _stop(process)
    assert "WARNING:  ASGI app factory detected. Using it, but please consider setting the " \
           "--factory flag explicitly." in err


def test_reload_options_without_reload_are_warned_about(run_fastasgi: RunCommand) -> None:
    result = run_fastasgi("mian:app", "--reload-dir", ".", "--reload-include", "*.html")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "WARNING:  Current configuration will not reload as not all conditions are met, "
        "please refer to documentation."
    )
