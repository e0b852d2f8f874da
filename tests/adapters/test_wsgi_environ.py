"""The WSGI environ built from an ASGI scope (PEP 3333 §"environ Variables")."""

from __future__ import annotations

import io
import json
import logging
import warnings
from typing import Any
from wsgiref.validate import validator

import pytest

from fastasgi.adapters.wsgi import WSGIAdapter, build_environ
from tests.adapters.driver import Client, call, http_scope, run


def environ_of(scope: dict[str, Any], body: list[bytes] | None = None) -> dict[str, Any]:
    """Serve ``scope`` with an app that answers its environ's str values as JSON."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        plain = {k: v for k, v in environ.items() if isinstance(v, (str, bool, tuple))}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(plain).encode()]

    client = run(call(WSGIAdapter(app), scope, Client(body=body or [])))
    assert client.status == 200
    return json.loads(client.response_body)


def test_environ_has_the_pep3333_variables() -> None:
    env = environ_of(http_scope("/items/7", method="POST", query_string=b"a=1&b=%20",
                                headers=[(b"host", b"example.org:8000")]))
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/items/7"
    assert env["QUERY_STRING"] == "a=1&b=%20"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == "8000"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == "50123"
    assert env["HTTP_HOST"] == "example.org:8000"
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is False
    assert env["wsgi.run_once"] is False
    assert "CONTENT_TYPE" not in env and "CONTENT_LENGTH" not in env


def test_http10_request_and_https_scheme_are_reported() -> None:
    env = environ_of(http_scope("/", http_version="1.0", scheme="https"))
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert env["wsgi.url_scheme"] == "https"


def test_content_type_and_length_have_no_http_prefix() -> None:
    env = environ_of(http_scope("/", method="POST", headers=[
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"5")]),
        body=[b"hello"])
    assert env["CONTENT_TYPE"] == "text/plain; charset=utf-8"
    assert env["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env


def test_repeated_headers_are_joined_with_commas() -> None:
    env = environ_of(http_scope("/", headers=[
        (b"accept", b"text/html"), (b"x-trace-id", b"1"), (b"accept", b"application/json"),
        (b"x-trace-id", b"2")]))
    assert env["HTTP_ACCEPT"] == "text/html,application/json"
    assert env["HTTP_X_TRACE_ID"] == "1,2"


def test_repeated_cookie_headers_are_joined_with_semicolons() -> None:
    env = environ_of(http_scope("/", headers=[(b"cookie", b"a=1"), (b"cookie", b"b=2")]))
    assert env["HTTP_COOKIE"] == "a=1; b=2"


def test_header_names_with_underscores_are_dropped() -> None:
    env = environ_of(http_scope("/", headers=[(b"x-user", b"alice"), (b"x_user", b"mallory")]))
    assert env["HTTP_X_USER"] == "alice"


def test_header_values_are_latin1_strings() -> None:
    env = environ_of(http_scope("/", headers=[(b"x-name", "Zoë".encode("latin-1"))]))
    assert env["HTTP_X_NAME"] == "Zoë"


def test_unicode_path_is_utf8_bytes_as_latin1_string() -> None:
    env = environ_of(http_scope("/caf\u00e9/\u65e5\u672c"))
    assert env["PATH_INFO"] == "/café/日本".encode().decode("latin-1")
    assert env["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café/日本"


def test_root_path_becomes_script_name_and_leaves_path_info() -> None:
    env = environ_of(http_scope("/users/1", root_path="/api"))
    assert env["SCRIPT_NAME"] == "/api"
    assert env["PATH_INFO"] == "/users/1"


def test_request_for_the_mount_point_itself_has_empty_path_info() -> None:
    env = environ_of(http_scope("", root_path="/api"))
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/api", "")


def test_path_merely_sharing_a_prefix_with_root_path_is_not_cut() -> None:
    scope = http_scope("/")
    scope["root_path"], scope["path"] = "/api", "/apiary"
    env = environ_of(scope)
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/api", "/apiary")


def test_unicode_root_path_is_bytes_as_latin1_too() -> None:
    env = environ_of(http_scope("/x", root_path="/ünï"))
    assert env["SCRIPT_NAME"].encode("latin-1").decode("utf-8") == "/ünï"


@pytest.mark.parametrize(("host", "scheme", "name", "port"), [
    (b"example.org:8443", "https", "example.org", "8443"),
    (b"example.org", "https", "example.org", "443"),
    (b"example.org", "http", "example.org", "80"),
    (b"[::1]:9000", "http", "[::1]", "9000"),
])
def test_server_name_comes_from_host_without_a_server_address(
        host: bytes, scheme: str, name: str, port: str) -> None:
    env = environ_of(http_scope("/", headers=[(b"host", host)], server=None, scheme=scheme))
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == (name, port)


def test_server_name_without_server_address_or_host_is_localhost() -> None:
    env = environ_of(http_scope("/", server=("/run/app.sock", None), client=None))
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("localhost", "80")
    assert "REMOTE_ADDR" not in env


def test_wsgi_multiprocess_follows_the_adapter_setting() -> None:
    environ = build_environ(http_scope("/"), io.BytesIO(), multiprocess=True)
    assert environ["wsgi.multiprocess"] is True


def test_wsgi_errors_lines_go_to_the_fastasgi_error_logger(
        caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        errors = environ["wsgi.errors"]
        errors.write("first line\nsecond ")
        errors.writelines(["line\n", "unterminated"])
        errors.flush()
        start_response("204 No Content", [])
        return []

    with caplog.at_level(logging.ERROR, logger="fastasgi.error"):
        client = run(call(WSGIAdapter(app), http_scope("/")))
    assert client.status == 204
    lines = [r.getMessage() for r in caplog.records if r.name == "fastasgi.error"]
    assert lines == ["first line", "second line", "unterminated"]


def test_wsgiref_validator_finds_nothing_wrong() -> None:
    """The standard library's PEP 3333 checker wraps the app and checks both sides of it."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(size)
        line_count = len(data.splitlines())
        environ["wsgi.errors"].write("checked\n")
        environ["wsgi.errors"].flush()
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"lines=")
        return iter([str(line_count).encode(), b"\n"])

    body = b"one\ntwo\nthree\n"
    scope = http_scope("/v", method="POST", query_string=b"q=1", headers=[
        (b"host", b"localhost:8000"), (b"content-length", str(len(body)).encode())])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the validator warns (WSGIWarning) on soft violations
        client = run(call(WSGIAdapter(validator(app)), scope, Client(body=[body[:5], body[5:]])))
    assert client.status == 200
    assert client.response_body == b"lines=3\n"

