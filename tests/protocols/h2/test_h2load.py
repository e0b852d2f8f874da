"""Many concurrent streams on a few connections, driven by nghttp2's h2load (h2c with prior
knowledge): every request must succeed with a 2xx. Nothing here measures speed; h2load is the
client that multiplexes streams as browsers and proxies do.

Needs the h2load binary: $H2LOAD, or h2load on PATH (Debian: nghttp2-client; .ci/run installs
it); without it the test is skipped, or fails when $CI says it runs on CI. Marked ``h2load``:
where the binary cannot be provided, deselect it with ``-m "not h2load"``."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support import apps
from tests.support.server import serve
from tests.support.tools import external_tool

pytestmark = pytest.mark.h2load

REQUESTS = 2000
CONNECTIONS = 4
STREAMS_PER_CONNECTION = 10


def h2load() -> str:
    return external_tool("h2load", "H2LOAD", "Debian: apt-get install nghttp2-client")


def summary(output: str) -> dict[str, int]:
    """The request and status counts of h2load's summary."""
    requests = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout", output)
    statuses = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", output)
    assert requests and statuses, f"no summary in h2load's output:\n{output}"
    names = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
    counts = dict(zip(names, map(int, requests.groups()), strict=True))
    counts.update(zip(("2xx", "3xx", "4xx", "5xx"), map(int, statuses.groups()), strict=True))
    return counts


def test_h2load_concurrent_streams_all_succeed() -> None:
    command = h2load()
    with serve(apps.hello) as srv:
        done = subprocess.run(
            [command, "-n", str(REQUESTS), "-c", str(CONNECTIONS),
             "-m", str(STREAMS_PER_CONNECTION), f"{srv.url}/"],
            check=False, capture_output=True, text=True, timeout=300,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Application protocol: h2c" in output
    counts = summary(output)
    assert counts["total"] == counts["done"] == counts["succeeded"] == REQUESTS, output
    assert counts["2xx"] == REQUESTS, output
    assert counts["failed"] == counts["errored"] == counts["timeout"] == 0, output
