"""The options of the end-to-end benchmarks, each defined once.

A field of ``HttpBenchConfig``, ``H2BenchConfig`` or ``WebSocketBenchConfig`` is one option: its default, its help
text and its flag. The command-line runners (``python -m bench.e2e.run_http --rounds 5``) and
pytest (``pytest bench/e2e --http-rounds 5``, options added by bench/conftest.py) both derive their
flags from these fields and build the same object from what was parsed, so the two ways of running
a benchmark cannot disagree on a default.

Flags: a list is one comma-separated value; a boolean that defaults to on is turned off by
``--no-<name>``.
"""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Callable, Collection
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from bench.apps import APPS
from bench.e2e.scenarios import SCENARIOS
from bench.e2e.servers import H2_SERVERS, SERVERS
from bench.exclusive import WAIT_TIMEOUT

REPORTS = Path(__file__).resolve().parent / "reports"
# The server on one CPU, the load client on the other, when the machine has both.
SERVER_CPU = 0
CLIENT_CPU = 1

Options = TypeVar(
    "Options", "HttpBenchConfig", "H2BenchConfig", "WebSocketBenchConfig", "ScenariosBenchConfig"
)


def flag(help: str) -> dict[str, str]:
    """The metadata that makes a dataclass field a flag."""
    return {"help": help}


def add_options(cls: type[Options], add: Callable[..., Any], prefix: str = "") -> None:
    """Declare a flag per field of ``cls`` through ``add``: ``argparse``'s ``add_argument`` or
    pytest's ``addoption``, which take the same arguments. ``prefix`` keeps pytest's flags of one
    benchmark apart from another's (``--http-rounds``, ``--ws-rounds``)."""
    for spec in fields(cls):
        default = _default(spec)
        help_text = spec.metadata["help"]
        name = spec.name.replace("_", "-")
        dest = f"{prefix}{spec.name}".replace("-", "_")
        if isinstance(default, bool):
            add(f"--{prefix}no-{name}", dest=dest, action="store_false", default=default,
                help=f"do not {help_text}")
        elif isinstance(default, list):
            add(f"--{prefix}{name}", dest=dest, default=",".join(default),
                help=f"{help_text} (comma-separated; default: %(default)s)")
        else:
            add(f"--{prefix}{name}", dest=dest, type=type(default), default=default,
                help=f"{help_text} (default: %(default)s)")


def from_options(cls: type[Options], namespace: Any, prefix: str = "") -> Options:
    """The ``cls`` that the flags declared by ``add_options`` were parsed into."""
    values: dict[str, Any] = {}
    for spec in fields(cls):
        value = getattr(namespace, f"{prefix}{spec.name}".replace("-", "_"))
        if isinstance(_default(spec), list):
            value = [item for item in value.split(",") if item]
        values[spec.name] = value
    return cls(**values)


def _default(spec: Field[Any]) -> Any:
    return spec.default_factory() if callable(spec.default_factory) else spec.default


def pinned_cpus(pin: bool) -> tuple[int | None, int | None]:
    """(server CPU, client CPU), or (None, None) when pinning is off or impossible here."""
    if not pin or shutil.which("taskset") is None or not hasattr(os, "sched_getaffinity"):
        return None, None
    if not {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0):
        return None, None
    return SERVER_CPU, CLIENT_CPU


def _check_servers(servers: list[str], known: Collection[str]) -> None:
    for name in servers:
        if name not in known:
            raise ValueError(f"unknown server {name!r}; known: {', '.join(known)}")


@dataclass
class HttpBenchConfig:
    """bench/e2e/run_http.py: requests/s of ``GET /`` with wrk, every server side by side."""

    servers: list[str] = field(
        default_factory=lambda: ["fastasgi", "uvicorn", "granian"],
        metadata=flag("servers; the first is compared with each other one"),
    )
    apps: list[str] = field(
        default_factory=lambda: ["plaintext", "json"], metadata=flag("apps of bench/apps.py")
    )
    rounds: int = field(
        default=3, metadata=flag("wrk runs per server and app, interleaved; the median is reported")
    )
    duration: int = field(default=5, metadata=flag("seconds per wrk run"))
    warmup: int = field(
        default=1, metadata=flag("seconds of wrk per server before the first round")
    )
    connections: int = field(default=64, metadata=flag("wrk connections"))
    threads: int = field(default=1, metadata=flag("wrk threads"))
    pin: bool = field(default=True, metadata=flag("pin the server to CPU 0 and wrk to CPU 1"))
    report: bool = field(default=True, metadata=flag("write a report to bench/reports/"))

    def validate(self) -> None:
        _check_servers(self.servers, SERVERS)
        for name in self.apps:
            if name not in APPS:
                raise ValueError(f"unknown app {name!r}; known: {', '.join(APPS)}")
        if not self.servers or not self.apps:
            raise ValueError("at least one server and one app are needed")
        if self.rounds < 1 or self.duration < 1 or self.warmup < 0:
            raise ValueError("rounds and duration must be >= 1, warmup >= 0")
        if self.threads < 1 or self.connections < self.threads:
            raise ValueError("need threads >= 1 and connections >= threads")

    def cpus(self) -> tuple[int | None, int | None]:
        """(server CPU, wrk CPU), or (None, None) when pinning is off or impossible."""
        return pinned_cpus(self.pin)

    def wall_time_bound(self) -> float:
        """Seconds a whole run may take, for test timeouts: wrk time plus start/stop slack."""
        per_app = len(self.servers) * (self.warmup + self.rounds * self.duration + 2 * 30)
        return float(len(self.apps) * (per_app + WAIT_TIMEOUT) + 60)


def parse_scenario(text: str) -> tuple[int, int]:
    """``"64x10"``: (64 connections, 10 concurrent streams on each)."""
    connections, sep, streams = text.partition("x")
    if not (sep and connections.isdigit() and streams.isdigit()):
        raise ValueError(f"a scenario is <connections>x<streams>, like 64x10; not {text!r}")
    if int(connections) < 1 or int(streams) < 1:
        raise ValueError(f"scenario {text!r}: connections and streams must be >= 1")
    return int(connections), int(streams)


@dataclass
class H2BenchConfig:
    """bench/e2e/run_h2.py: requests/s of ``GET /`` over h2c with h2load, every server side by
    side."""

    servers: list[str] = field(
        default_factory=lambda: ["fastasgi", "granian", "hypercorn"],
        metadata=flag("servers; the first is compared with each other one"),
    )
    apps: list[str] = field(
        default_factory=lambda: ["plaintext", "json"], metadata=flag("apps of bench/apps.py")
    )
    scenarios: list[str] = field(
        default_factory=lambda: ["64x10", "1x100"],
        metadata=flag("h2load loads, <connections>x<concurrent streams per connection>"),
    )
    rounds: int = field(
        default=3,
        metadata=flag("h2load runs per server, app and scenario, interleaved; the median is "
                      "reported"),
    )
    duration: int = field(default=10, metadata=flag("seconds per h2load run"))
    warmup: int = field(
        default=2, metadata=flag("seconds of h2load per server and scenario before the rounds")
    )
    pin: bool = field(default=True, metadata=flag("pin the server to CPU 0 and h2load to CPU 1"))
    report: bool = field(default=True, metadata=flag("write a report to bench/reports/"))

    def validate(self) -> None:
        _check_servers(self.servers, H2_SERVERS)
        for name in self.apps:
            if name not in APPS:
                raise ValueError(f"unknown app {name!r}; known: {', '.join(APPS)}")
        if not self.servers or not self.apps or not self.scenarios:
            raise ValueError("at least one server, one app and one scenario are needed")
        for scenario in self.scenarios:
            parse_scenario(scenario)
        if self.rounds < 1 or self.duration < 1 or self.warmup < 0:
            raise ValueError("rounds and duration must be >= 1, warmup >= 0")

    def cpus(self) -> tuple[int | None, int | None]:
        """(server CPU, h2load CPU), or (None, None) when pinning is off or impossible."""
        return pinned_cpus(self.pin)

    def wall_time_bound(self) -> float:
        """Seconds a whole run may take, for test timeouts: h2load time plus start/stop slack."""
        per_scenario = self.warmup + self.rounds * (self.duration + 30)
        per_app = len(self.servers) * (len(self.scenarios) * per_scenario + 60)
        return float(len(self.apps) * (per_app + WAIT_TIMEOUT) + 60)


@dataclass
class WebSocketBenchConfig:
    """bench/e2e/run_websocket.py: echoed messages/s over many connections, side by side."""

    servers: list[str] = field(
        default_factory=lambda: ["fastasgi", "uvicorn"],
        metadata=flag("servers; the first is compared with each other one"),
    )
    rounds: int = field(
        default=3, metadata=flag("client runs per server, interleaved; the median is reported")
    )
    duration: int = field(default=5, metadata=flag("seconds per client run"))
    warmup: int = field(
        default=1, metadata=flag("seconds of client run per server before the first round")
    )
    connections: int = field(
        default=16, metadata=flag("WebSocket connections, each with one message in flight")
    )
    size: int = field(default=16, metadata=flag("bytes per message"))
    pin: bool = field(
        default=True, metadata=flag("pin the server to CPU 0 and the client to CPU 1")
    )
    report: bool = field(default=True, metadata=flag("write a report to bench/reports/"))

    def validate(self) -> None:
        # The WebSocket runner starts its servers its own way (an echo app, --ws flags).
        from bench.e2e.run_websocket import SERVERS as WEBSOCKET_SERVERS

        _check_servers(self.servers, WEBSOCKET_SERVERS)
        if not self.servers or self.rounds < 1 or self.duration < 1 or self.warmup < 0:
            raise ValueError("need a server, rounds and duration >= 1, warmup >= 0")
        if not 1 <= self.size < 126 or self.connections < 1:
            raise ValueError("size must be 1..125 bytes and connections >= 1")

    def cpus(self) -> tuple[int | None, int | None]:
        return pinned_cpus(self.pin)

    def wall_time_bound(self) -> float:
        """Seconds a whole run may take (test timeouts): waiting for the machine-wide lock,
        the client runs, and start/stop slack."""
        runs = len(self.servers) * (self.warmup + self.rounds * (self.duration + 10) + 60)
        return WAIT_TIMEOUT + float(runs)


@dataclass
class ScenariosBenchConfig:
    """bench/e2e/run_scenarios.py: every HTTP/1.1 scenario with wrk and the memory of idle
    connections, every server side by side."""

    servers: list[str] = field(
        default_factory=lambda: [
            "fastasgi", "fastasgi-py312", "fastasgi-py313", "uvicorn", "granian", "ceiling"
        ],
        metadata=flag("servers; the first is compared with each other one; fastasgi-py3XX are "
                      "left out when that Python is not installed"),
    )
    scenarios: list[str] = field(
        default_factory=lambda: list(SCENARIOS), metadata=flag("scenarios of bench/e2e/scenarios.py")
    )
    rounds: int = field(
        default=5,
        metadata=flag("wrk runs per server and scenario, interleaved; the median is reported"),
    )
    duration: int = field(default=10, metadata=flag("seconds per wrk run"))
    warmup: int = field(
        default=2, metadata=flag("seconds of wrk per server and scenario before the rounds")
    )
    threads: int = field(default=1, metadata=flag("wrk threads"))
    connections: int = field(
        default=0,
        metadata=flag("wrk connections in every scenario, for a quick check of the harness "
                      "(0: each scenario's own)"),
    )
    idle_connections: int = field(
        default=1000,
        metadata=flag("keep-alive connections held idle (one request each) to measure the RSS "
                      "each adds; 0: no memory measurement"),
    )
    pin: bool = field(default=True, metadata=flag("pin the server to CPU 0 and wrk to CPU 1"))
    report: bool = field(default=True, metadata=flag("write a report and chart to bench/reports/"))

    def validate(self) -> None:
        _check_servers(self.servers, SERVERS)
        for name in self.scenarios:
            if name not in SCENARIOS:
                raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        if not self.servers or not self.scenarios:
            raise ValueError("at least one server and one scenario are needed")
        if self.rounds < 1 or self.duration < 1 or self.warmup < 0:
            raise ValueError("rounds and duration must be >= 1, warmup >= 0")
        if self.threads < 1 or self.idle_connections < 0 or self.connections < 0:
            raise ValueError("need threads >= 1, connections and idle connections >= 0")
        if self.connections and self.connections < self.threads:
            raise ValueError("need connections >= threads")

    def cpus(self) -> tuple[int | None, int | None]:
        """(server CPU, wrk CPU), or (None, None) when pinning is off or impossible."""
        return pinned_cpus(self.pin)

    def wall_time_bound(self) -> float:
        """Seconds a whole run may take, for test timeouts: wrk time plus start/stop slack."""
        per_scenario = self.warmup + self.rounds * (self.duration + 30)
        per_server = len(self.scenarios) * (per_scenario + 60) + 120  # + building, memory
        return WAIT_TIMEOUT + float(len(self.servers) * per_server + 60)


def report_path(name: str, when: datetime.datetime, directory: Path = REPORTS) -> Path:
    """``<directory>/YYYY-MM-DDTHHMM-<name>.md`` (UTC), so reports sort by time; a report already
    there (committed, say) is never overwritten."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{when:%Y-%m-%dT%H%M}-{name}.md"
    n = 2
    while path.exists():
        path = directory / f"{when:%Y-%m-%dT%H%M}-{name}-{n}.md"
        n += 1
    return path
