"""Shared helpers: run ``python -m fastasgi`` as a user would, in a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Variables fastasgi reads; a developer's own settings must not leak into the tests.
_OURS = ("FASTASGI_", "UVICORN_", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "NO_COLOR")

RunCommand = Callable[..., subprocess.CompletedProcess]


def clean_environ(**extra: str) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(_OURS)}
    environ["PYTHONPATH"] = str(REPO)
    environ.update(extra)
    return environ


@pytest.fixture
def run_fastasgi(tmp_path: Path) -> RunCommand:
    """``run_fastasgi(*args, env={...})``: the finished ``python -m fastasgi`` process, run in
    ``tmp_path`` with a 15 s limit."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fastasgi", *args],
            cwd=tmp_path,
            env=clean_environ(**(env or {})),
            capture_output=True,
            check=False,
            text=True,
            timeout=15,
        )

    return run


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A private environment mapping for build_config(); os.environ is cleaned too, since an
    --env-file or a default may consult it."""
    for key in list(os.environ):
        if key.startswith(_OURS):
            monkeypatch.delenv(key)
    return {}
