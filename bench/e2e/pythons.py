"""fastasgi on other Pythons, served beside the one running the benchmark: ``fastasgi-py312``
(requests start as eager ``asyncio.Task``s from 3.12 on) and ``fastasgi-py313``.

Each gets a virtualenv of its own under bench/.venvs/ with what the server needs to run and to be
built (uvloop, Cython, setuptools), made the first time it is asked for, and the extensions of
this checkout compiled in place for that interpreter (their file names carry its ABI tag, so the
builds of several Pythons sit side by side) before every run, so the server is always the code
checked out. The compiler's default optimisation is used: these are measured, unlike CI's -O0
build for the eager-task tests. The interpreter is ``python3.X`` on PATH or, where pyenv is
installed, the newest 3.X in its versions folder (its shims may point at a version not selected
here).
"""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENVS = REPO / "bench" / ".venvs"
# What the server needs from the index to run and to be compiled from this checkout.
REQUIREMENTS = ("uvloop>=0.19", "Cython>=3.0.10", "setuptools>=77")
# Server name -> the Python version it runs on.
OTHER_PYTHONS = {"fastasgi-py312": "3.12", "fastasgi-py313": "3.13"}


class PythonMissing(RuntimeError):
    pass


def find_interpreter(version: str) -> str | None:
    """An interpreter of ``version`` (``"3.12"``), or None when there is none here."""
    candidates: list[str] = []
    on_path = shutil.which(f"python{version}")
    if shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=False).stdout.strip()
        if root:
            installed = sorted(
                Path(root, "versions").glob(f"{version}.*/bin/python3"),
                key=lambda path: [int(p) for p in path.parts[-3].split(".") if p.isdigit()],
            )
            candidates += [str(path) for path in reversed(installed)]
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        done = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def venv_python(server: str) -> Path:
    """Where the interpreter of ``server``'s virtualenv is (made or not)."""
    return VENVS / server.removeprefix("fastasgi-") / "bin" / "python"


def available(server: str) -> bool:
    return find_interpreter(OTHER_PYTHONS[server]) is not None or venv_python(server).exists()


def prepare(server: str) -> Path:
    """Make ``server``'s virtualenv if needed and build this checkout's extensions for it;
    return its interpreter. Raises PythonMissing when its Python is not installed."""
    python = venv_python(server)
    if not python.exists():
        base = find_interpreter(OTHER_PYTHONS[server])
        if base is None:
            raise PythonMissing(f"{server} needs Python {OTHER_PYTHONS[server]}, not found")
        _run([base, "-m", "venv", str(python.parents[1])])
        _run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS])
    # Compiles only what changed since the last build for this interpreter.
    _run([str(python), "setup.py", "-q", "build_ext", "--inplace", "-j", "2"])
    return python


def describe(server: str) -> str:
    """What a report says about ``server``'s interpreter: its Python and uvloop versions."""
    done = subprocess.run(
        [str(venv_python(server)), "-c",
         "import platform, uvloop; print(platform.python_version(), uvloop.__version__)"],
        capture_output=True, text=True, check=False,
    )
    python, _, uvloop = done.stdout.strip().partition(" ")
    return f"CPython {python}, uvloop {uvloop}" if uvloop else "unknown"


def _run(command: list[str]) -> None:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}"
                           f"{done.stderr[-2000:]}")


if __name__ == "__main__":
    # python -m bench.e2e.pythons fastasgi-py312 ...: prepare them ahead of a run.
    for name in sys.argv[1:] or list(OTHER_PYTHONS):
        print(name, prepare(name))
