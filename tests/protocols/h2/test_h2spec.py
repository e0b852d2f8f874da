"""h2spec, the HTTP/2 conformance tester (RFC 9113 and RFC 7541, 146 cases), against a real
server: over h2c with prior knowledge on a port that serves HTTP/2 only (--http 2), and over TLS
with h2 chosen by ALPN. Every case must pass. A port that serves HTTP/1.1 beside HTTP/2 answers
one case as HTTP/1.1 (H2C_HTTP1_ANSWERED), and only that one.

Needs the h2spec binary: $H2SPEC, or h2spec on PATH (``tests/tools/h2spec/build.sh DIR`` builds
it, as .ci/run does); without it the test is skipped, or fails when $CI says it runs on CI.
Marked ``h2spec``: where the binary cannot be provided, deselect it with ``-m "not h2spec"``."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import serve
from tests.support.tls import self_signed_certificate
from tests.support.tools import external_tool

pytestmark = pytest.mark.h2spec

CASES = 146
# The one case a port serving HTTP/1.1 and HTTP/2 side by side cannot pass over h2c: it sends
# "INVALID CONNECTION PREFACE\r\n\r\n", which is not the HTTP/2 preface, so the connection
# stays HTTP/1.1 and gets that protocol's 400 (docs/http2.md). Over TLS, where ALPN settles the
# protocol before the first byte, and on an HTTP/2-only port, the same case must pass.
PREFACE_SECTION = "http2/3.5"
H2C_HTTP1_ANSWERED = "http2/3.5 #2: Sends invalid connection preface"


def h2spec() -> str:
    return external_tool("h2spec", "H2SPEC", ".ci/run builds it with tests/tools/h2spec/build.sh")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, then answers; what h2spec's cases expect of a server."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"conformance"})


def run_h2spec(port: int, report: Path, *options: str) -> dict[str, str]:
    """Every case's outcome by name: "passed", or what went wrong. ``options``: h2spec's own
    (-t -k for TLS), then the sections to run (all when none are named)."""
    result = subprocess.run(
        [h2spec(), "-h", "127.0.0.1", "-p", str(port), "-o", "5", "-j", str(report), *options],
        check=False, capture_output=True, text=True, timeout=600,
    )
    assert report.exists(), f"h2spec wrote no report:\n{result.stdout}\n{result.stderr}"
    outcomes: dict[str, str] = {}
    for suite in ET.parse(report).getroot().iter("testsuite"):
        for number, case in enumerate(suite.iter("testcase"), 1):
            name = f"{suite.get('package')} #{number}: {case.get('classname')}"
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is None and case.find("skipped") is not None:
                outcomes[name] = "skipped"
            elif problem is None:
                outcomes[name] = "passed"
            else:
                outcomes[name] = (problem.text or problem.get("message") or "failed").strip()
    return outcomes


def test_h2spec_passes_every_case_over_h2c(tmp_path: Path) -> None:
    with serve(app, http="2") as srv:
        outcomes = run_h2spec(srv.port, tmp_path / "report.xml")
    assert {name: why for name, why in outcomes.items() if why != "passed"} == {}
    assert len(outcomes) == CASES


def test_a_port_serving_both_versions_answers_an_invalid_preface_as_http11(
    tmp_path: Path,
) -> None:
    with serve(app) as srv:
        outcomes = run_h2spec(srv.port, tmp_path / "report.xml", PREFACE_SECTION)
    failed = {name: why for name, why in outcomes.items() if why != "passed"}
    assert list(failed) == [H2C_HTTP1_ANSWERED], failed
    assert len(outcomes) == 2  # the valid preface passes


def test_h2spec_passes_every_case_over_tls(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        outcomes = run_h2spec(srv.port, tmp_path / "report.xml", "-t", "-k")
    assert {name: why for name, why in outcomes.items() if why != "passed"} == {}
    assert len(outcomes) == CASES
