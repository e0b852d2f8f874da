"""Loading the app: import strings, factories, interface detection and adapters."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from fastasgi.adapters.asgi2 import ASGI2Adapter
from fastasgi.adapters.wsgi import WSGIAdapter
from fastasgi.config import Config, ConfigError
from fastasgi.importer import detect_interface, import_from_string, load_app

from . import sample_apps

SAMPLES = "tests.config.sample_apps"
_unique = itertools.count()


@pytest.mark.parametrize(
    ("name", "interface"),
    [
        ("asgi3_function", "asgi3"),
        ("asgi3_instance", "asgi3"),
        ("asgi3_partial", "asgi3"),
        ("asgi3_returning_awaitable", "asgi3"),
        ("ASGI2Class", "asgi2"),
        ("asgi2_function", "asgi2"),
        ("wsgi_function", "wsgi"),
        ("wsgi_instance", "wsgi"),
        ("WSGIIterableClass", "wsgi"),
    ],
)
def test_interface_is_told_from_the_signature(name: str, interface: str) -> None:
    assert detect_interface(getattr(sample_apps, name)) == interface


def test_framework_apps_are_detected() -> None:
    import flask
    import starlette.applications

    assert detect_interface(starlette.applications.Starlette()) == "asgi3"
    assert detect_interface(flask.Flask("sample")) == "wsgi"


def test_open_ended_signature_is_taken_as_asgi3() -> None:
    def anything(*args: object) -> None:
        pass

    assert detect_interface(anything) == "asgi3"


def _load(app: object, **settings: object) -> object:
    return load_app(Config(app=app, **settings))


def test_asgi3_app_is_served_as_is() -> None:
    assert _load(f"{SAMPLES}:asgi3_function") is sample_apps.asgi3_function


def test_asgi2_app_is_wrapped() -> None:
    loaded = _load(f"{SAMPLES}:ASGI2Class")
    assert isinstance(loaded, ASGI2Adapter) and loaded.app is sample_apps.ASGI2Class


def test_wsgi_app_is_wrapped_with_the_configured_threads() -> None:
    loaded = _load(f"{SAMPLES}:wsgi_function", wsgi_max_workers=3)
    assert isinstance(loaded, WSGIAdapter)
    assert loaded.app is sample_apps.wsgi_function and loaded.max_workers == 3


def test_explicit_interface_overrides_detection() -> None:
    loaded = _load(f"{SAMPLES}:asgi3_returning_awaitable", interface="asgi2")
    assert isinstance(loaded, ASGI2Adapter)


def test_app_objects_are_loaded_without_import() -> None:
    assert _load(sample_apps.asgi3_instance) is sample_apps.asgi3_instance


def test_dotted_attribute_is_followed() -> None:
    assert import_from_string(f"{SAMPLES}:Namespace.inner") is sample_apps.Namespace.inner


def test_factory_is_called_for_the_app() -> None:
    assert _load(f"{SAMPLES}:make_app", factory=True) is sample_apps.asgi3_function


def test_app_dir_is_searched_first(tmp_path: Path) -> None:
    name = f"app_dir_module_{next(_unique)}"
    (tmp_path / f"{name}.py").write_text(
        "async def app(scope, receive, send):\n    pass\n"
    )
    try:
        loaded = _load(f"{name}:app", app_dir=str(tmp_path))
        assert loaded.__module__ == name
        assert sys.path[0] == str(tmp_path)
    finally:
        sys.path.remove(str(tmp_path))


# -- errors: one line each ------------------------------------------------------------------


def _error(app: object, **settings: object) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(app, **settings)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("import_string", ["main", "main:", ":app", "a:b:c"])
def test_import_string_must_be_module_colon_attribute(import_string: str) -> None:
    assert _error(import_string) == (
        f"cannot load app {import_string!r}: expected \"module:attribute\", e.g. \"main:app\""
    )


def test_missing_module_is_named() -> None:
    assert _error("no_such_module_xyz:app").startswith(
        "cannot load app 'no_such_module_xyz:app': no module named 'no_such_module_xyz'"
    )


def test_missing_package_of_a_dotted_module_is_named() -> None:
    assert "no module named 'no_such_pkg'" in _error("no_such_pkg.sub:app")


def _module(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"sample_module_{next(_unique)}"
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_import_error_inside_the_app_shows_its_own_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(tmp_path, "import not_installed_dependency\napp = None\n", monkeypatch)
    message = _error(f"{name}:app")
    assert message.startswith(
        f"cannot load app '{name}:app': importing '{name}' failed: ModuleNotFoundError: "
        "No module named 'not_installed_dependency'"
    )
    assert f"{name}.py:1)" in message


def test_exception_while_importing_the_app_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(tmp_path, "x = 1\nraise RuntimeError('SECRET_KEY missing')\n", monkeypatch)
    message = _error(f"{name}:app")
    assert "failed: RuntimeError: SECRET_KEY missing (at " in message
    assert message.endswith(f"{name}.py:2)")


def test_syntax_error_in_the_app_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(tmp_path, "def broken(:\n", monkeypatch)
    assert "failed: SyntaxError: " in _error(f"{name}:app")


def test_missing_attribute_is_named() -> None:
    assert _error(f"{SAMPLES}:Namespace.missing") == (
        f"cannot load app '{SAMPLES}:Namespace.missing': "
        f"'{SAMPLES}.Namespace' has no attribute 'missing'"
    )


def test_non_callable_app_is_refused() -> None:
    assert _error(f"{SAMPLES}:not_callable") == (
        f"cannot load app '{SAMPLES}:not_callable': it is a 'int' object, which is not callable"
    )


def test_factory_must_return_a_callable() -> None:
    assert _error(f"{SAMPLES}:Namespace", factory=True).endswith(
        "the factory returned a 'Namespace' object, which is not callable"
    )


def test_failing_factory_reports_its_exception() -> None:
    assert _error(f"{SAMPLES}:failing_factory", factory=True) == (
        f"cannot load app '{SAMPLES}:failing_factory': "
        "the factory raised RuntimeError: database url is not set"
    )


def test_zero_argument_callable_is_taken_for_a_factory() -> None:
    assert _load(f"{SAMPLES}:make_app") is sample_apps.asgi3_function


@pytest.mark.parametrize("name", ["asgi3_function", "asgi3_instance", "ASGI2Class",
                                  "wsgi_function", "WSGIIterableClass"])
def test_apps_are_not_taken_for_factories(name: str) -> None:
    loaded = _load(f"{SAMPLES}:{name}")
    assert getattr(loaded, "app", loaded) is getattr(sample_apps, name)


def test_failing_factory_shows_its_own_traceback() -> None:
    with pytest.raises(ConfigError) as caught:
        load_app(Config(app=f"{SAMPLES}:failing_factory", factory=True))
    detail = caught.value.detail or ""
    assert "in failing_factory" in detail and "sample_apps.py" in detail
    assert "importer.py" not in detail and "importlib" not in detail


def test_detected_factory_that_returns_no_app_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _module(tmp_path, "def main():\n    print('a script, not an app')\n", monkeypatch)
    assert _error(f"{name}:main").endswith(
        "the factory returned a 'NoneType' object, which is not callable"
    )
