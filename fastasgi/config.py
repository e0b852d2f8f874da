"""Every setting of fastasgi, defined once.

Each field of :class:`Config` carries a :class:`Setting` in its metadata: group, help text, value
type, bounds, choices and flag names. The command line (``fastasgi.cli``), the ``FASTASGI_<NAME>``
environment variables and ``fastasgi.run(app, **settings)`` are all derived from these fields, and
``docs/settings.md`` is generated from them, so adding a setting is one field and nothing else.

Precedence, highest first: command-line flag or ``run()`` keyword, ``FASTASGI_<NAME>``,
``UVICORN_<NAME>`` for the settings uvicorn shares (``Setting.uvicorn``), a setting's legacy
variable (``WEB_CONCURRENCY``, ``FORWARDED_ALLOW_IPS``), the default. An empty environment
variable counts as unset.
"""

# ruff: noqa: RUF009 -- setting() returns a dataclasses.field(), as the rule wants.

from __future__ import annotations

import dataclasses
import os
import ssl
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fastasgi._h2connection import (
    DEFAULT_INITIAL_WINDOW_SIZE,
    DEFAULT_MAX_CONCURRENT_STREAMS,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_HEADER_LIST_SIZE,
)
from fastasgi.envfile import load_env_file
from fastasgi.errors import ConfigError
from fastasgi.http_grammar import TOKEN

__all__ = [
    "RELOAD_EXCLUDES",
    "RELOAD_INCLUDES",
    "SETTINGS",
    "Config",
    "ConfigError",
    "Setting",
    "build_config",
]

# --reload watches files matching an include pattern and no exclude pattern. The user's patterns
# are added to these (uvicorn's defaults); naming a default in the other list removes it.
RELOAD_INCLUDES = ("*.py",)
RELOAD_EXCLUDES = (".*", ".py[cod]", ".sw.*", "~*")




def _access_log_format(text: str) -> str:
    """An --access-log-format that renders, checked now rather than on the first request."""
    from fastasgi.access import AccessLogFormat

    AccessLogFormat(text)
    return text


def _header_pair(item: Any) -> tuple[str, str]:
    """A ``--header`` value ("Name: value") or a ``(name, value)`` pair, checked."""
    if isinstance(item, str):
        name, colon, value = item.partition(":")
        if not colon:
            raise ValueError(f"expected NAME:VALUE, got {item!r}")
    elif isinstance(item, (tuple, list)) and len(item) == 2 and all(
        isinstance(part, str) for part in item
    ):
        name, value = item
    else:
        raise ValueError(f"expected NAME:VALUE or a (name, value) pair, got {item!r}")
    name, value = name.strip(), value.strip(" \t")
    if not TOKEN.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid header name")
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"the value of header {name!r} contains CR, LF or NUL")
    return name, value


def _directory(value: str) -> str:
    if not os.path.isdir(value):
        raise ValueError(f"no such directory: {value}")
    return value


def _root_path(value: str) -> str:
    if value and not value.startswith("/"):
        raise ValueError(f"must be empty or start with '/', got {value!r}")
    return value.rstrip("/")


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


@dataclass(frozen=True)
class Setting:
    """What a Config field means to users; ``name`` and ``default`` are the field's own."""

    group: str
    help: str
    kind: type = str                       # str, int, float, bool; object for the app itself
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    flags: tuple[str, ...] = ()            # default: ("--field-name",)
    aliases: tuple[str, ...] = ()          # extra run() keywords (uvicorn's names)
    negatable: bool = False                # bool: --name / --no-name
    repeatable: bool = False               # the flag may be given many times: a tuple of items
    lone_item: bool = False                # run() may be given one item for a repeatable
    item: Callable[[Any], Any] | None = None  # checks/normalises one value (or one repeated item)
    legacy_env: str | None = None          # a variable other servers read for the same thing
    # uvicorn has this setting: UVICORN_<NAME> is read too. A string is uvicorn's name for it.
    uvicorn: bool | str = False
    default_text: str | None = None        # the default, as docs and --help show it
    metavar: str | None = None
    positional: bool = False
    name: str = ""
    default: Any = None

    @property
    def flag(self) -> str:
        return self.flags[0] if self.flags else "--" + self.name.replace("_", "-")

    @property
    def all_flags(self) -> tuple[str, ...]:
        return self.flags or (self.flag,)

    @property
    def env_var(self) -> str:
        return "FASTASGI_" + self.name.upper()

    @property
    def uvicorn_env_var(self) -> str | None:
        """The variable uvicorn's command line reads for this setting (click's
        ``auto_envvar_prefix``), or None if uvicorn has no such setting."""
        if not self.uvicorn:
            return None
        return "UVICORN_" + (self.name if self.uvicorn is True else self.uvicorn).upper()

    @property
    def env_vars(self) -> tuple[str, ...]:
        """Every variable that sets this, highest precedence first."""
        found = (self.env_var, self.uvicorn_env_var, self.legacy_env)
        return tuple(var for var in found if var is not None)

    @property
    def takes_value(self) -> bool:
        """A bool setting given as ``--name true`` rather than as a switch."""
        return self.kind is bool and not self.negatable and self.default is not False

    def parse(self, text: str) -> Any:
        """The value a command-line word or an environment variable stands for."""
        if self.kind is bool:
            return parse_bool(text)
        if self.kind is int:
            try:
                return int(text.strip())
            except ValueError:
                raise ValueError(f"expected an integer, got {text!r}") from None
        if self.kind is float:
            try:
                return float(text.strip())
            except ValueError:
                raise ValueError(f"expected a number, got {text!r}") from None
        if self.choices:
            return text.strip().lower()
        return text

    def parse_env(self, text: str, var: str | None = None) -> Any:
        if self.repeatable:
            if var is not None and var == self.uvicorn_env_var:
                # uvicorn's click splits a repeated option's variable at whitespace.
                return tuple(self.parse(word) for word in text.split())
            # One item per line: header values may hold commas and spaces.
            return tuple(self.parse(line) for line in text.splitlines() if line.strip())
        return self.parse(text)

    def check(self, value: Any) -> Any:
        """``value`` normalised, or ValueError saying what is wrong with it."""
        if self.repeatable:
            if self.lone_item and isinstance(value, str):
                value = (value,)  # uvicorn's run() takes a str or a list of them here
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise ValueError(f"expected a list, got {value!r}")
            return tuple(self.check_one(item) for item in value)
        return self.check_one(value)

    def check_one(self, value: Any) -> Any:
        """One value (or one item of a repeatable setting) normalised, or ValueError."""
        if value is None and self.default is None:
            return None
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif self.kind is not object and not self.repeatable and (
            not isinstance(value, self.kind) or (self.kind is int and isinstance(value, bool))
        ):
            raise ValueError(f"expected {self.kind.__name__}, got {value!r}")
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(choice) for choice in self.choices)
            raise ValueError(f"expected one of {allowed}; got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}, got {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be at most {self.maximum:g}, got {value!r}")
        return self.item(value) if self.item is not None else value


def setting(default: Any, group: str, help: str, **meta: Any) -> Any:
    if "kind" not in meta and default is not None:
        meta["kind"] = type(default)
    return field(default=default, metadata={"setting": Setting(group, help, **meta)})


@dataclass(eq=False)
class Config:
    """The settings of one fastasgi invocation. Construct it with keyword arguments (checked in
    ``__post_init__``) or through :func:`build_config`, which also reads the environment."""

    # -- the app --------------------------------------------------------------------------
    app: Any = setting(
        None, "Application", "The app to serve: an import string \"module:attribute\" (the "
        "attribute may be dotted), or an app object when given to run().",
        kind=object, positional=True, metavar="MODULE:ATTR", default_text="required",
        uvicorn=True,
    )
    factory: bool = setting(
        False, "Application", "Treat APP as a factory: call it with no arguments to get the app.",
        uvicorn=True,
    )
    app_dir: str = setting(
        ".", "Application", "Directory put first on sys.path before APP is imported.",
        uvicorn=True,
    )
    interface: str = setting(
        "auto", "Application", "How to call the app. auto tells ASGI 3, ASGI 2 and WSGI apart "
        "by their signature.", choices=("auto", "asgi3", "asgi2", "wsgi"),
        uvicorn=True,
    )
    wsgi_max_workers: int = setting(
        10, "Application", "Threads that run a WSGI app (each request holds one while the app "
        "runs).", minimum=1,
    )
    lifespan: str = setting(
        "auto", "Application", "Lifespan events: on requires the app to support them, off never "
        "sends them, auto sends them and carries on if the app does not support them.",
        choices=("auto", "on", "off"),
        uvicorn=True,
    )
    timeout_lifespan: float = setting(
        60.0, "Application", "Seconds the app may take to finish lifespan startup or shutdown.",
        minimum=0.001,
    )
    env_file: str | None = setting(
        None, "Application", "File of KEY=VALUE lines added to the environment (variables "
        "already set win). FASTASGI_* lines in it count as settings.", kind=str, metavar="PATH",
        uvicorn=True,
    )

    # -- where to listen ------------------------------------------------------------------
    host: str = setting(
        "127.0.0.1", "Binding", "Address to listen on: IPv4, IPv6 (\"::\") or a host name.",
        uvicorn=True,
    )
    port: int = setting(
        8000, "Binding", "TCP port to listen on; 0 picks any free port.", minimum=0,
        maximum=65535,
        uvicorn=True,
    )
    uds: str | None = setting(
        None, "Binding", "Listen on this UNIX domain socket path instead of TCP (a stale socket "
        "file is replaced; the new one is made 0666).", kind=str, metavar="PATH",
        uvicorn=True,
    )
    fd: int | None = setting(
        None, "Binding", "Listen on an inherited socket with this file descriptor (e.g. from "
        "systemd socket activation) instead of binding one.", kind=int, minimum=0,
        uvicorn=True,
    )
    backlog: int = setting(
        2048, "Binding", "Connections the kernel queues before fastasgi accepts them.", minimum=1,
        uvicorn=True,
    )

    # -- processes ------------------------------------------------------------------------
    workers: int = setting(
        1, "Processes", "Worker processes. More than one needs APP as an import string.",
        minimum=1, legacy_env="WEB_CONCURRENCY", default_text="$WEB_CONCURRENCY or 1",
        uvicorn=True,
    )
    loop: str = setting(
        "auto", "Processes", "Event loop: auto uses uvloop when it is installed.",
        choices=("auto", "uvloop", "asyncio"),
        uvicorn=True,
    )
    workers_lifetime: float | None = setting(
        None, "Processes", "Seconds a worker serves before the supervisor replaces it: a new "
        "worker starts, and the old one stops gracefully once the new one serves.", kind=float,
        minimum=1,
    )
    workers_max_rss: int | None = setting(
        None, "Processes", "Resident memory, in MiB, beyond which the supervisor replaces a worker "
        "the same way (checked every second; needs /proc, i.e. Linux).", kind=int, minimum=1,
        metavar="MIB",
    )
    limit_max_requests: int | None = setting(
        None, "Processes", "Requests a worker serves before it stops (the supervisor starts "
        "a new one).", kind=int, minimum=1,
        uvicorn=True,
    )
    limit_max_requests_jitter: int = setting(
        0, "Processes", "Up to this many requests are added at random to --limit-max-requests "
        "in each worker, so workers do not all restart at once.", minimum=0,
        uvicorn=True,
    )
    timeout_graceful_shutdown: float = setting(
        30.0, "Processes", "Seconds open connections get to finish on shutdown before they "
        "are closed and their tasks cancelled.", minimum=0,
        uvicorn=True,
    )
    timeout_worker_healthcheck: float = setting(
        5.0, "Processes", "Seconds a worker may take to answer the supervisor's health check "
        "before it is restarted.", minimum=0.001,
        uvicorn=True,
    )

    # -- development ----------------------------------------------------------------------
    reload: bool = setting(
        False, "Development", "Restart the server when a watched file changes (needs watchfiles: "
        "pip install 'fastasgi[standard]'). The new process must load the app before it "
        "replaces the running one, so a file saved with a mistake leaves the old code serving.",
        uvicorn=True,
    )
    reload_dirs: tuple[str, ...] = setting(
        (), "Development", "Directory to watch for --reload instead of the current directory; "
        "repeat the flag for more.", kind=tuple, flags=("--reload-dir",), repeatable=True,
        lone_item=True,
        item=_directory, metavar="PATH", default_text="the current directory", uvicorn=True,
    )
    reload_includes: tuple[str, ...] = setting(
        (), "Development", "Glob pattern of file names --reload watches, added to the default; "
        "repeat the flag for more. A pattern also given to --reload-exclude is dropped from its "
        "defaults.", kind=tuple, flags=("--reload-include",), repeatable=True,
        lone_item=True, metavar="GLOB",
        default_text=", ".join(RELOAD_INCLUDES), uvicorn=True,
    )
    reload_excludes: tuple[str, ...] = setting(
        (), "Development", "Glob pattern of file names (or a directory) --reload ignores, added "
        "to the default; repeat the flag for more. A pattern also given to --reload-include is "
        "dropped from its defaults.", kind=tuple, flags=("--reload-exclude",), repeatable=True,
        lone_item=True,
        metavar="GLOB", default_text=", ".join(RELOAD_EXCLUDES), uvicorn=True,
    )
    reload_delay: float = setting(
        0.25, "Development", "Seconds between two looks for changed files under --reload.",
        minimum=0, uvicorn=True,
    )

    # -- HTTP -----------------------------------------------------------------------------
    http: str = setting(
        "auto", "HTTP", "HTTP versions served: auto serves HTTP/1.1, and HTTP/2 too unless "
        "--no-http2; 1 serves HTTP/1.1 only; 2 serves HTTP/2 only (granian's values). uvicorn's "
        "implementation names (h11, httptools) are accepted and mean auto: fastasgi has one "
        "implementation, its own.",
        choices=("auto", "1", "2", "fastasgi", "h11", "httptools"),
        uvicorn=True,
    )
    root_path: str = setting(
        "", "HTTP", "ASGI root_path for an app mounted below a URL prefix (e.g. /api).",
        item=_root_path,
        uvicorn=True,
    )
    proxy_headers: bool = setting(
        True, "HTTP", "Take the client address and scheme from X-Forwarded-For and "
        "X-Forwarded-Proto when the peer is in --forwarded-allow-ips.", negatable=True,
        uvicorn=True,
    )
    forwarded_allow_ips: str = setting(
        "127.0.0.1,::1", "HTTP", "Comma-separated addresses trusted to send proxy headers; * "
        "trusts everyone.", legacy_env="FORWARDED_ALLOW_IPS",
        default_text="$FORWARDED_ALLOW_IPS or 127.0.0.1,::1",
        uvicorn=True,
    )
    headers: tuple[tuple[str, str], ...] = setting(
        (), "HTTP", "Extra response header sent with every response; repeat the flag for more.",
        kind=tuple, flags=("--header",), repeatable=True, item=_header_pair,
        metavar="NAME:VALUE", default_text="none",
        uvicorn=True,
    )
    server_header: bool = setting(
        True, "HTTP", "Send \"Server: fastasgi\" unless the app sets its own.", negatable=True,
        uvicorn=True,
    )
    date_header: bool = setting(
        True, "HTTP", "Send a Date header unless the app sets its own.", negatable=True,
        uvicorn=True,
    )
    timeout_keep_alive: float = setting(
        5.0, "HTTP", "Seconds an idle keep-alive connection stays open.", minimum=0.001,
        uvicorn=True,
    )
    timeout_header_read: float = setting(
        10.0, "HTTP", "Seconds a client gets to send a whole request head; slower clients are "
        "closed (slowloris protection).", minimum=0.001,
    )

    # -- limits ---------------------------------------------------------------------------
    limit_concurrency: int | None = setting(
        None, "Limits", "Connections and tasks at once; beyond it requests get 503.", kind=int,
        minimum=1,
        uvicorn=True,
    )
    limit_request_line: int = setting(
        8190, "Limits", "Bytes in a request line; longer ones get 414.", minimum=16,
    )
    limit_request_headers: int = setting(
        100, "Limits", "Header fields in a request; more get 431.", minimum=1,
    )
    limit_request_header_bytes: int = setting(
        65536, "Limits", "Bytes in a request head; larger ones get 431. "
        "--h11-max-incomplete-event-size is accepted as another name for it.",
        minimum=256, flags=("--limit-request-header-bytes", "--h11-max-incomplete-event-size"),
        aliases=("h11_max_incomplete_event_size",),
        uvicorn="h11_max_incomplete_event_size",
    )
    limit_request_body: int = setting(
        0, "Limits", "Bytes in a request body; larger ones get 413. 0 means no limit.", minimum=0,
    )

    # -- WebSocket ------------------------------------------------------------------------
    ws: str = setting(
        "auto", "WebSocket", "WebSocket support: none serves upgrade requests as plain HTTP; "
        "every other value means fastasgi's own implementation (uvicorn's names are accepted).",
        choices=("auto", "none", "websockets", "websockets-sansio", "wsproto"),
        uvicorn=True,
    )
    ws_max_size: int = setting(
        16777216, "WebSocket", "Bytes in one incoming message; larger ones close with 1009.",
        minimum=1,
        uvicorn=True,
    )
    ws_max_queue: int = setting(
        32, "WebSocket", "Incoming messages buffered before reading from the client pauses.",
        minimum=1,
        uvicorn=True,
    )
    ws_ping_interval: float = setting(
        20.0, "WebSocket", "Seconds between keep-alive pings; 0 sends none.", minimum=0,
        uvicorn=True,
    )
    ws_ping_timeout: float = setting(
        20.0, "WebSocket", "Seconds to wait for a pong before closing; 0 waits forever.",
        minimum=0,
        uvicorn=True,
    )
    ws_per_message_deflate: bool = setting(
        True, "WebSocket", "Offer permessage-deflate compression (RFC 7692).", metavar="BOOL",
        uvicorn=True,
    )

    # -- HTTP/2 ---------------------------------------------------------------------------
    http2: bool = setting(
        True, "HTTP/2", "Serve HTTP/2: to clients that start with its preface on a plain socket "
        "(h2c with prior knowledge), and over TLS to clients that choose h2 by ALPN.",
        negatable=True,
    )
    h2_max_concurrent_streams: int = setting(
        DEFAULT_MAX_CONCURRENT_STREAMS, "HTTP/2", "Streams (requests) a client may have open at "
        "once on one connection; more are refused.", minimum=1, maximum=2**31 - 1,
    )
    h2_initial_window_size: int = setting(
        DEFAULT_INITIAL_WINDOW_SIZE, "HTTP/2", "Bytes of request body a client may send on a "
        "stream before the app has read them (flow-control window).", minimum=1,
        maximum=2**31 - 1,
    )
    h2_max_frame_size: int = setting(
        DEFAULT_MAX_FRAME_SIZE, "HTTP/2", "Largest frame payload a client may send, in bytes.",
        minimum=16384, maximum=16777215,
    )
    h2_max_header_list_size: int = setting(
        DEFAULT_MAX_HEADER_LIST_SIZE, "HTTP/2", "Bytes of request header fields (as RFC 9113 "
        "counts them); larger ones get 431.", minimum=256, maximum=2**31 - 1,
    )

    # -- TLS ------------------------------------------------------------------------------
    ssl_keyfile: str | None = setting(
        None, "TLS", "Private key file (PEM).", kind=str, metavar="PATH",
        uvicorn=True,
    )
    ssl_certfile: str | None = setting(
        None, "TLS", "Certificate chain file (PEM); serving HTTPS needs it.", kind=str,
        metavar="PATH",
        uvicorn=True,
    )
    ssl_keyfile_password: str | None = setting(
        None, "TLS", "Password of an encrypted private key.", kind=str,
        uvicorn=True,
    )
    ssl_version: int = setting(
        int(ssl.PROTOCOL_TLS_SERVER), "TLS", "Protocol constant from Python's ssl module.",
        uvicorn=True,
    )
    ssl_cert_reqs: int = setting(
        int(ssl.CERT_NONE), "TLS", "Client certificates: 0 none, 1 optional, 2 required "
        "(ssl.CERT_* constants).", choices=(0, 1, 2),
        uvicorn=True,
    )
    ssl_ca_certs: str | None = setting(
        None, "TLS", "CA certificates for checking client certificates.", kind=str,
        metavar="PATH",
        uvicorn=True,
    )
    ssl_ciphers: str | None = setting(
        None, "TLS", "OpenSSL cipher list; default: OpenSSL's.", kind=str,
        uvicorn=True,
    )

    # -- logging --------------------------------------------------------------------------
    log_config: str | None = setting(
        None, "Logging", "Logging configuration file: .json or .yaml (dictConfig), anything "
        "else as .ini (fileConfig).", kind=str, metavar="PATH",
        uvicorn=True,
    )
    log_level: str | None = setting(
        None, "Logging", "Level of fastasgi's loggers; trace also logs every connection event.",
        kind=str, choices=("critical", "error", "warning", "info", "debug", "trace"),
        default_text="info, or as --log-config sets",
        uvicorn=True,
    )
    access_log: bool = setting(
        True, "Logging", "Log one line per response on the fastasgi.access logger.",
        negatable=True,
        uvicorn=True,
    )
    access_log_format: str | None = setting(
        None, "Logging", "gunicorn-style access line, e.g. '%(h)s \"%(r)s\" %(s)s %(b)s "
        "%(M)sms'; the atoms are listed under Logging in docs/settings.md.", kind=str, metavar="FORMAT",
        item=_access_log_format, default_text="uvicorn's line",
    )
    use_colors: bool | None = setting(
        None, "Logging", "Colour log output.", kind=bool, negatable=True,
        default_text="when writing to a terminal and NO_COLOR is unset",
        uvicorn=True,
    )

    # -- metrics ---------------------------------------------------------------------------
    metrics_port: int | None = setting(
        None, "Metrics", "Serve Prometheus metrics (/metrics) and the health probes /healthz "
        "and /readyz on this TCP port; with workers, the supervisor serves the sum over them. "
        "Off when not given.", kind=int, minimum=0, maximum=65535, metavar="PORT",
        default_text="off",
    )
    metrics_host: str = setting(
        "127.0.0.1", "Metrics", "Address the --metrics-port listens on.",
    )

    _max_requests: tuple[int, int | None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for spec in SETTINGS:
            try:
                setattr(self, spec.name, spec.check(getattr(self, spec.name)))
            except ValueError as exc:
                raise ConfigError(f"{spec.flag}: {exc}") from None
        if self.app is None:
            raise ConfigError("no app given: fastasgi [OPTIONS] MODULE:ATTR (see --help)")
        if self.workers_max_rss is not None and not os.path.exists("/proc/self/statm"):
            raise ConfigError("--workers-max-rss: this system has no /proc to read memory from")
        if not isinstance(self.app, str):
            # Each worker imports the app itself: a spawned worker cannot be handed an object,
            # and a reloaded or recycled one must load the code afresh.
            for flag, given in (
                ("--workers > 1", self.workers > 1),
                ("--reload", self.reload),
                ("--workers-lifetime", self.workers_lifetime is not None),
                ("--workers-max-rss", self.workers_max_rss is not None),
            ):
                if given:
                    raise ConfigError(f"{flag} needs the app as an import string \"module:attr\"")
        if self.http == "2" and not self.http2:
            raise ConfigError("--http 2 serves HTTP/2 only, which --no-http2 turns off")
        if self.ssl_keyfile and not self.ssl_certfile:
            raise ConfigError("--ssl-keyfile needs --ssl-certfile")
        for name in ("env_file", "log_config", "ssl_keyfile", "ssl_certfile", "ssl_ca_certs"):
            path = getattr(self, name)
            if path and not os.path.isfile(path):
                raise ConfigError(f"{SETTING_BY_NAME[name].flag}: no such file: {path}")

    # -- what the server and the supervisor read -----------------------------------------

    def header_pairs(self) -> list[tuple[str, str]]:
        """``--header`` values as (name, value) pairs, in the order given."""
        return list(self.headers)

    def trusted_hosts(self) -> list[str]:
        """``--forwarded-allow-ips`` as a list of entries ("*" trusts everyone)."""
        return [entry.strip() for entry in self.forwarded_allow_ips.split(",") if entry.strip()]

    def max_requests(self) -> int | None:
        """``--limit-max-requests`` plus this process's random share of the jitter, or None.

        Drawn once per process, so forked workers each get their own."""
        pid = os.getpid()
        if self._max_requests is None or self._max_requests[0] != pid:
            limit = self.limit_max_requests
            if limit is not None and self.limit_max_requests_jitter:
                import random  # only here: a worker need not hold it

                limit += random.randint(0, self.limit_max_requests_jitter)
            self._max_requests = (pid, limit)
        return self._max_requests[1]

    @property
    def supervised(self) -> bool:
        """Whether a supervisor runs the server in worker processes rather than in this one."""
        return (
            self.workers > 1 or self.reload
            or self.workers_lifetime is not None or self.workers_max_rss is not None
        )

    @property
    def worker_count(self) -> int:
        """Workers to run: --reload runs one (uvicorn ignores --workers then, and warns)."""
        return 1 if self.reload else self.workers

    def reload_patterns(self) -> tuple[list[str], list[str]]:
        """The include and exclude patterns of --reload: each default list less what the other
        list names, plus the user's own (uvicorn's rule)."""
        includes = [p for p in RELOAD_INCLUDES if p not in self.reload_excludes]
        excludes = [p for p in RELOAD_EXCLUDES if p not in self.reload_includes]
        includes += [p for p in self.reload_includes if p not in includes]
        excludes += [p for p in self.reload_excludes if p not in excludes]
        return includes, excludes

    @property
    def ws_enabled(self) -> bool:
        return self.ws != "none"

    @property
    def serves_http1(self) -> bool:
        return self.http != "2"

    @property
    def serves_http2(self) -> bool:
        return self.http2 and self.http != "1"


def _settings() -> tuple[Setting, ...]:
    return tuple(
        dataclasses.replace(f.metadata["setting"], name=f.name, default=f.default)
        for f in dataclasses.fields(Config)
        if "setting" in f.metadata
    )


SETTINGS: tuple[Setting, ...] = _settings()
SETTING_BY_NAME: dict[str, Setting] = {spec.name: spec for spec in SETTINGS}
# Keyword names run() accepts, mapped to the field they set.
KEYWORDS: dict[str, str] = {
    keyword: spec.name for spec in SETTINGS for keyword in (spec.name, *spec.aliases)
}


def build_config(
    given: Mapping[str, Any],
    labels: Mapping[str, str],
    environ: MutableMapping[str, str] | None = None,
) -> Config:
    """A Config from explicitly ``given`` values (by field name) over the environment.

    ``labels`` names where each given value came from (its flag, or its run() keyword), for
    error messages. The --env-file, if any, is loaded into ``environ`` first."""
    environ = os.environ if environ is None else environ
    env_file = given.get("env_file") or environ.get(SETTING_BY_NAME["env_file"].env_var)
    if env_file:
        load_env_file(env_file, environ)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SETTINGS:
        if spec.name in given:
            value, source = given[spec.name], labels.get(spec.name, spec.name)
        else:
            found = _from_environment(spec, environ)
            if found is None:
                continue
            value, source = found
        try:
            values[spec.name] = spec.check(value)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        sources[spec.name] = source

    # A UNIX socket or an inherited descriptor replaces host and port: giving both is a mistake.
    for replacement, replaced in (("uds", "host"), ("uds", "port"), ("uds", "fd"),
                                  ("fd", "host"), ("fd", "port")):
        if values.get(replacement) is not None and replaced in sources:
            raise ConfigError(
                f"{sources[replacement]} and {sources[replaced]} cannot be used together"
            )
    return Config(**values)


def _from_environment(spec: Setting, environ: Mapping[str, str]) -> tuple[Any, str] | None:
    for var in spec.env_vars:
        text = environ.get(var)
        if text:
            try:
                return spec.parse_env(text, var), var
            except ValueError as exc:
                raise ConfigError(f"{var}: {exc}") from None
    return None
