"""Command-line parsing, environment variables and their precedence, --env-file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fastasgi.cli import UsageError, build_parser, parse_command_line, version_text
from fastasgi.config import SETTINGS, ConfigError
from fastasgi.envfile import _read_env_file, load_env_file


def test_flags_set_their_settings(environ: dict[str, str]) -> None:
    config = parse_command_line(
        ["main:app", "--host", "0.0.0.0", "--port", "0", "--workers", "3", "--loop", "asyncio",
         "--timeout-keep-alive", "2.5", "--limit-concurrency", "50", "--root-path", "/api"],
        environ,
    )
    assert config.app == "main:app"
    assert (config.host, config.port, config.workers, config.loop) == ("0.0.0.0", 0, 3, "asyncio")
    assert config.timeout_keep_alive == 2.5
    assert config.limit_concurrency == 50
    assert config.root_path == "/api"


def test_unset_flags_keep_their_defaults(environ: dict[str, str]) -> None:
    config = parse_command_line(["main:app"], environ)
    for spec in SETTINGS:
        if spec.name != "app":
            assert getattr(config, spec.name) == spec.default, spec.name


def test_switch_pairs_turn_settings_off_and_on(environ: dict[str, str]) -> None:
    config = parse_command_line(
        ["main:app", "--no-access-log", "--no-server-header", "--no-date-header",
         "--no-proxy-headers", "--use-colors"], environ,
    )
    assert not (config.access_log or config.server_header or config.date_header)
    assert not config.proxy_headers
    assert config.use_colors is True
    assert parse_command_line(["main:app", "--no-use-colors"], environ).use_colors is False


def test_per_message_deflate_takes_a_value_like_uvicorn(environ: dict[str, str]) -> None:
    config = parse_command_line(["main:app", "--ws-per-message-deflate", "False"], environ)
    assert config.ws_per_message_deflate is False


def test_header_flag_repeats_in_order(environ: dict[str, str]) -> None:
    config = parse_command_line(
        ["main:app", "--header", "X-A: 1", "--header", "X-B:two, three"], environ
    )
    assert config.header_pairs() == [("X-A", "1"), ("X-B", "two, three")]


def test_h11_flag_is_another_name_for_the_header_bytes_limit(environ: dict[str, str]) -> None:
    config = parse_command_line(["main:app", "--h11-max-incomplete-event-size", "4096"], environ)
    assert config.limit_request_header_bytes == 4096


def test_uvicorn_implementation_names_are_accepted(environ: dict[str, str]) -> None:
    config = parse_command_line(["main:app", "--http", "httptools", "--ws", "wsproto"], environ)
    assert (config.http, config.ws) == ("httptools", "wsproto")
    assert config.ws_enabled


def test_choices_are_case_insensitive(environ: dict[str, str]) -> None:
    assert parse_command_line(["main:app", "--log-level", "DEBUG"], environ).log_level == "debug"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["main:app", "--port", "eighty"], "--port: expected an integer, got 'eighty'"),
        (["main:app", "--port", "-5"], "--port: must be at least 0, got -5"),
        (["main:app", "--lifespan", "maybe"], "--lifespan: expected one of auto, on, off"),
        (["main:app", "--header", "nocolon"], "--header: expected NAME:VALUE, got 'nocolon'"),
        (["main:app", "--ws-ping-interval", "soon"], "--ws-ping-interval: expected a number"),
        (["main:app", "--prot", "80"], "unknown option --prot; did you mean --port?"),
        (["main:app", "--port"], "--port: expected one argument"),
    ],
)
def test_usage_mistakes_are_one_line_errors(
    argv: list[str], message: str, environ: dict[str, str]
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_command_line(argv, environ)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_abbreviated_flags_are_not_guessed(environ: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="unknown option --po"):
        parse_command_line(["main:app", "--po", "1"], environ)


# -- environment variables -------------------------------------------------------------------


def test_environment_variable_sets_a_setting(environ: dict[str, str]) -> None:
    environ.update(FASTASGI_PORT="9100", FASTASGI_ACCESS_LOG="off", FASTASGI_APP="env:app")
    config = parse_command_line([], environ)
    assert (config.port, config.access_log, config.app) == (9100, False, "env:app")


def test_flag_wins_over_environment_variable(environ: dict[str, str]) -> None:
    environ["FASTASGI_PORT"] = "9100"
    assert parse_command_line(["main:app", "--port", "9200"], environ).port == 9200


def test_environment_variable_wins_over_legacy_variable(environ: dict[str, str]) -> None:
    environ.update(WEB_CONCURRENCY="4")
    assert parse_command_line(["main:app"], environ).workers == 4
    environ.update(FASTASGI_WORKERS="2")
    assert parse_command_line(["main:app"], environ).workers == 2
    assert parse_command_line(["main:app", "--workers", "3"], environ).workers == 3


def test_forwarded_allow_ips_falls_back_to_its_usual_variable(environ: dict[str, str]) -> None:
    environ["FORWARDED_ALLOW_IPS"] = "10.1.1.1"
    assert parse_command_line(["main:app"], environ).trusted_hosts() == ["10.1.1.1"]


def test_empty_environment_variable_counts_as_unset(environ: dict[str, str]) -> None:
    environ["FASTASGI_LIMIT_CONCURRENCY"] = ""
    assert parse_command_line(["main:app"], environ).limit_concurrency is None


def test_bad_environment_value_names_the_variable(environ: dict[str, str]) -> None:
    environ["FASTASGI_PORT"] = "http"
    with pytest.raises(ConfigError, match="^FASTASGI_PORT: expected an integer, got 'http'$"):
        parse_command_line(["main:app"], environ)
    environ["FASTASGI_PORT"] = "99999"
    with pytest.raises(ConfigError, match="^FASTASGI_PORT: must be at most 65535"):
        parse_command_line(["main:app"], environ)


def test_headers_variable_holds_one_header_per_line(environ: dict[str, str]) -> None:
    environ["FASTASGI_HEADERS"] = "X-A: 1, 2\nX-B: 3\n"
    config = parse_command_line(["main:app"], environ)
    assert config.header_pairs() == [("X-A", "1, 2"), ("X-B", "3")]


# -- UVICORN_<NAME> ----------------------------------------------------------------------------


def test_uvicorn_variables_set_the_settings_uvicorn_shares(environ: dict[str, str]) -> None:
    environ.update(UVICORN_APP="env:app", UVICORN_PORT="9100", UVICORN_ACCESS_LOG="false",
                   UVICORN_TIMEOUT_KEEP_ALIVE="7", UVICORN_PROXY_HEADERS="0")
    config = parse_command_line([], environ)
    assert (config.app, config.port, config.access_log) == ("env:app", 9100, False)
    assert (config.timeout_keep_alive, config.proxy_headers) == (7.0, False)


def test_fastasgi_variable_wins_over_uvicorn_variable_and_a_flag_over_both(
    environ: dict[str, str],
) -> None:
    environ["UVICORN_PORT"] = "9100"
    environ["FASTASGI_PORT"] = "9200"
    assert parse_command_line(["main:app"], environ).port == 9200
    assert parse_command_line(["main:app", "--port", "9300"], environ).port == 9300
    del environ["FASTASGI_PORT"]
    assert parse_command_line(["main:app", "--port", "9300"], environ).port == 9300


def test_uvicorn_workers_wins_over_web_concurrency(environ: dict[str, str]) -> None:
    # uvicorn reads WEB_CONCURRENCY only when --workers (or UVICORN_WORKERS) is not given.
    environ.update(WEB_CONCURRENCY="4", UVICORN_WORKERS="3")
    assert parse_command_line(["main:app"], environ).workers == 3


def test_uvicorn_name_of_the_header_bytes_limit_is_read(environ: dict[str, str]) -> None:
    environ["UVICORN_H11_MAX_INCOMPLETE_EVENT_SIZE"] = "4096"
    assert parse_command_line(["main:app"], environ).limit_request_header_bytes == 4096


def test_uvicorn_variable_of_a_repeated_flag_is_split_at_whitespace(
    environ: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "lib").mkdir()
    environ["UVICORN_RELOAD_DIRS"] = f"{tmp_path / 'src'} {tmp_path / 'lib'}"
    environ["UVICORN_RELOAD_EXCLUDES"] = "*.log\ttmp_*"
    config = parse_command_line(["main:app"], environ)
    assert config.reload_dirs == (str(tmp_path / "src"), str(tmp_path / "lib"))
    assert config.reload_excludes == ("*.log", "tmp_*")


def test_uvicorn_variables_of_settings_uvicorn_lacks_are_ignored(
    environ: dict[str, str],
) -> None:
    environ.update(UVICORN_TIMEOUT_HEADER_READ="1", UVICORN_LIMIT_REQUEST_BODY="10")
    config = parse_command_line(["main:app"], environ)
    assert (config.timeout_header_read, config.limit_request_body) == (10.0, 0)


def test_bad_uvicorn_variable_is_named(environ: dict[str, str]) -> None:
    environ["UVICORN_PORT"] = "http"
    with pytest.raises(ConfigError, match="^UVICORN_PORT: expected an integer, got 'http'$"):
        parse_command_line(["main:app"], environ)


# -- where to listen: one way at a time --------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--uds", "/tmp/a.sock", "--port", "9000"], "--uds and --port cannot be used together"),
        (["--uds", "/tmp/a.sock", "--host", "::"], "--uds and --host cannot be used together"),
        (["--fd", "3", "--port", "9000"], "--fd and --port cannot be used together"),
        (["--uds", "/tmp/a.sock", "--fd", "3"], "--uds and --fd cannot be used together"),
    ],
)
def test_conflicting_listen_settings_are_refused(
    argv: list[str], message: str, environ: dict[str, str]
) -> None:
    with pytest.raises(ConfigError, match=f"^{message}$"):
        parse_command_line(["main:app", *argv], environ)


def test_conflict_names_the_variable_it_came_from(environ: dict[str, str]) -> None:
    environ["FASTASGI_PORT"] = "9000"
    with pytest.raises(ConfigError, match="^--uds and FASTASGI_PORT cannot be used together$"):
        parse_command_line(["main:app", "--uds", "/tmp/a.sock"], environ)


def test_uds_alone_keeps_default_host_and_port(environ: dict[str, str]) -> None:
    config = parse_command_line(["main:app", "--uds", "/tmp/a.sock"], environ)
    assert config.uds == "/tmp/a.sock"


# -- --env-file --------------------------------------------------------------------------------


ENV_FILE = """\
# a comment
PLAIN=value
export EXPORTED=yes
SPACED = padded  # trailing comment
SINGLE='keeps $literal \\n'
DOUBLE="line\\nbreak \\"quoted\\""
EMPTY=
FASTASGI_PORT=9300
ALREADY=from-file
"""


def test_env_file_reader_understands_the_dotenv_format(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(ENV_FILE)
    values = _read_env_file(str(path))  # the reader used when python-dotenv is not installed
    assert values["PLAIN"] == "value"
    assert values["EXPORTED"] == "yes"
    assert values["SPACED"] == "padded"
    assert values["SINGLE"] == "keeps $literal \\n"
    assert values["DOUBLE"] == 'line\nbreak "quoted"'
    assert values["EMPTY"] == ""


def test_env_file_never_overrides_variables_already_set(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    path = tmp_path / ".env"
    path.write_text("ALREADY=from-file\nNEW=from-file\n")
    environ["ALREADY"] = "from-process"
    load_env_file(str(path), environ)
    assert (environ["ALREADY"], environ["NEW"]) == ("from-process", "from-file")


def test_env_file_can_hold_settings_and_flags_still_win(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    path = tmp_path / ".env"
    path.write_text("FASTASGI_PORT=9300\nFASTASGI_LOG_LEVEL=debug\n")
    config = parse_command_line(["main:app", "--env-file", str(path), "--port", "9400"], environ)
    assert (config.port, config.log_level) == (9400, "debug")


@pytest.fixture(params=["python-dotenv", "own reader"])
def env_file_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each --env-file test runs with python-dotenv's parser and with fastasgi's own."""
    if request.param == "own reader":
        monkeypatch.setitem(sys.modules, "dotenv", None)  # "import dotenv" now fails
    return request.param


def test_env_file_expansion_takes_the_process_environment_first(
    tmp_path: Path, environ: dict[str, str], env_file_reader: str
) -> None:
    path = tmp_path / ".env"
    path.write_text("DB_HOST=file-host\nDATABASE_URL=postgres://${DB_HOST}/app\n")
    environ["DB_HOST"] = "process-host"
    load_env_file(str(path), environ)
    assert environ["DB_HOST"] == "process-host"
    assert environ["DATABASE_URL"] == "postgres://process-host/app"


def test_env_file_expansion_falls_back_to_earlier_lines_then_the_default(
    tmp_path: Path, environ: dict[str, str], env_file_reader: str
) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "DB_HOST=file-host\n"
        "URL=postgres://${DB_HOST}:${DB_PORT:-5432}/${DB_NAME}\n"
    )
    load_env_file(str(path), environ)
    assert environ["URL"] == "postgres://file-host:5432/"


def test_env_file_expansion_reaches_settings(
    tmp_path: Path, environ: dict[str, str], env_file_reader: str
) -> None:
    path = tmp_path / ".env"
    path.write_text("PORT=9300\nFASTASGI_PORT=${PORT}\n")
    environ["PORT"] = "9400"
    config = parse_command_line(["main:app", "--env-file", str(path)], environ)
    assert config.port == 9400


def test_env_file_with_a_bad_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("GOOD=1\nthis is not an assignment\n")
    with pytest.raises(ConfigError, match=r"line 2: expected KEY=VALUE$"):
        _read_env_file(str(path))


def test_missing_env_file_is_reported(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="^--env-file: no such file: /no/such/.env$"):
        parse_command_line(["main:app", "--env-file", "/no/such/.env"], environ)


# -- help and version --------------------------------------------------------------------------


def test_help_lists_every_flag_with_its_variable() -> None:
    text = build_parser().format_help()
    for spec in SETTINGS:
        for flag in spec.all_flags if not spec.positional else ():
            assert flag in text
        assert spec.env_var in text


def test_version_names_the_compiled_core_loop_and_python() -> None:
    import platform
    import sys

    import fastasgi
    import fastasgi._parser

    text = version_text()
    assert fastasgi._parser.__file__.endswith((".so", ".pyd"))
    assert text.startswith(f"fastasgi {fastasgi.__version__} (Cython core, ")
    assert f"CPython {sys.version_info[0]}.{sys.version_info[1]} on {platform.system()}" in text
