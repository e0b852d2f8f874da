"""The access line over a real socket: uvicorn's line and record attributes, the forwarded
client, uvicorn log-config files, and gunicorn-style --access-log-format atoms."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fastasgi.config import Config, ConfigError
from fastasgi.logging import configure_logging
from tests.support.server import Running, read_response, serve


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


LOGGERS = ("", "fastasgi", "fastasgi.error", "fastasgi.access")  # "": the root, which fileConfig resets


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    saved = {
        name: (logger.level, list(logger.handlers), logger.propagate)
        for name in LOGGERS
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


async def tagged(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """12 bytes of body and a response header the formats can name."""
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"x-served-by", b"node-7"), (b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello, world"})


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "fastasgi.access"]


def one_access_record(caplog: pytest.LogCaptureFixture, srv: Running, raw: bytes,
                      ) -> tuple[logging.LogRecord, int]:
    """Send ``raw``, read the response; the access record and the client's own port."""
    with srv.connect() as sock:
        sock.sendall(raw)
        read_response(sock)
        port = sock.getsockname()[1]
    assert wait_for(lambda: bool(access_records(caplog)))
    [record] = access_records(caplog)
    return record, port


def test_default_line_is_uvicorns_with_the_reason_phrase(
        caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(tagged, access_log=True) as srv,
    ):
        record, port = one_access_record(
            caplog, srv, b"GET /x?y=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert record.getMessage() == f'127.0.0.1:{port} - "GET /x?y=1 HTTP/1.1" 201 Created'
    assert record.client_addr == f"127.0.0.1:{port}"  # type: ignore[attr-defined]
    assert record.request_line == "GET /x?y=1 HTTP/1.1"  # type: ignore[attr-defined]
    assert record.status_code == "201 Created"  # type: ignore[attr-defined]


def test_a_status_without_a_reason_phrase_is_logged_as_its_number(
        caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(app, access_log=True) as srv,
    ):
        record, _ = one_access_record(caplog, srv, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert record.getMessage().endswith('"GET / HTTP/1.1" 599')


@pytest.mark.parametrize(("allow", "shown"), [("127.0.0.1", "203.0.113.7:0"),
                                              ("192.0.2.1", "127.0.0.1:")])
def test_the_line_shows_the_client_the_app_sees(
        caplog: pytest.LogCaptureFixture, allow: str, shown: str) -> None:
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(tagged, access_log=True, proxy_headers=True, forwarded_allow_ips=allow) as srv,
    ):
        record, _ = one_access_record(
            caplog, srv,
            b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n")
    assert record.getMessage().startswith(shown)
    assert record.client_addr.startswith(shown)  # type: ignore[attr-defined]


def test_websocket_handshake_is_logged_with_its_status(
        caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await asyncio.sleep(0.05)
        await send({"type": "websocket.close", "code": 1000})

    key = base64.b64encode(b"0123456789abcdef")
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(app, access_log=True) as srv, srv.connect() as sock,
    ):
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 101 ")
        port = sock.getsockname()[1]
        assert wait_for(lambda: bool(access_records(caplog)))
    lines = [r.getMessage() for r in access_records(caplog)]
    assert lines[0] == f'127.0.0.1:{port} - "GET /ws HTTP/1.1" 101 Switching Protocols'


# -- --log-config files written for uvicorn ------------------------------------------------

UVICORN_ACCESS_FMT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


def serve_with_log_config(path: Path, log_file: Path) -> str:
    """Configure logging from ``path`` as the CLI does, serve one request, return the log."""
    configure_logging(Config(app="main:app", log_config=str(path)))
    with serve(tagged) as srv, srv.connect() as sock:
        sock.sendall(b"GET /logged HTTP/1.1\r\nHost: t\r\n\r\n")
        read_response(sock)
        port = sock.getsockname()[1]
        assert wait_for(lambda: log_file.exists() and log_file.read_text() != "")
    text = log_file.read_text()
    assert text == f'INFO:     127.0.0.1:{port} - "GET /logged HTTP/1.1" 201 Created\n'
    return text


def test_uvicorn_json_log_config_formats_access_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "access.log"
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": UVICORN_ACCESS_FMT,
                "use_colors": False,
            },
        },
        "handlers": {
            "access": {"class": "logging.FileHandler", "formatter": "access",
                       "filename": str(log_file)},
        },
        "loggers": {
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
    path = tmp_path / "logging.json"
    path.write_text(json.dumps(config))
    serve_with_log_config(path, log_file)


def test_uvicorn_yaml_log_config_with_a_formatter_class(tmp_path: Path) -> None:
    log_file = tmp_path / "access.log"
    path = tmp_path / "logging.yaml"
    path.write_text(
        "version: 1\n"
        "disable_existing_loggers: false\n"
        "formatters:\n"
        "  access:\n"
        "    class: uvicorn.logging.AccessFormatter\n"
        f"    format: '{UVICORN_ACCESS_FMT}'\n"
        "handlers:\n"
        "  access:\n"
        "    class: logging.FileHandler\n"
        "    formatter: access\n"
        f"    filename: '{log_file}'\n"
        "loggers:\n"
        "  uvicorn.access:\n"
        "    handlers: [access]\n"
        "    level: INFO\n"
        "    propagate: false\n"
    )
    serve_with_log_config(path, log_file)


def test_uvicorn_ini_log_config_formats_access_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "access.log"
    path = tmp_path / "logging.ini"
    path.write_text(
        "[loggers]\nkeys=root,access\n"
        "[handlers]\nkeys=file\n"
        "[formatters]\nkeys=access\n"
        "[logger_root]\nhandlers=\n"
        "[logger_access]\nqualname=uvicorn.access\nhandlers=file\nlevel=INFO\npropagate=0\n"
        f"[handler_file]\nclass=FileHandler\nformatter=access\nargs=({str(log_file)!r},)\n"
        f"[formatter_access]\nclass=uvicorn.logging.AccessFormatter\nformat={UVICORN_ACCESS_FMT}\n"
    )
    serve_with_log_config(path, log_file)


# -- --access-log-format ------------------------------------------------------------------

def formatted_line(caplog: pytest.LogCaptureFixture, fmt: str, raw: bytes,
                   app: Any = tagged) -> tuple[str, int]:
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(app, access_log=True, access_log_format=fmt) as srv,
    ):
        record, port = one_access_record(caplog, srv, raw)
    return record.getMessage(), port


def test_access_log_format_request_and_response_atoms(caplog: pytest.LogCaptureFixture) -> None:
    fmt = ('%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s %(B)s "%(f)s" "%(a)s" %(m)s %(U)s %(q)s '
           '%(H)s %({X-Request-Id}i)s %({x-served-by}o)s %({absent}i)s %(unknown)s')
    line, _ = formatted_line(
        caplog, fmt,
        b"GET /a/b?c=d HTTP/1.1\r\nHost: t\r\nUser-Agent: probe/1.0\r\n"
        b"Referer: http://example.com/\r\nX-Request-ID: r-42\r\n\r\n",
    )
    assert line == ('127.0.0.1 - - "GET /a/b?c=d HTTP/1.1" 201 12 12 "http://example.com/" '
                    '"probe/1.0" GET /a/b c=d HTTP/1.1 r-42 node-7 - -')


def test_access_log_format_date_and_process(caplog: pytest.LogCaptureFixture) -> None:
    line, _ = formatted_line(caplog, "%(t)s %(p)s", b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert re.fullmatch(r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] <\d+>", line)


def test_access_log_format_durations(caplog: pytest.LogCaptureFixture) -> None:
    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(0.05)
        await tagged(scope, receive, send)

    line, _ = formatted_line(caplog, "%(T)s %(M)s %(D)s %(L)s",
                             b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", app=slow)
    seconds, millis, micros, decimal = line.split()
    assert re.fullmatch(r"\d+\.\d{6}", decimal)
    # The clock starts at the request head, so the app's own sleep is inside the measure.
    assert int(micros) >= 50_000
    assert int(millis) >= 50
    assert int(seconds) == int(float(decimal))


def test_no_response_leaves_status_and_size_unknown(caplog: pytest.LogCaptureFixture) -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(silent, access_log=True, access_log_format='"%(r)s" %(s)s %(b)s') as srv,
    ):
        with srv.connect() as sock:
            sock.sendall(b"GET /gone HTTP/1.1\r\nHost: t\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
        assert wait_for(lambda: bool(access_records(caplog)))
    [record] = access_records(caplog)
    assert record.getMessage() == '"GET /gone HTTP/1.1" - -'


@pytest.mark.parametrize(("fmt", "access_log", "timed"), [
    ("%(h)s %(s)s %(b)s", True, False),
    ("%(h)s %(M)sms", True, True),
    ("%(h)s %(M)sms", False, False),  # a duration no line will show is not measured either
])
def test_only_a_logged_format_with_a_duration_reads_the_clock(
        caplog: pytest.LogCaptureFixture, fmt: str, access_log: bool, timed: bool) -> None:
    with (
        caplog.at_level(logging.INFO, logger="fastasgi.access"),
        serve(tagged, access_log=access_log, access_log_format=fmt) as srv,
    ):
        assert srv.server.state.access_timed is timed


@pytest.mark.parametrize("fmt", ["%(h)s %(s", "%(h)d"])
def test_a_broken_access_log_format_is_refused_at_startup(fmt: str) -> None:
    with pytest.raises(ConfigError, match="--access-log-format"):
        Config(app="main:app", access_log_format=fmt)
