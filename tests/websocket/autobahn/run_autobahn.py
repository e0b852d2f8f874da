"""Run the Autobahn|Testsuite fuzzing client against a fastasgi echo app and summarise it.

    python tests/websocket/autobahn/run_autobahn.py            # all but 12.x, 13.x (~30 s)
    python tests/websocket/autobahn/run_autobahn.py --all      # every case (~20 min)
    python tests/websocket/autobahn/run_autobahn.py --cases '5.*,7.*'

The server runs in a thread of this process on 127.0.0.1 (a free port) with the default --ws-*
settings, serving an app that echoes every message. ``wstest`` (Autobahn|Testsuite 0.8.2, Python
2.7) comes from $WSTEST, or from ../shared/tools/autobahn-venv.sh (beside the repository), which
creates it. The spec is spec.json next to this file with the server's URL and an output folder
filled in.

Prints the count of cases per behaviour (OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED)
and every case that is not OK with its close behaviour and duration; exits 1 if any case FAILED,
2 if the run itself could not be done.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
AUTOBAHN_VENV = ROOT.parent / "shared" / "tools" / "autobahn-venv.sh"
BEHAVIOURS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
# The permessage-deflate volume cases (12.x, 13.x: 1000 messages of up to 128 KiB each way per
# case) are 1090 of the 1110 s of a whole run on a 2-core machine, most of it zlib on both sides
# and the Python 2 client (docs/websocket.md has the figures).
SLOW_CASES = ["12.*", "13.*"]
RUN_TIMEOUT = 3600.0

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def find_wstest() -> str:
    """The wstest executable: $WSTEST, or the one autobahn-venv.sh creates (or has created)."""
    if os.environ.get("WSTEST"):
        return os.environ["WSTEST"]
    if AUTOBAHN_VENV.exists():
        done = subprocess.run(["bash", str(AUTOBAHN_VENV)], capture_output=True, text=True,
                              timeout=900, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip().splitlines()[-1]
        raise RuntimeError(f"{AUTOBAHN_VENV} failed:\n{done.stderr[-2000:]}")
    found = shutil.which("wstest")
    if found is None:
        raise RuntimeError("wstest not found: set WSTEST to Autobahn|Testsuite's wstest")
    return found


def write_spec(url: str, outdir: Path, cases: list[str], exclude: list[str], path: Path) -> None:
    spec = json.loads((HERE / "spec.json").read_text())
    spec["servers"][0]["url"] = url
    spec["outdir"] = str(outdir)
    spec["cases"] = cases
    spec["exclude-cases"] = exclude
    path.write_text(json.dumps(spec, indent=2))


def run_wstest(wstest: str, spec: Path, workdir: Path, timeout: float) -> None:
    log = workdir / "wstest.log"
    with open(log, "wb") as out:
        done = subprocess.run([wstest, "-m", "fuzzingclient", "-s", str(spec)], cwd=workdir,
                              stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wstest exited with {done.returncode}:\n{log.read_text()[-3000:]}")


def summarise(results: dict[str, dict[str, object]]) -> tuple[Counter[str], list[str]]:
    """Counts per behaviour and one line per case that is not OK, in case order."""
    counts: Counter[str] = Counter()
    lines = []
    for case in sorted(results, key=lambda c: [int(p) for p in c.split(".")]):
        result = results[case]
        behaviour = str(result["behavior"])
        counts[behaviour] += 1
        if behaviour != "OK" or result.get("behaviorClose") not in ("OK", "INFORMATIONAL"):
            lines.append(
                f"  {case:<10} {behaviour:<14} close {result.get('behaviorClose')}, "
                f"remote code {result.get('remoteCloseCode')}, {result.get('duration')} ms"
            )
    return counts, lines


def run_suite(wstest: str, cases: list[str], exclude: list[str], outdir: Path,
              timeout: float = RUN_TIMEOUT) -> dict[str, dict[str, object]]:
    """Serve the echo app, run wstest on it and return index.json's results (case -> result).
    Raises RuntimeError, OSError or subprocess.TimeoutExpired when the run cannot be done."""
    from tests.support.server import serve
    from tests.support.websocket import echo

    workdir = Path(tempfile.mkdtemp(prefix="fastasgi-autobahn-"))
    try:
        with serve(echo, log_level="warning") as running:
            spec = workdir / "spec.json"
            write_spec(f"ws://127.0.0.1:{running.port}", outdir, cases, exclude, spec)
            run_wstest(wstest, spec, workdir, timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    [results] = json.loads((outdir / "index.json").read_text()).values()
    return results  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="include 12.x and 13.x")
    parser.add_argument("--cases", help="comma-separated case patterns (default: all)")
    parser.add_argument("--reports", type=Path, help="keep the reports in this folder")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT, help="seconds for wstest")
    args = parser.parse_args(argv)

    cases = args.cases.split(",") if args.cases else ["*"]
    exclude = [] if args.all or args.cases else SLOW_CASES
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fastasgi-autobahn-reports-") as scratch:
        outdir = args.reports.resolve() if args.reports else Path(scratch)
        try:
            results = run_suite(find_wstest(), cases, exclude, outdir, args.timeout)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    counts, lines = summarise(results)
    elapsed = time.monotonic() - started
    total = sum(counts.values())
    print(f"Autobahn|Testsuite fuzzingclient: {total} cases in {elapsed:.0f} s"
          + (f" (excluded {', '.join(exclude)})" if exclude else ""))
    for behaviour in BEHAVIOURS:
        print(f"  {behaviour:<14} {counts.get(behaviour, 0)}")
    for behaviour in sorted(set(counts) - set(BEHAVIOURS)):
        print(f"  {behaviour:<14} {counts[behaviour]}")
    if lines:
        print("Cases not plainly OK:")
        print("\n".join(lines))
    return 1 if counts.get("FAILED") else 0


if __name__ == "__main__":
    raise SystemExit(main())
