"""Event loop selection, each case in a fresh interpreter so the global policy never leaks.

A missing uvloop is simulated by ``sys.modules["uvloop"] = None``, which makes ``import uvloop``
raise ImportError exactly as on a platform without it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fastasgi.loops import uvloop_expected

ROOT = Path(__file__).resolve().parents[2]

# uvloop is a dependency exactly where uvloop_expected() says so: there its absence is a failure.
requires_uvloop = pytest.mark.skipif(
    not uvloop_expected(), reason="uvloop does not exist for Windows or PyPy"
)

BLOCK_UVLOOP = "import sys; sys.modules['uvloop'] = None\n"

SELECT_AND_RUN = """
import asyncio, logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(message)s")
from fastasgi.loops import setup_event_loop

used = setup_event_loop(sys.argv[1])

async def main():
    return type(asyncio.get_running_loop()).__module__

print(used, asyncio.run(main()))
"""


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
        cwd=ROOT,
    )


@requires_uvloop
def test_auto_uses_uvloop_when_installed() -> None:
    result = run_python(SELECT_AND_RUN, "auto")
    assert result.returncode == 0, result.stderr
    used, loop_module = result.stdout.split()
    assert used == "uvloop"
    assert loop_module.startswith("uvloop")
    assert "using asyncio" not in result.stderr


def test_auto_falls_back_to_asyncio_and_logs_when_uvloop_missing() -> None:
    result = run_python(BLOCK_UVLOOP + SELECT_AND_RUN, "auto")
    assert result.returncode == 0, result.stderr
    used, loop_module = result.stdout.split()
    assert used == "asyncio"
    assert loop_module.startswith("asyncio")
    assert "uvloop is not installed; using asyncio" in result.stderr


def test_fallback_is_a_warning_where_uvloop_is_a_dependency() -> None:
    result = run_python(BLOCK_UVLOOP + SELECT_AND_RUN, "auto")
    expected_level = "WARNING" if uvloop_expected() else "INFO"
    assert f"{expected_level} uvloop is not installed; using asyncio" in result.stderr


def test_explicit_uvloop_request_fails_clearly_when_missing() -> None:
    result = run_python(BLOCK_UVLOOP + SELECT_AND_RUN, "uvloop")
    assert result.returncode != 0
    assert "EventLoopUnavailable" in result.stderr
    assert "the uvloop event loop was requested but uvloop is not installed" in result.stderr
    assert result.stdout == ""


def test_explicit_asyncio_never_imports_uvloop() -> None:
    code = SELECT_AND_RUN + "print('uvloop' in sys.modules)\n"
    result = run_python(code, "asyncio")
    assert result.returncode == 0, result.stderr
    selection, uvloop_imported = result.stdout.splitlines()
    used, loop_module = selection.split()
    assert used == "asyncio"
    assert loop_module.startswith("asyncio")
    assert uvloop_imported == "False"
    assert "using asyncio" not in result.stderr


@requires_uvloop
def test_asyncio_after_uvloop_restores_the_standard_loop() -> None:
    code = """
    import asyncio
    from fastasgi.loops import setup_event_loop
    setup_event_loop("uvloop")
    setup_event_loop("asyncio")
    loop = asyncio.new_event_loop()
    print(type(loop).__module__)
    loop.close()
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("asyncio")


def test_unknown_loop_name_is_rejected_with_the_choices() -> None:
    from fastasgi.loops import setup_event_loop

    with pytest.raises(ValueError, match="auto, uvloop, asyncio"):
        setup_event_loop("tokio")
