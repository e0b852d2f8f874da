"""Real frameworks through the adapters: Flask and Django over WSGI, Django over ASGI directly."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from fastasgi.adapters.wsgi import WSGIAdapter
from tests.adapters.driver import Client, call, http_scope, run
from tests.support import frameworks
from tests.support.frameworks import configure_django, django_asgi_app, django_wsgi_app, flask_app

MiB = 1024 * 1024


def upload(total: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    block = bytes(range(256)) * (piece // 256)
    for start in range(0, total, piece):
        yield block[: min(piece, total - start)]


def upload_digest(total: int) -> str:
    return hashlib.sha256(b"".join(upload(total))).hexdigest()


def post_scope(path: str, length: int, content_type: bytes = b"application/octet-stream",
               **kwargs: Any) -> dict[str, Any]:
    return http_scope(path, method="POST", headers=[
        (b"host", b"testserver"), (b"content-type", content_type),
        (b"content-length", str(length).encode())], **kwargs)


# -- Flask -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flask_adapter() -> WSGIAdapter:
    return WSGIAdapter(flask_app())


def test_flask_hello(flask_adapter: WSGIAdapter) -> None:
    client = run(call(flask_adapter, http_scope("/hello", headers=[(b"host", b"testserver")])))
    assert client.status == 200
    assert client.response_body == b"Hello from Flask"
    assert client.headers[b"content-type"].startswith(b"text/html")
    assert client.headers[b"content-length"] == b"16"


def test_flask_routes_a_unicode_path(flask_adapter: WSGIAdapter) -> None:
    client = run(call(flask_adapter, http_scope("/café/zoë", headers=[(b"host", b"x")])))
    assert client.status == 200
    assert client.response_body.decode() == "/café/zoë zoë"


def test_flask_sees_root_path_as_script_root(flask_adapter: WSGIAdapter) -> None:
    client = run(call(flask_adapter, http_scope(
        "/where", root_path="/api", query_string=b"q=%C3%A9t%C3%A9",
        headers=[(b"host", b"example.org")])))
    assert json.loads(client.response_body) == {
        "url": "http://example.org/api/hello", "script_root": "/api", "q": "été"}


def test_flask_streams_a_5mib_upload(flask_adapter: WSGIAdapter) -> None:
    total = 5 * MiB
    client = run(call(flask_adapter, post_scope("/upload", total), Client(body=upload(total))))
    assert client.status == 200
    assert client.response_body.decode() == f"{total} {upload_digest(total)}"


def test_flask_reads_a_chunked_upload_without_content_length(flask_adapter: WSGIAdapter) -> None:
    scope = http_scope("/upload", method="POST", headers=[
        (b"host", b"x"), (b"transfer-encoding", b"chunked")])
    client = run(call(flask_adapter, scope, Client(body=[b"abc", b"defg"])))
    assert client.response_body.decode() == f"7 {hashlib.sha256(b'abcdefg').hexdigest()}"


def test_flask_json_round_trip(flask_adapter: WSGIAdapter) -> None:
    body = json.dumps({"numbers": [1, 2, 3.5]}).encode()
    client = run(call(flask_adapter, post_scope("/json", len(body), b"application/json"),
                      Client(body=[body])))
    assert client.status == 200
    assert json.loads(client.response_body) == {"total": 6.5}


def test_flask_streamed_response_arrives_piece_by_piece(flask_adapter: WSGIAdapter) -> None:
    client = run(call(flask_adapter, http_scope("/stream", headers=[(b"host", b"x")])))
    assert [m["body"] for m in client.body_messages] == [b"part 0\n", b"part 1\n", b"part 2\n",
                                                        b""]


def test_flask_error_and_not_found_pages(flask_adapter: WSGIAdapter) -> None:
    boom = run(call(flask_adapter, http_scope("/boom", headers=[(b"host", b"x")])))
    missing = run(call(flask_adapter, http_scope("/nope", headers=[(b"host", b"x")])))
    assert boom.status == 500
    assert missing.status == 404


# -- Django ------------------------------------------------------------------------------

@pytest.fixture()
def django_urls() -> Iterator[None]:
    configure_django()
    from django.test.utils import override_settings

    # Another test may have overridden the URLconf: route to the shared framework views.
    with override_settings(ROOT_URLCONF=frameworks.__name__, ALLOWED_HOSTS=["*"]):
        yield


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_django_hello(django_urls: None, interface: str) -> None:
    app = WSGIAdapter(django_wsgi_app()) if interface == "wsgi" else django_asgi_app()
    client = run(call(app, http_scope("/hello", headers=[(b"host", b"testserver")])))
    assert client.status == 200
    assert client.response_body == b"Hello from Django"
    assert client.headers[b"content-type"] == b"text/plain"


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_django_streams_a_5mib_upload(django_urls: None, interface: str) -> None:
    total = 5 * MiB
    app = WSGIAdapter(django_wsgi_app()) if interface == "wsgi" else django_asgi_app()
    client = run(call(app, post_scope("/echo", total), Client(body=upload(total))))
    assert client.status == 200
    assert json.loads(client.response_body) == {
        "method": "POST", "size": total, "sha256": upload_digest(total)}


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_django_sees_unicode_path_root_path_query_and_cookies(
        django_urls: None, interface: str) -> None:
    app = WSGIAdapter(django_wsgi_app()) if interface == "wsgi" else django_asgi_app()
    scope = http_scope("/where/zoë", root_path="/site", query_string=b"q=caf%C3%A9", headers=[
        (b"host", b"example.org"), (b"cookie", b"theme=dark; session=abc")])
    client = run(call(app, scope))
    assert client.status == 200
    assert json.loads(client.response_body) == {
        "path": "/site/where/zoë", "path_info": "/where/zoë", "name": "zoë",
        "hello": "http://example.org/site/hello", "q": "café", "cookie": "abc"}


def test_django_streaming_response_arrives_piece_by_piece(django_urls: None) -> None:
    client = run(call(WSGIAdapter(django_wsgi_app()),
                      http_scope("/stream", headers=[(b"host", b"testserver")])))
    assert client.status == 200
    assert [m["body"] for m in client.body_messages] == [b"row 0\n", b"row 1\n", b"row 2\n", b""]


def test_django_not_found(django_urls: None) -> None:
    client = run(call(WSGIAdapter(django_wsgi_app()),
                      http_scope("/missing", headers=[(b"host", b"testserver")])))
    assert client.status == 404
