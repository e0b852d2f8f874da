"""FASTASGI_DEBUG=1 builds: the checks a source turned off for speed come back on.

A probe module in a scratch project is built by the real setup.py, once in debug and once in
release. It turns bounds checking off in all three places Cython allows (file header, decorator,
``with`` block), so the debug build only passes if setup.py's directives beat every one of them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE_PYX = """\
# cython: language_level=3, boundscheck=False, wraparound=False
cimport cython


def item(list values, Py_ssize_t i):
    return values[i]


@cython.boundscheck(False)
def item_decorated(list values, Py_ssize_t i):
    return values[i]


def item_in_block(list values, Py_ssize_t i):
    with cython.boundscheck(False):
        return values[i]


def positive(int x):
    assert x > 0, "x must be positive"
    return x


def add_one(int x):
    cdef int y = x + 1
    return y
"""

# Runs in the built scratch project; prints one "check outcome" line per check. Out-of-range
# indexes are only tried on a debug build: without bounds checks they read past the list.
CHECKS = """
import sys
from fastasgi import _probe

def outcome(call):
    try:
        call()
    except IndexError:
        return "IndexError"
    except AssertionError:
        return "AssertionError"
    return "returned"

if sys.argv[1] == "debug":
    print("index", outcome(lambda: _probe.item([1, 2], 5)))
    print("decorated", outcome(lambda: _probe.item_decorated([1, 2], 5)))
    print("block", outcome(lambda: _probe.item_in_block([1, 2], 5)))
    print("negative", _probe.item([1, 2], -1))
print("in_range", outcome(lambda: _probe.item([1, 2], 1)))
print("assert", outcome(lambda: _probe.positive(0)))

# Cython reports lines to sys.settrace before Python 3.13 and to sys.monitoring from 3.13 on.
seen = set()
def tracer(frame, event, arg):
    if frame.f_code.co_filename.endswith("_probe.pyx"):
        seen.add(event)
    return tracer
monitoring = getattr(sys, "monitoring", None)
if monitoring is not None:
    def on_line(code, line):
        if code.co_filename.endswith("_probe.pyx"):
            seen.add("line")
    monitoring.use_tool_id(monitoring.DEBUGGER_ID, "probe")
    monitoring.register_callback(monitoring.DEBUGGER_ID, monitoring.events.LINE, on_line)
    monitoring.set_events(monitoring.DEBUGGER_ID, monitoring.events.LINE)
sys.settrace(tracer)
_probe.add_one(1)
sys.settrace(None)
if monitoring is not None:
    monitoring.set_events(monitoring.DEBUGGER_ID, 0)
print("traced", "line" in seen)
"""


def build_probe(project: Path, *, debug: bool) -> dict[str, str]:
    """Build the probe with the real setup.py and return the outcome of each check."""
    shutil.copy(ROOT / "setup.py", project / "setup.py")
    (project / "fastasgi").mkdir()
    (project / "fastasgi" / "__init__.py").write_text("")
    (project / "fastasgi" / "_probe.pyx").write_text(PROBE_PYX)
    env = dict(os.environ)
    env.pop("FASTASGI_DEBUG", None)
    if debug:
        env["FASTASGI_DEBUG"] = "1"
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHECKS), "debug" if debug else "release"],
        cwd=project, capture_output=True, text=True, timeout=30, check=False,
    )
    assert run.returncode == 0, run.stderr
    return dict(line.split(" ", 1) for line in run.stdout.splitlines())


@pytest.fixture(scope="module")
def debug_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    project = tmp_path_factory.mktemp("debug")
    return project, build_probe(project, debug=True)


@pytest.fixture(scope="module")
def release_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    project = tmp_path_factory.mktemp("release")
    return project, build_probe(project, debug=False)


def test_debug_build_checks_bounds_even_where_the_source_turns_them_off(
    debug_project: tuple[Path, dict[str, str]],
) -> None:
    _, results = debug_project
    assert results["index"] == "IndexError"         # header: boundscheck=False
    assert results["decorated"] == "IndexError"     # @cython.boundscheck(False)
    assert results["block"] == "IndexError"         # with cython.boundscheck(False)
    # wraparound=False in the header: release reads before the list; debug takes a checked path.
    assert results["negative"] == "2"
    assert results["in_range"] == "returned"


def test_debug_build_runs_assertions_and_traces_lines(
    debug_project: tuple[Path, dict[str, str]],
) -> None:
    _, results = debug_project
    assert results["assert"] == "AssertionError"
    assert results["traced"] == "True"


def test_debug_c_files_stay_out_of_the_source_tree(
    debug_project: tuple[Path, dict[str, str]],
) -> None:
    project, _ = debug_project
    assert not (project / "fastasgi" / "_probe.c").exists()
    assert (project / "build" / "cython-debug" / "fastasgi" / "_probe.c").exists()


def test_release_build_drops_assertions_and_tracing(
    release_project: tuple[Path, dict[str, str]],
) -> None:
    project, results = release_project
    assert results["in_range"] == "returned"
    assert results["assert"] == "returned"
    assert results["traced"] == "False"
    assert (project / "fastasgi" / "_probe.c").exists()
