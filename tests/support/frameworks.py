"""Real framework apps (Flask, Django) shared by the adapter, lifespan and end-to-end tests.

Django is configured once per process (``configure_django``) with this module as its URLconf, so
every test that serves Django routes to the same views."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from django.urls import path as django_path

# -- Flask -------------------------------------------------------------------------------

def flask_app() -> Any:
    import flask

    app = flask.Flask("fastasgi_wsgi_test")

    @app.get("/hello")
    def hello() -> str:
        return "Hello from Flask"

    @app.get("/café/<name>")
    def unicode_route(name: str) -> str:
        return f"{flask.request.path} {name}"

    @app.get("/where")
    def where() -> Any:
        return {"url": flask.url_for("hello", _external=True),
                "script_root": flask.request.script_root,
                "q": flask.request.args.get("q")}

    @app.post("/upload")
    def upload_view() -> str:
        digest = hashlib.sha256()
        size = 0
        while data := flask.request.stream.read(16 * 1024):
            digest.update(data)
            size += len(data)
        return f"{size} {digest.hexdigest()}"

    @app.post("/json")
    def json_view() -> Any:
        payload = flask.request.get_json()
        return flask.jsonify(total=sum(payload["numbers"]))

    @app.get("/stream")
    def stream() -> Any:
        def generate() -> Iterator[str]:
            for i in range(3):
                yield f"part {i}\n"
        return flask.Response(generate(), mimetype="text/plain")

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("view failed")

    return app


# -- Django ------------------------------------------------------------------------------

def django_hello(request: Any) -> Any:
    from django.http import HttpResponse
    return HttpResponse("Hello from Django", content_type="text/plain")


def django_echo(request: Any) -> Any:
    from django.http import JsonResponse
    digest = hashlib.sha256()
    size = 0
    while data := request.read(16 * 1024):
        digest.update(data)
        size += len(data)
    return JsonResponse({"method": request.method, "size": size, "sha256": digest.hexdigest()})


def django_where(request: Any, name: str) -> Any:
    from django.http import JsonResponse
    from django.urls import reverse
    return JsonResponse({
        "path": request.path, "path_info": request.path_info, "name": name,
        "hello": request.build_absolute_uri(reverse("hello")),
        "q": request.GET.get("q"), "cookie": request.COOKIES.get("session"),
    })


def django_stream(request: Any) -> Any:
    from django.http import StreamingHttpResponse
    return StreamingHttpResponse((f"row {i}\n" for i in range(3)), content_type="text/plain")


# This module is the URLconf of the Django tests (ROOT_URLCONF).
urlpatterns = [
    django_path("hello", django_hello, name="hello"),
    django_path("echo", django_echo),
    django_path("where/<str:name>", django_where),
    django_path("stream", django_stream),
]


def configure_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False, SECRET_KEY="fastasgi-adapter-tests", ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__, MIDDLEWARE=[], INSTALLED_APPS=[], USE_TZ=True,
        )
        django.setup()


def django_wsgi_app() -> Any:
    configure_django()
    from django.core.wsgi import get_wsgi_application
    return get_wsgi_application()


def django_asgi_app() -> Any:
    configure_django()
    from django.core.asgi import get_asgi_application
    return get_asgi_application()
