"""WSGI (Flask, Django) and ASGI (Django) apps served by fastasgi over real sockets."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.frameworks import django_asgi_app, django_wsgi_app, flask_app
from tests.support.server import serve

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture()
def django_urls() -> Iterator[None]:
    from django.test.utils import override_settings

    django_wsgi_app()  # configures Django once
    with override_settings(ROOT_URLCONF="tests.support.frameworks", ALLOWED_HOSTS=["*"]):
        yield


def test_flask_app_through_the_wsgi_adapter() -> None:
    with serve(flask_app(), interface="wsgi") as srv:
        assert httpx.get(srv.url + "/hello").text == "Hello from Flask"
        response = httpx.post(srv.url + "/upload", content=PAYLOAD, timeout=30)
        assert response.status_code == 200
        assert response.text == f"{len(PAYLOAD)} {hashlib.sha256(PAYLOAD).hexdigest()}"


@pytest.mark.parametrize("factory", [django_wsgi_app, django_asgi_app], ids=["wsgi", "asgi"])
def test_django_app_over_both_interfaces(django_urls: None, factory: Any) -> None:
    with serve(factory()) as srv:
        assert httpx.get(srv.url + "/hello").text == "Hello from Django"
        echo = httpx.post(srv.url + "/echo", content=PAYLOAD, timeout=30).json()
        assert echo["size"] == len(PAYLOAD)
        assert echo["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
        assert httpx.get(srv.url + "/stream").text == "row 0\nrow 1\nrow 2\n"
