"""Autobahn|Testsuite's fuzzing client against the echo app (all cases but the 12.x/13.x
permessage-deflate volume cases; about 15 s). Needs ``wstest``: $WSTEST, or on PATH (see
docs/websocket.md); without it the test is skipped, or fails when $CI says it runs on CI.

Marked ``autobahn``: where wstest cannot be provided, deselect it by name with
``-m "not autobahn"`` (the GitHub workflow does, and runs it in a job of its own)."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import pytest

from tests.websocket.autobahn.run_autobahn import SLOW_CASES, run_suite

# Cases whose outcome the suite calls implementation defined (docs/websocket.md explains each);
# every other case must be OK, not even NON-STRICT.
INFORMATIONAL = {"7.1.6", "7.13.1", "7.13.2"}

pytestmark = pytest.mark.autobahn


def wstest() -> str | None:
    return os.environ.get("WSTEST") or shutil.which("wstest")


def not_as_required(results: dict[str, dict[str, object]], outdir: Path) -> dict[str, str]:
    """Each case whose behaviour or close behaviour is not what we require, with the client's
    reason when the connection did not close cleanly."""
    wrong = {}
    for case, result in results.items():
        behaviour, close = result["behavior"], result["behaviorClose"]
        expected = "INFORMATIONAL" if case in INFORMATIONAL else "OK"
        if behaviour != expected or close not in ("OK", "INFORMATIONAL"):
            report = json.loads((outdir / str(result["reportfile"])).read_text())
            reason = report.get("wasNotCleanReason") or ""
            wrong[case] = f"{behaviour}, close {close} {reason}".strip()
    return wrong


def test_autobahn_fuzzing_client_finds_no_failure(tmp_path: Path) -> None:
    command = wstest()
    if command is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("wstest is missing on CI: set WSTEST (docs/websocket.md)")
        pytest.skip("Autobahn|Testsuite's wstest is not installed (set WSTEST)")
    results = run_suite(command, ["*"], SLOW_CASES, tmp_path / "all", timeout=180)
    assert len(results) == 301
    wrong = not_as_required(results, tmp_path / "all")
    if wrong:
        # The client ends a connection the server has not closed within 0.5 to 1 s, so on a
        # machine busy with other tests a case can fail on the client's timer alone. The cases
        # are fixed sequences of frames: one that fails because of the server fails again when
        # run by itself, and that run is what is asserted. The first failure stays visible.
        warnings.warn(f"Autobahn cases failed once and were run again: {wrong}", stacklevel=1)
        again = run_suite(command, sorted(wrong), [], tmp_path / "again", timeout=180)
        assert sorted(again) == sorted(wrong)
        assert not_as_required(again, tmp_path / "again") == {}
