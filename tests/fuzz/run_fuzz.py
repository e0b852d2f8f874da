"""Run every fuzz target for a fixed time from the committed seeds; exit 1 on any crash.

    python tests/fuzz/run_fuzz.py                       # CI: 20 s per target
    python tests/fuzz/run_fuzz.py --seconds 3600 --corpus tests/fuzz/corpus --targets websocket

First it builds the parser, WebSocket and HTTP/2 extensions with coverage instrumentation (clang,
``-fsanitize=fuzzer-no-link``; with ``--asan`` also AddressSanitizer, whose runtime atheris ships),
so that libFuzzer sees the branches inside the Cython code and not only those of the Python
harness. Then each target runs in its own process with a wall-clock budget. A crash input is
printed in hex with a command that reproduces it, and kept in the artifact folder.

Needs atheris and, for the instrumented build, clang and Cython; it says which is missing and
stops (exit 2) rather than fuzz blind. ``--install`` first pip-installs the ``fuzz`` extra of
pyproject.toml (without rebuilding fastasgi, which ``pip install -e '.[fuzz]'`` would do).
``--no-instrument`` fuzzes the installed extensions with coverage of the harness only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import NoReturn

FUZZ_DIR = Path(__file__).resolve().parent
ROOT = FUZZ_DIR.parents[1]
SEEDS = FUZZ_DIR / "seeds"
TARGETS = ("parser", "chunked", "websocket", "h2")
SOURCES = {name: f"fastasgi/{name}.pyx"
           for name in ("_chunked", "_head", "_parser", "_deflate", "_websocket",
                        "_huffman", "_hpack", "_h2frames", "_h2events", "_h2connection")}
# Longest input per target: past the parser's 4 KiB chunk-line cap for the chunked decoder.
MAX_LEN = {"parser": 4096, "chunked": 8192, "websocket": 4096, "h2": 4096}
PER_INPUT_TIMEOUT = 10  # seconds; an input this slow is a denial of service, not bad luck


def fail_setup(message: str) -> NoReturn:
    print(f"run_fuzz: {message}", file=sys.stderr)
    sys.exit(2)


def install_fuzz_extra() -> None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        fail_setup("--install needs Python 3.11+; run: pip install -e '.[fuzz]'")
    with open(ROOT / "pyproject.toml", "rb") as f:
        requirements = tomllib.load(f)["project"]["optional-dependencies"]["fuzz"]
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *requirements],
                          check=False)
    if done.returncode != 0:
        fail_setup(f"could not install {requirements}")


def _newest_input(name: str) -> float:
    return max((ROOT / "fastasgi" / f"{name}{ext}").stat().st_mtime
               for ext in (".pyx", ".pxd") if (ROOT / "fastasgi" / f"{name}{ext}").exists())


def build_instrumented(out: Path, asan: bool) -> None:
    """Compile the extensions with libFuzzer's coverage counters and comparison hooks.

    A build in ``out`` newer than its sources is kept (``--build-dir`` across runs); C that
    ``pip install`` generated in the tree is reused when it is newer than its sources."""
    clang = shutil.which(os.environ.get("CC_FUZZ", "clang"))
    if clang is None:
        fail_setup("clang is needed for the instrumented build (Debian: apt-get install -y "
                   "clang); or pass --no-instrument to fuzz without coverage of the extensions")
    out.mkdir(parents=True, exist_ok=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    include = sysconfig.get_paths()["include"]
    sanitizers = "fuzzer-no-link,address" if asan else "fuzzer-no-link"
    stamp = out / "sanitizers"
    if not stamp.exists() or stamp.read_text() != sanitizers:
        for old in out.glob("*.so"):
            old.unlink()
    compiles: list[subprocess.Popen[bytes]] = []
    failed = False
    for name, pyx in SOURCES.items():
        library = out / f"{name}{suffix}"
        newest = _newest_input(name)
        if library.exists() and library.stat().st_mtime >= newest:
            continue
        c_file = ROOT / "fastasgi" / f"{name}.c"
        if not c_file.exists() or c_file.stat().st_mtime < newest:
            c_file = out / f"{name}.c"
            try:
                subprocess.run([sys.executable, "-m", "cython", "-3", pyx, "-o", str(c_file)],
                               cwd=ROOT, check=True)
            except (OSError, subprocess.CalledProcessError):
                fail_setup("Cython could not generate the C (pip install Cython)")
        # NOTE: line tables only, not -g: a crash's stack still names file and line, and the
        # build takes a third less time (the HTTP/2 modules are over a megabyte of C each).
        # NOTE: one compiler per CPU, not one per module: ten at once weighed as much as a
        # process of normal priority even at nice 10, beside the tests CI runs meanwhile.
        if len(compiles) >= (os.cpu_count() or 1):
            failed |= compiles.pop(0).wait() != 0
        compiles.append(subprocess.Popen(
            [clang, "-shared", "-fPIC", "-O1", "-gline-tables-only",
             f"-fsanitize={sanitizers}", "-w",
             f"-I{include}", str(c_file), "-o", str(library)]))
    codes = [p.wait() for p in compiles]  # every one waited for, not up to the first failure
    if failed or any(codes):
        fail_setup("the instrumented build failed (compiler output above)")
    stamp.write_text(sanitizers)


def fuzz_environment(build: Path | None, asan: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if build is not None:
        env["FASTASGI_FUZZ_BUILD"] = str(build)
    if asan:
        import atheris

        # NOTE: the ASan runtime must be loaded before Python starts, and Python's own allocator
        # bypassed, for ASan to see the extensions' PyMem buffers at all.
        env["LD_PRELOAD"] = str(Path(atheris.path()) / "asan_with_fuzzer.so")
        env["PYTHONMALLOC"] = "malloc"
        env["ASAN_OPTIONS"] = "detect_leaks=0:allocator_may_return_null=1"
    return env


def run_target(target: str, seconds: int, corpus: Path, artifacts: Path,
               env: dict[str, str], log_dir: Path) -> bool:
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"fuzz-{target}.log"
    command = [
        sys.executable, str(FUZZ_DIR / "fuzz.py"), target, str(corpus), str(SEEDS / target),
        f"-max_total_time={seconds}", f"-timeout={PER_INPUT_TIMEOUT}", "-rss_limit_mb=4096",
        f"-max_len={MAX_LEN[target]}", f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
    ]
    started = time.monotonic()
    with open(log, "wb") as out:
        # The budget is libFuzzer's own; the timeout here only catches a hung process.
        try:
            rc = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                check=False,
                                timeout=seconds + 120).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    elapsed = time.monotonic() - started
    text = log.read_text(errors="replace")
    print(f"--- {target}: {summary(text)}, {elapsed:.0f} s, exit {rc}")
    if rc == 0:
        return True
    print(text[-6000:])
    for crash in sorted(artifacts.glob("*")):
        data = crash.read_bytes()
        print(f"input {crash} ({len(data)} bytes): {data[:2000].hex()}")
        print("reproduce: python -c \"from tests.fuzz.targets import TARGETS; "
              f"TARGETS['{target}'](open('{crash}', 'rb').read())\"")
    return False


def summary(log: str) -> str:
    """libFuzzer's last status line: executions, coverage, features, corpus size."""
    lines = [line for line in log.splitlines() if re.match(r"#\d+\s", line)]
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", log))
    last = lines[-1] if lines else "no status line"
    runs = stats.get("number_of_executed_units", "?")
    return f"{runs} runs, last: {last}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="comma-separated, from: " + ", ".join(TARGETS))
    parser.add_argument("--seconds", type=int, default=20, help="fuzzing time per target")
    parser.add_argument("--corpus", type=Path,
                        help="keep each target's corpus in CORPUS/<target> (default: a "
                             "temporary folder, so the seeds stay as committed)")
    parser.add_argument("--artifacts", type=Path, help="where crash inputs go")
    parser.add_argument("--build-dir", type=Path,
                        help="keep the instrumented build here and reuse it while current")
    parser.add_argument("--asan", action="store_true",
                        help="also build with AddressSanitizer (slower, finds memory errors)")
    parser.add_argument("--install", action="store_true",
                        help="pip-install the fuzz extra of pyproject.toml first")
    parser.add_argument("--no-instrument", action="store_true",
                        help="fuzz the installed extensions: coverage of the harness only")
    args = parser.parse_args()
    targets = args.targets.split(",")
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if args.install:
        install_fuzz_extra()
    try:
        import atheris  # noqa: F401
    except ImportError:
        fail_setup("atheris is not installed: pip install atheris")

    with tempfile.TemporaryDirectory(prefix="fastasgi-fuzz-") as tmp:
        work = Path(tmp)
        build = None
        if not args.no_instrument:
            build = args.build_dir or work / "build"
            started = time.monotonic()
            build_instrumented(build, args.asan)
            print(f"--- instrumented build: {time.monotonic() - started:.0f} s")
        env = fuzz_environment(build, args.asan and build is not None)
        artifacts = args.artifacts or FUZZ_DIR / "artifacts"
        ok = True
        for target in targets:
            corpus = (args.corpus or work / "corpus") / target
            ok &= run_target(target, args.seconds, corpus, artifacts / target, env, work)
    if not ok:
        print(f"run_fuzz: a target failed; crash inputs are in {artifacts}", file=sys.stderr)
        sys.exit(1)
    print(f"run_fuzz: {len(targets)} targets, {args.seconds} s each, no crash")


if __name__ == "__main__":
    main()
