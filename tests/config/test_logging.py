"""Log setup: uvicorn-style lines, levels, colours, --log-config."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fastasgi.config import Config, ConfigError
from fastasgi.logging import TRACE, configure_logging


@pytest.fixture(autouse=True)
def restore_loggers() -> Iterator[None]:
    names = ("fastasgi", "fastasgi.error", "fastasgi.access")
    saved = {
        name: (logger.level, list(logger.handlers), logger.propagate)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def _configure(**settings: object) -> None:
    configure_logging(Config(app="main:app", **settings))


def _log_access(status: str = "200 OK") -> None:
    """A record shaped like the server's (tests/protocols/test_access_log.py checks those)."""
    client, request_line = "127.0.0.1:51234", "GET / HTTP/1.1"
    logging.getLogger("fastasgi.access").info(
        '%s - "%s" %s%s', client, request_line, status, "",
        extra={"client_addr": client, "request_line": request_line, "status_code": status},
    )


def test_access_line_looks_like_uvicorns(capsys: pytest.CaptureFixture[str]) -> None:
    _configure(use_colors=False)
    _log_access()
    assert capsys.readouterr().out == 'INFO:     127.0.0.1:51234 - "GET / HTTP/1.1" 200 OK\n'


def test_error_logger_writes_to_stderr_with_aligned_prefix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _configure(use_colors=False)
    logging.getLogger("fastasgi.error").warning("disk %s", "full")
    logging.getLogger("fastasgi.error").info("started")
    assert capsys.readouterr().err == "WARNING:  disk full\nINFO:     started\n"


def test_colors_are_used_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    _configure(use_colors=True)
    _log_access("404 Not Found")
    out = capsys.readouterr().out
    assert out.startswith("\033[32mINFO:\033[0m     127.0.0.1")
    assert out.endswith("\033[31m404 Not Found\033[0m\n")


def test_no_colors_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    _configure()  # captured streams are not terminals
    _log_access()
    assert "\033[" not in capsys.readouterr().out


def test_trace_level_shows_trace_records(capsys: pytest.CaptureFixture[str]) -> None:
    _configure(log_level="trace", use_colors=False)
    logging.getLogger("fastasgi.error").log(TRACE, "connection made")
    assert capsys.readouterr().err == "TRACE:    connection made\n"


def test_warning_level_hides_info(capsys: pytest.CaptureFixture[str]) -> None:
    _configure(log_level="warning", use_colors=False)
    logging.getLogger("fastasgi.error").info("hidden")
    _log_access()
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


def test_no_access_log_silences_the_access_logger(capsys: pytest.CaptureFixture[str]) -> None:
    _configure(access_log=False)
    _log_access()
    assert capsys.readouterr().out == ""


def test_json_log_config_is_honoured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "logging.json"
    path.write_text(json.dumps({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "custom|%(name)s|%(message)s"}},
        "handlers": {"out": {"class": "logging.StreamHandler", "formatter": "plain",
                             "stream": "ext://sys.stdout"}},
        "loggers": {"fastasgi.error": {"handlers": ["out"], "level": "DEBUG",
                                       "propagate": False}},
    }))
    _configure(log_config=str(path))
    logging.getLogger("fastasgi.error").debug("from config")
    assert capsys.readouterr().out == "custom|fastasgi.error|from config\n"


def test_ini_log_config_is_honoured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "logging.ini"
    path.write_text(
        "[loggers]\nkeys=root,error\n[handlers]\nkeys=out\n[formatters]\nkeys=plain\n"
        "[logger_root]\nhandlers=\n"
        "[logger_error]\nqualname=fastasgi.error\nhandlers=out\nlevel=INFO\npropagate=0\n"
        "[handler_out]\nclass=StreamHandler\nformatter=plain\nargs=(sys.stdout,)\n"
        "[formatter_plain]\nformat=ini|%(message)s\n"
    )
    _configure(log_config=str(path))
    logging.getLogger("fastasgi.error").info("from ini")
    assert capsys.readouterr().out == "ini|from ini\n"


def test_log_level_applies_on_top_of_a_log_config(tmp_path: Path) -> None:
    path = tmp_path / "logging.json"
    path.write_text(json.dumps({"version": 1, "disable_existing_loggers": False}))
    _configure(log_config=str(path), log_level="error")
    assert logging.getLogger("fastasgi.error").level == logging.ERROR


def test_broken_log_config_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "logging.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=rf"^--log-config {path}: invalid JSON: "):
        _configure(log_config=str(path))
    path.write_text(json.dumps({"version": 1, "handlers": {"h": {"class": "no.such.Class"}}}))
    with pytest.raises(ConfigError) as caught:
        _configure(log_config=str(path))
    assert str(caught.value).startswith(f"--log-config {path}: ")
    assert "\n" not in str(caught.value)


def test_yaml_log_config_is_honoured(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "logging.yaml"
    path.write_text(
        "version: 1\n"
        "disable_existing_loggers: false\n"
        "formatters:\n  plain:\n    format: 'yaml|%(message)s'\n"
        "handlers:\n  out:\n    class: logging.StreamHandler\n    formatter: plain\n"
        "    stream: ext://sys.stdout\n"
        "loggers:\n  fastasgi.access:\n    handlers: [out]\n    level: INFO\n"
        "    propagate: false\n"
    )
    _configure(log_config=str(path), use_colors=False)
    _log_access()
    assert capsys.readouterr().out == 'yaml|127.0.0.1:51234 - "GET / HTTP/1.1" 200 OK\n'


def test_configuring_again_replaces_the_handlers(capsys: pytest.CaptureFixture[str]) -> None:
    # A reload or a second run() in one process configures again: one line per record.
    _configure(use_colors=False)
    _configure(use_colors=False)
    _log_access()
    logging.getLogger("fastasgi.error").info("started")
    captured = capsys.readouterr()
    assert captured.out == 'INFO:     127.0.0.1:51234 - "GET / HTTP/1.1" 200 OK\n'
    assert captured.err == "INFO:     started\n"


def test_the_default_setup_leaves_other_loggers_alone() -> None:
    other = logging.getLogger("tests.an_apps_logger")
    handler = logging.NullHandler()
    other.addHandler(handler)
    other.setLevel(logging.DEBUG)
    try:
        _configure(use_colors=False)
        assert other.handlers == [handler]
        assert other.level == logging.DEBUG
        assert not other.disabled
    finally:
        other.removeHandler(handler)


def test_a_worker_without_log_config_does_not_import_logging_config() -> None:
    # logging.config and the handlers module it imports hold about 1 MiB of each worker.
    code = (
        "import sys\n"
        "import fastasgi.main, fastasgi.server, fastasgi.supervisor.worker_main\n"
        "from fastasgi.config import Config\n"
        "from fastasgi.logging import configure_logging\n"
        "configure_logging(Config(app='main:app'))\n"
        "print(sorted(m for m in ('logging.config', 'logging.handlers', 'configparser')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"
