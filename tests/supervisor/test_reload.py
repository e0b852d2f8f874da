"""--reload over a real socket: a saved file is served, a broken one is not, and the old code
serves until the file is fixed."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.supervisor.supervised import Supervised

APP_SOURCE = '''\
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = {body!r}
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": body}})
'''


def _reloading_server(directory: Path, *args: str) -> Supervised:
    command = [sys.executable, "-m", "fastasgi", "main:app", "--reload", "--port", "0",
               "--no-access-log", "--reload-delay", "0.1", *args]
    return Supervised(command, cwd=directory)


def _serves(server: Supervised, body: bytes) -> bool:
    return server.get() == (200, body)


def test_saved_file_is_served_and_a_syntax_error_leaves_the_old_code_serving(
    tmp_path: Path,
) -> None:
    source = tmp_path / "main.py"
    source.write_text(APP_SOURCE.format(body=b"one"))
    server = _reloading_server(tmp_path)  # watches the current directory: tmp_path
    try:
        server.wait_for_port()
        assert server.get() == (200, b"one")
        first = re.search(r"Started server process \[(\d+)\]", server.log).group(1)

        # Same length as before, probably within the same second: a stale .pyc would show.
        source.write_text(APP_SOURCE.format(body=b"two"))
        server.wait_for(lambda: _serves(server, b"two"), 20, "the edited app to be served")
        assert "WatchFiles detected changes in 'main.py'. Reloading..." in server.log
        server.wait_for(lambda: f"Finished server process [{first}]" in server.log, 20,
                        "the old worker to stop")

        source.write_text(APP_SOURCE.format(body=b"two").replace("return\n", "return (\n"))
        server.wait_for(lambda: "Reload failed" in server.log, 20, "the failed reload")
        assert f'File "{source}", line 3' in server.log
        assert "SyntaxError: '(' was never closed" in server.log
        assert server.get() == (200, b"two")

        source.write_text(APP_SOURCE.format(body=b"three"))
        server.wait_for(lambda: _serves(server, b"three"), 20, "the fixed app to be served")
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log
    assert "Stopping reloader process" in server.log


def test_only_included_files_trigger_a_reload(tmp_path: Path) -> None:
    source = tmp_path / "main.py"
    source.write_text(APP_SOURCE.format(body=b"one"))
    (tmp_path / "templates").mkdir()
    server = _reloading_server(tmp_path, "--reload-include", "*.html",
                               "--reload-exclude", "scratch_*.py")
    try:
        server.wait_for_port()
        (tmp_path / "notes.txt").write_text("not watched")
        (tmp_path / "scratch_1.py").write_text("# excluded")
        (tmp_path / "templates" / "index.html").write_text("<p>watched</p>")
        server.wait_for(lambda: "detected changes" in server.log, 20, "a reload")
        server.wait_for(lambda: "Rolling restart: stopping worker" in server.log, 20,
                        "the reload to finish")
    finally:
        server.stop()
    detected = [line for line in server.lines if "detected changes" in line]
    assert detected == [
        "WARNING:  WatchFiles detected changes in 'templates/index.html'. Reloading...\n"
    ]


def test_a_first_start_that_fails_waits_for_the_fix(tmp_path: Path) -> None:
    source = tmp_path / "main.py"
    source.write_text("raise RuntimeError('not configured')\n")
    server = _reloading_server(tmp_path)
    try:
        server.wait_for(lambda: "Waiting for a file change to try again" in server.log, 20,
                        "the failed first start")
        assert "RuntimeError: not configured" in server.log
        source.write_text(APP_SOURCE.format(body=b"fixed"))
        server.wait_for_port()
        assert server.get() == (200, b"fixed")
    finally:
        server.stop()


def test_reload_with_several_workers_runs_one_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(APP_SOURCE.format(body=b"one"))
    server = _reloading_server(tmp_path, "--workers", "3")
    try:
        server.wait_for_port()
        assert server.get() == (200, b"one")
        assert len(server.workers()) == 2  # one worker and the file watcher
    finally:
        server.stop()
    assert 'WARNING:  "workers" flag is ignored when reloading is enabled.' in server.log
