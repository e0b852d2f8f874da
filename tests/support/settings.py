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


def response_defaults(**overrides: Any) -> ResponseDefaults:
    return ResponseDefaults.from_config(config(**overrides))


def connection_settings(**overrides: Any) -> ConnectionSettings:
    return ConnectionSettings.from_config(config(**overrides))
