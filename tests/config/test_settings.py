"""The Config object: defaults, checks, and run()'s keyword handling."""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import pytest

import fastasgi
from fastasgi.config import KEYWORDS, SETTING_BY_NAME, SETTINGS, Config, ConfigError, build_config
from fastasgi.importer import load_app
from fastasgi.main import run

from .conftest import REPO


def test_defaults_match_uvicorn_where_uvicorn_has_the_setting() -> None:
    config = Config(app="main:app")
    assert (config.host, config.port, config.backlog) == ("127.0.0.1", 8000, 2048)
    assert (config.ws_max_size, config.ws_max_queue) == (16777216, 32)
    assert (config.ws_ping_interval, config.ws_ping_timeout) == (20.0, 20.0)
    assert config.ws_per_message_deflate is True
    assert config.timeout_keep_alive == 5.0
    assert config.proxy_headers and config.server_header and config.date_header
    assert config.access_log is True and config.use_colors is None and config.log_level is None
    assert config.forwarded_allow_ips == "127.0.0.1,::1"


def test_our_own_defaults_are_finite_and_bounded() -> None:
    config = Config(app="main:app")
    assert config.timeout_graceful_shutdown == 30.0
    assert config.timeout_header_read == 10.0
    assert config.limit_request_line == 8190
    assert config.limit_request_headers == 100
    assert config.limit_request_header_bytes == 65536
    assert config.limit_request_body == 0


def test_every_setting_has_a_flag_an_env_var_and_help() -> None:
    flags = [flag for spec in SETTINGS for flag in spec.all_flags if not spec.positional]
    assert len(flags) == len(set(flags))
    for spec in SETTINGS:
        assert spec.help.endswith("."), spec.name
        assert spec.env_var == "FASTASGI_" + spec.name.upper()
    config_fields = {f.name for f in dataclasses.fields(Config) if not f.name.startswith("_")}
    assert config_fields == {spec.name for spec in SETTINGS}


def test_float_settings_accept_ints_and_store_floats() -> None:
    config = Config(app="main:app", timeout_keep_alive=7)
    assert config.timeout_keep_alive == 7.0 and isinstance(config.timeout_keep_alive, float)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"port": "8000"}, "--port: expected int, got '8000'"),
        ({"port": True}, "--port: expected int, got True"),
        ({"port": -1}, "--port: must be at least 0, got -1"),
        ({"workers": 0}, "--workers: must be at least 1, got 0"),
        ({"loop": "trio"}, "--loop: expected one of auto, uvloop, asyncio; got 'trio'"),
        ({"ssl_cert_reqs": 3}, "--ssl-cert-reqs: expected one of 0, 1, 2; got 3"),
        ({"headers": ["no-colon"]}, "--header: expected NAME:VALUE, got 'no-colon'"),
        ({"headers": ["bad name: x"]}, "--header: 'bad name' is not a valid header name"),
        ({"root_path": "api"}, "--root-path: must be empty or start with '/', got 'api'"),
        ({"ssl_keyfile": __file__}, "--ssl-keyfile needs --ssl-certfile"),
        ({"log_config": "/nonexistent.json"}, "--log-config: no such file: /nonexistent.json"),
    ],
)
def test_bad_values_are_refused_with_the_flag_named(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config(app="main:app", **settings)
    assert str(caught.value) == message


def test_an_app_is_required() -> None:
    with pytest.raises(ConfigError, match="no app given"):
        Config()


def test_headers_accept_strings_and_pairs_and_strip_whitespace() -> None:
    config = Config(app="main:app", headers=["X-One: 1", ("X-Two", " two ")])
    assert config.header_pairs() == [("X-One", "1"), ("X-Two", "two")]


def test_header_value_with_a_newline_is_refused() -> None:
    with pytest.raises(ConfigError, match="contains CR, LF or NUL"):
        Config(app="main:app", headers=[("X-A", "a\r\nInjected: yes")])


def test_trusted_hosts_split_the_comma_separated_list() -> None:
    config = Config(app="main:app", forwarded_allow_ips=" 10.0.0.1, ::1 ,*")
    assert config.trusted_hosts() == ["10.0.0.1", "::1", "*"]


def test_max_requests_adds_at_most_the_jitter_and_is_drawn_once() -> None:
    config = Config(app="main:app", limit_max_requests=100, limit_max_requests_jitter=50)
    first = config.max_requests()
    assert first is not None and 100 <= first <= 150
    assert all(config.max_requests() == first for _ in range(20))
    assert Config(app="main:app").max_requests() is None


def test_ws_none_disables_websockets() -> None:
    assert Config(app="main:app").ws_enabled
    assert not Config(app="main:app", ws="none").ws_enabled


def test_config_holds_settings_and_not_a_loaded_app() -> None:
    config = Config(app="examples.hello:app", app_dir=str(REPO), port=9000)
    app = load_app(config)
    copy = pickle.loads(pickle.dumps(config))
    assert copy.port == 9000 and copy.app == "examples.hello:app"
    assert not any(value is app for value in vars(copy).values())
    assert load_app(copy) is app  # the module is imported once per process


def test_reload_needs_an_import_string() -> None:
    async def app(scope, receive, send):  # pragma: no cover - never called
        pass

    with pytest.raises(ConfigError, match="^--reload needs the app as an import string"):
        Config(app=app, reload=True)


def test_reload_runs_one_worker_whatever_workers_says() -> None:
    config = Config(app="main:app", reload=True, workers=4)
    assert (config.supervised, config.worker_count) == (True, 1)


def test_reload_patterns_add_to_uvicorns_defaults_and_cancel_each_other() -> None:
    assert Config(app="main:app").reload_patterns() == (
        ["*.py"], [".*", ".py[cod]", ".sw.*", "~*"]
    )
    config = Config(app="main:app", reload_includes=["*.html", ".env"],
                    reload_excludes=["*.py", "build"])
    assert config.reload_patterns() == (
        ["*.html", ".env"], [".*", ".py[cod]", ".sw.*", "~*", "*.py", "build"]
    )
    # Naming a default in the other list removes it from the defaults.
    assert ".*" not in Config(app="main:app", reload_includes=[".*"]).reload_patterns()[1]


def test_reload_patterns_may_be_one_string_as_in_uvicorns_run(tmp_path: Path) -> None:
    config = Config(app="main:app", reload_dirs=str(tmp_path), reload_includes="*.html",
                    reload_excludes="build")
    assert config.reload_dirs == (str(tmp_path),)
    assert (config.reload_includes, config.reload_excludes) == (("*.html",), ("build",))
    with pytest.raises(ConfigError, match="^--header: expected a list"):
        Config(app="main:app", headers="X-A: 1")


def test_reload_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^--reload-dir: no such directory: {tmp_path}/nope$"):
        Config(app="main:app", reload_dirs=[str(tmp_path / "nope")])


def test_worker_recycling_settings_run_under_the_supervisor() -> None:
    assert Config(app="main:app", workers_lifetime=60).supervised
    assert Config(app="main:app", workers_max_rss=512).supervised
    assert not Config(app="main:app").supervised
    with pytest.raises(ConfigError, match="^--workers-lifetime: must be at least 1"):
        Config(app="main:app", workers_lifetime=0.5)


def test_several_workers_need_an_import_string() -> None:
    async def app(scope, receive, send):  # pragma: no cover - never called
        pass

    with pytest.raises(ConfigError, match="needs the app as an import string"):
        Config(app=app, workers=2)


# -- run() ---------------------------------------------------------------------------------


def test_run_names_an_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'reload_dir'"):
        run("main:app", reload_dir=["."])


def test_run_refuses_two_names_for_one_setting() -> None:
    with pytest.raises(TypeError, match="'limit_request_header_bytes' and "
                                        "'h11_max_incomplete_event_size'"):
        run("main:app", limit_request_header_bytes=1024, h11_max_incomplete_event_size=2048)


def test_run_reports_a_bad_value_by_its_keyword() -> None:
    with pytest.raises(ConfigError, match=r"^port: must be at most 65535, got 70000$"):
        run("main:app", port=70000)


def test_package_run_is_the_same_function_and_validates_too() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        fastasgi.run("main:app", nope=1)


# uvicorn's run() keywords that fastasgi has too; with "app", also the names of the click
# parameters its command line reads from UVICORN_<NAME> (its auto_envvar_prefix).
UVICORN_KEYWORDS = [
    "host", "port", "uds", "fd", "loop", "http", "ws", "ws_max_size", "ws_max_queue",
    "ws_ping_interval", "ws_ping_timeout", "ws_per_message_deflate", "lifespan", "interface",
    "reload", "reload_dirs", "reload_includes", "reload_excludes", "reload_delay",
    "workers", "env_file", "log_config", "log_level", "access_log", "use_colors",
    "proxy_headers", "server_header", "date_header", "forwarded_allow_ips", "root_path",
    "limit_concurrency", "limit_max_requests", "backlog", "timeout_keep_alive",
    "timeout_graceful_shutdown", "ssl_keyfile", "ssl_certfile", "ssl_keyfile_password",
    "ssl_version", "ssl_cert_reqs", "ssl_ca_certs", "ssl_ciphers", "headers", "app_dir",
    "factory", "h11_max_incomplete_event_size", "timeout_worker_healthcheck",
    "limit_max_requests_jitter",
]


def test_every_uvicorn_run_keyword_we_share_is_accepted() -> None:
    assert [name for name in UVICORN_KEYWORDS if name not in KEYWORDS] == []


def test_uvicorn_variables_are_read_for_exactly_the_settings_uvicorn_has() -> None:
    read = {spec.uvicorn_env_var for spec in SETTINGS if spec.uvicorn_env_var}
    assert read == {"UVICORN_" + name.upper() for name in [*UVICORN_KEYWORDS, "app"]}


def test_alias_keyword_sets_the_header_bytes_limit(environ: dict[str, str]) -> None:
    config = build_config(
        {"app": "main:app", "limit_request_header_bytes": 4096}, {}, environ
    )
    assert config.limit_request_header_bytes == 4096
    assert SETTING_BY_NAME["limit_request_header_bytes"].aliases == (
        "h11_max_incomplete_event_size",
    )


def test_build_config_reads_the_environment_it_is_given(environ: dict[str, str]) -> None:
    environ["FASTASGI_PORT"] = "9001"
    config = build_config({"app": "main:app"}, {}, environ)
    assert config.port == 9001
    assert "FASTASGI_PORT" not in os.environ
