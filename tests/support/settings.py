"""Settings for tests that build a parser, an encoder or a connection without a server.

They come from a Config, as the server's do, so a test runs a configuration the real server can
run; overrides use the Config's own names (``limit_request_headers=3``)."""

from __future__ import annotations

from typing import Any

from fastasgi.config import Config
from fastasgi.settings import ConnectionSettings, HTTPLimits, ResponseDefaults


def config(**overrides: Any) -> Config:
    # The app is never loaded from these settings: a test hands its app to the connection.
    return Config(app="tests.support.settings:unused", **overrides)


def http_limits(**overrides: Any) -> HTTPLimits:
    return HTTPLimits.from_config(config(**overrides))


def parser_limits(**fields: int) -> HTTPLimits:
    """Parser limits by field name, the rest as Config has them. Parser tests and the fuzz targets
    use limits below what Config accepts (a 40-byte head), to reach every limit with small inputs."""
    defaults = http_limits()
    given = {name: getattr(defaults, name) for name in
             ("max_request_line", "max_header_bytes", "max_headers", "max_body_size")}
    return HTTPLimits(**{**given, **fields})


def response_defaults(**overrides: Any) -> ResponseDefaults:
    return ResponseDefaults.from_config(config(**overrides))


def encoder_defaults(**fields: Any) -> ResponseDefaults:
    """Response defaults by field name, the rest as Config has them: for encoder tests that give
    what Config would not (a server value of their own, invalid or non-bytes default headers)."""
    defaults = response_defaults()
    given = {name: getattr(defaults, name) for name in ("date_header", "server_header", "headers")}
    return ResponseDefaults(**{**given, **fields})


def connection_settings(**overrides: Any) -> ConnectionSettings:
    return ConnectionSettings.from_config(config(**overrides))
