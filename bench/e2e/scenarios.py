"""The HTTP/1.1 load scenarios of run_scenarios.py: which app of bench/apps.py, how wrk loads it.

Each stresses a different part of a server: the per-request path (plaintext with 64 and with 256
connections), accepting and closing (a new connection per request), batching reads and writes
(16 requests pipelined per write), the cost of each send() (64 body messages per response), bulk
bytes and flow control (a 1 MiB body, where the p99 latency matters as much as the rate), and an
app that does a little work (JSON serialized per request).
"""

from dataclasses import dataclass
from pathlib import Path

PIPELINE_SCRIPT = Path(__file__).resolve().parent / "pipeline.lua"


@dataclass(frozen=True)
class Scenario:
    name: str
    app: str  # a key of bench.apps.APPS
    connections: int
    description: str
    headers: tuple[str, ...] = ()
    pipeline: int = 0  # requests per write (wrk's Lua script), 0 for one at a time

    def wrk_options(self) -> tuple[list[str], list[str]]:
        """(wrk options before the URL, arguments to its Lua script after ``--``)."""
        options = [f"-H{header}" for header in self.headers]
        if self.pipeline:
            return [*options, "-s", str(PIPELINE_SCRIPT)], [str(self.pipeline)]
        return options, []


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("plaintext-64", "plaintext", 64, "plaintext, 64 keep-alive connections"),
        Scenario("plaintext-256", "plaintext", 256, "plaintext, 256 keep-alive connections"),
        Scenario("new-connection", "plaintext", 64,
                 "plaintext, a new connection per request (`Connection: close`), 64 at a time",
                 headers=("Connection: close",)),
        Scenario("pipelined-16", "plaintext", 64,
                 "plaintext, 16 requests pipelined per write, 64 connections", pipeline=16),
        Scenario("streamed", "streamed", 64,
                 "64 body messages of 1 KiB per response (Content-Length), 64 connections"),
        Scenario("mib", "mib", 16, "a 1 MiB body in one message, 16 connections"),
        Scenario("json", "json", 64, "JSON serialized per request, 64 connections"),
    )
}
