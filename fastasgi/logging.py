"""Logging for fastasgi: the ``fastasgi.error`` and ``fastasgi.access`` loggers.

Lines look like ``INFO:     127.0.0.1:51234 - "GET / HTTP/1.1" 200 OK``: the level and a colon,
padded so messages line up. ``--log-config`` replaces this setup entirely; ``--log-level`` still
applies on top of it when given.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from fastasgi.errors import ConfigError

if TYPE_CHECKING:
    import configparser

    from fastasgi.config import Config

__all__ = ["LEVELS", "TRACE", "AccessFormatter", "DefaultFormatter", "configure_logging"]

TRACE = 5
LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE,
}
LOGGERS = ("fastasgi", "fastasgi.error", "fastasgi.access")

_RESET = "\033[0m"
_LEVEL_COLORS = {
    TRACE: "\033[34m",              # blue
    logging.DEBUG: "\033[36m",      # cyan
    logging.INFO: "\033[32m",       # green
    logging.WARNING: "\033[33m",    # yellow
    logging.ERROR: "\033[31m",      # red
    logging.CRITICAL: "\033[91m",   # bright red
}
_STATUS_COLORS = {1: "\033[37m", 2: "\033[32m", 3: "\033[33m", 4: "\033[31m", 5: "\033[91m"}
_PREFIX_WIDTH = len("CRITICAL:")


class DefaultFormatter(logging.Formatter):
    """Adds ``%(levelprefix)s``: "INFO:" padded to a fixed width, coloured when asked."""

    def __init__(
        self,
        fmt: str = "%(levelprefix)s %(message)s",
        datefmt: str | None = None,
        style: Any = "%",
        use_colors: bool | None = None,
    ) -> None:
        super().__init__(fmt, datefmt, style)
        self.use_colors = use_colors if use_colors is not None else colors_wanted(sys.stderr)

    def formatMessage(self, record: logging.LogRecord) -> str:
        prefix = f"{record.levelname}:"
        padding = " " * (_PREFIX_WIDTH - len(prefix))
        if self.use_colors:
            color = _LEVEL_COLORS.get(record.levelno, "")
            prefix = f"{color}{prefix}{_RESET}" if color else prefix
        record.levelprefix = prefix + padding
        return super().formatMessage(record)


class AccessFormatter(DefaultFormatter):
    """Colours the status (``200 OK``) of an access line by its class (2xx green ...)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        status = getattr(record, "status_code", None)
        if self.use_colors and isinstance(status, str) and status[:3].isdigit() and status in line:
            color = _STATUS_COLORS.get(int(status[:3]) // 100, "")
            before, _, after = line.rpartition(status)
            line = f"{before}{color}{status}{_RESET}{after}"
        return line


def colors_wanted(stream: TextIO) -> bool:
    """Colour by default only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def configure_logging(config: Config) -> None:
    """Set up fastasgi's loggers from --log-config, --log-level, --access-log, --use-colors."""
    logging.addLevelName(TRACE, "TRACE")
    if config.log_config:
        _apply_log_config(config.log_config)
    else:
        _configure_default(config.use_colors)
    if config.log_level is not None or not config.log_config:
        level = LEVELS[config.log_level or "info"]
        for name in LOGGERS:
            logging.getLogger(name).setLevel(level)
    if not config.access_log:
        access = logging.getLogger("fastasgi.access")
        access.handlers.clear()
        access.propagate = False


def _configure_default(use_colors: bool | None) -> None:
    """fastasgi's own loggers: "fastasgi" (with "fastasgi.error" under it) to stderr, the access
    log to stdout, at INFO; no other logger is touched.

    Set up by hand rather than through ``logging.config``, which with the handlers module it
    imports holds about 1 MiB of every worker's memory, for a configuration this small."""

    def handler(formatter_class: type[DefaultFormatter], stream: TextIO) -> logging.Handler:
        colors = use_colors if use_colors is not None else colors_wanted(stream)
        result = logging.StreamHandler(stream)
        result.setFormatter(formatter_class("%(levelprefix)s %(message)s", use_colors=colors))
        return result

    for name, handlers, propagate in (
        ("fastasgi", [handler(DefaultFormatter, sys.stderr)], False),
        ("fastasgi.error", [], True),
        ("fastasgi.access", [handler(AccessFormatter, sys.stdout)], False),
    ):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        for new in handlers:
            logger.addHandler(new)
        logger.setLevel(logging.INFO)
        logger.propagate = propagate
        logger.disabled = False


# A --log-config written for uvicorn names uvicorn's formatters and loggers. Ours stand in for
# them, installed or not: uvicorn's AccessFormatter expects uvicorn's own record arguments.
_UVICORN_NAMES = {
    "uvicorn.logging.DefaultFormatter": "fastasgi.logging.DefaultFormatter",
    "uvicorn.logging.ColourizedFormatter": "fastasgi.logging.DefaultFormatter",
    "uvicorn.logging.AccessFormatter": "fastasgi.logging.AccessFormatter",
}
_UVICORN_LOGGERS = {
    "uvicorn": "fastasgi",
    "uvicorn.error": "fastasgi.error",
    "uvicorn.access": "fastasgi.access",
}


def translate_uvicorn_dict(config: dict[str, Any]) -> dict[str, Any]:
    """A dictConfig with uvicorn's formatter classes and logger names replaced by ours; a
    logger the file also configures under our name keeps that configuration."""
    for formatter in (config.get("formatters") or {}).values():
        if isinstance(formatter, dict):
            for key in ("()", "class"):
                target = formatter.get(key)
                if isinstance(target, str) and target in _UVICORN_NAMES:
                    formatter[key] = _UVICORN_NAMES[target]
    loggers = config.get("loggers")
    if isinstance(loggers, dict):
        for theirs, ours in _UVICORN_LOGGERS.items():
            if theirs in loggers and ours not in loggers:
                loggers[ours] = loggers.pop(theirs)
    return config


def translate_uvicorn_ini(parser: configparser.RawConfigParser) -> configparser.RawConfigParser:
    """The fileConfig counterpart of :func:`translate_uvicorn_dict`."""
    ours = {
        parser.get(section, "qualname", fallback=None)
        for section in parser.sections() if section.startswith("logger_")
    }
    for section in parser.sections():
        if section.startswith("formatter_"):
            target = parser.get(section, "class", fallback=None)
            if target in _UVICORN_NAMES:
                parser.set(section, "class", _UVICORN_NAMES[target])
        elif section.startswith("logger_"):
            qualname = parser.get(section, "qualname", fallback=None)
            if qualname in _UVICORN_LOGGERS and _UVICORN_LOGGERS[qualname] not in ours:
                parser.set(section, "qualname", _UVICORN_LOGGERS[qualname])
    return parser


def _apply_log_config(path: str) -> None:
    # Only here: a worker without --log-config need not hold them.
    import configparser
    import json
    import logging.config

    label = f"--log-config {path}"
    extension = os.path.splitext(path)[1].lower()
    try:
        if extension == ".json":
            with open(path, encoding="utf-8") as file:
                logging.config.dictConfig(translate_uvicorn_dict(json.load(file)))
        elif extension in (".yaml", ".yml"):
            try:
                import yaml  # type: ignore[import-untyped]
            except ImportError:
                raise ConfigError(f"{label}: reading YAML needs PyYAML (pip install PyYAML)") from None
            with open(path, encoding="utf-8") as file:
                logging.config.dictConfig(translate_uvicorn_dict(yaml.safe_load(file)))
        else:
            parser = configparser.ConfigParser()
            with open(path, encoding="utf-8") as file:
                parser.read_file(file)
            logging.config.fileConfig(
                translate_uvicorn_ini(parser), disable_existing_loggers=False)
    except ConfigError:
        raise
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{label}: invalid JSON: {exc}") from None
    except Exception as exc:  # noqa: BLE001 -- dictConfig/fileConfig raise many kinds
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{label}: {detail}") from None
