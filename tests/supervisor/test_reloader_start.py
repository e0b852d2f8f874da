"""The file watcher of --reload, as the supervisor starts it: once ``wait_until_watching``
returns, a file saved at once is reported (a worker started then never misses a fix)."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from fastasgi.config import Config
from fastasgi.supervisor.reloader import Reloader


def test_a_file_saved_as_soon_as_the_watcher_says_it_watches_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    reloader = Reloader(Config(app="main:app", reload=True, reload_delay=0.05))
    reloader.start(multiprocessing.get_context("fork"), [])
    try:
        reloader.wait_until_watching()
        (tmp_path / "main.py").write_text("app = None\n")
        changed: list[str] = []
        deadline = time.monotonic() + 15
        while not changed and time.monotonic() < deadline:
            if reloader.channel is not None and reloader.channel.poll(0.1):
                changed = reloader.read()
        assert changed == ["main.py"]
    finally:
        reloader.stop()
