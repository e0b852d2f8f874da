"""What a benchmark report must say about where it ran: CPU, kernel, Python, versions, commit."""

import importlib.metadata
import os
import platform
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("uvloop", "httptools", "h11", "uvicorn", "granian", "hypercorn", "pytest-benchmark")


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=10, cwd=REPO
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def cpu_model() -> str:
    for line in _run(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def fastasgi_version() -> str:
    try:
        from fastasgi._version import __version__
    except ImportError:
        return "not importable"
    return str(__version__)


def package_versions() -> dict[str, str]:
    versions = {"fastasgi": fastasgi_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    commit = _run(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no", "--", "fastasgi"])
    return f"{commit} (fastasgi/ has uncommitted changes)" if dirty else commit


def wrk_version() -> str:
    if shutil.which("wrk") is None:
        return "not installed"
    first = _run(["wrk", "--version"]).splitlines()
    return first[0] if first else "unknown"


def describe() -> dict[str, str]:
    """Facts about this machine and checkout, in report order."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    facts = {
        "CPU": cpu_model(),
        "CPUs available": str(len(cpus)) if cpus is not None else str(os.cpu_count()),
        "Kernel": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Commit": git_commit(),
        "wrk": wrk_version(),
    }
    facts.update(package_versions())
    return facts
