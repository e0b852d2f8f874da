"""Turn the APP setting into the ASGI 3 callable the server runs.

Every failure is a ConfigError whose message is one line naming what could not be loaded and
why. When the app's own code failed (its module raised while being imported, a SyntaxError, a
factory that raised), the error also carries the traceback of that code, with the frames of
importlib and of fastasgi taken out: a user needs the file and line of their mistake, and
nothing of the machinery that found it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import os
import sys
import traceback
import types
from typing import TYPE_CHECKING, Any

from fastasgi.errors import ConfigError

if TYPE_CHECKING:
    from fastasgi.config import Config

__all__ = ["detect_interface", "import_from_string", "load_app", "user_traceback"]

logger = logging.getLogger("fastasgi.error")

# uvicorn's words, so a user who searches for them finds the explanation.
FACTORY_DETECTED = (
    "ASGI app factory detected. Using it, but please consider setting the --factory flag "
    "explicitly."
)


def load_app(config: Config) -> Any:
    """``config.app`` imported (or taken as is), built by its factory if --factory, and wrapped
    in an adapter unless it is ASGI 3 already."""
    app = config.app
    label = app if isinstance(app, str) else type(app).__name__
    if isinstance(app, str):
        _prepend_to_sys_path(config.app_dir)
        app = import_from_string(app)
    from_factory = config.factory or _is_factory(app)
    if from_factory and not config.factory:
        # uvicorn serves what a zero-argument callable returns (an app cannot be called with
        # no arguments), so a command line that works there must not answer 500 here.
        logger.warning(FACTORY_DETECTED)
    if from_factory:
        app = _call_factory(app, label)
    if not callable(app):
        what = "the factory returned a" if from_factory else "it is a"
        raise ConfigError(
            f"cannot load app {label!r}: {what} {type(app).__name__!r} object, which is not callable"
        )
    interface = config.interface
    if interface == "auto":
        interface = detect_interface(app)
    if interface == "asgi2":
        from fastasgi.adapters.asgi2 import ASGI2Adapter

        return ASGI2Adapter(app)
    if interface == "wsgi":
        from fastasgi.adapters.wsgi import WSGIAdapter

        return WSGIAdapter(
            app, max_workers=config.wsgi_max_workers, multiprocess=config.supervised
        )
    return app


def import_from_string(import_string: str) -> Any:
    """The object named by "module:attribute" (the attribute may be dotted)."""
    module_name, colon, attribute = import_string.partition(":")
    if not colon or not module_name or not attribute or ":" in attribute:
        raise ConfigError(
            f"cannot load app {import_string!r}: expected \"module:attribute\", e.g. \"main:app\""
        )
    module = _import_module(module_name, import_string)
    found: Any = module
    path = module_name
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ConfigError(
                f"cannot load app {import_string!r}: {path!r} has no attribute {part!r}"
            ) from None
        path = f"{path}.{part}"
    return found


def _import_module(module_name: str, import_string: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            raise ConfigError(
                f"cannot load app {import_string!r}: no module named {missing!r} "
                f"(searched from {os.getcwd()})"
            ) from None
        # The module exists; something it imports does not. That is the app's own error.
        raise _failed_import(import_string, module_name, exc) from None
    except Exception as exc:  # noqa: BLE001 -- whatever the app's module raised on import
        raise _failed_import(import_string, module_name, exc) from None


def _failed_import(import_string: str, module_name: str, exc: BaseException) -> ConfigError:
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        # The compiler names the file and line; no frame of the app's code ran.
        where = f" (at {exc.filename}:{exc.lineno})"
    else:
        frames = traceback.extract_tb(_without_machinery(exc.__traceback__))
        if frames:  # the innermost frame left is where the app's code failed
            where = f" (at {frames[-1].filename}:{frames[-1].lineno})"
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    message = message.splitlines()[0] if message else ""
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return ConfigError(
        f"cannot load app {import_string!r}: importing {module_name!r} failed: {detail}{where}",
        detail=user_traceback(exc),
    )


def user_traceback(exc: BaseException) -> str:
    """``exc`` formatted as Python would print it, without the frames of importlib and
    fastasgi: what is left is the app's own code (and a SyntaxError's file, line and caret)."""
    exc.__traceback__ = _without_machinery(exc.__traceback__)
    return "".join(traceback.format_exception(exc))


# importlib's frozen bootstrap, importlib.import_module, and fastasgi itself.
_MACHINERY = (
    "<frozen importlib",
    os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep,
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
)


def _is_machinery(filename: str) -> bool:
    return filename.startswith(_MACHINERY)


def _without_machinery(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The chain of ``tb`` without its importlib and fastasgi frames."""
    kept: list[types.TracebackType] = []
    while tb is not None:
        if not _is_machinery(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt: types.TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def _call_factory(factory: Any, label: str) -> Any:
    if not callable(factory):
        raise ConfigError(
            f"cannot load app {label!r}: --factory needs a callable, got a "
            f"{type(factory).__name__!r} object"
        )
    try:
        return factory()
    except Exception as exc:  # noqa: BLE001 -- whatever the app's factory raised
        message = str(exc).splitlines()[0] if str(exc) else ""
        raise ConfigError(
            f"cannot load app {label!r}: the factory raised {type(exc).__name__}: {message}",
            detail=user_traceback(exc),
        ) from None


def _is_factory(app: Any) -> bool:
    """True for a callable that takes no arguments: no ASGI or WSGI app can be one."""
    if not callable(app):
        return False
    target = app
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target) or (
        not inspect.isclass(target) and inspect.iscoroutinefunction(type(target).__call__)
    ):
        return False
    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        return False  # a builtin, say: nothing tells it is a factory
    return not any(
        parameter.kind is parameter.VAR_POSITIONAL  # open-ended: taken as an app
        or (parameter.default is parameter.empty and parameter.kind is not parameter.VAR_KEYWORD)
        for parameter in signature.parameters.values()
    )


def _prepend_to_sys_path(app_dir: str) -> None:
    directory = os.path.abspath(app_dir or ".")
    if directory not in sys.path:
        sys.path.insert(0, directory)


# -- interface detection ------------------------------------------------------------------

_INTERFACE_BY_ARITY = {1: "asgi2", 2: "wsgi", 3: "asgi3"}


def detect_interface(app: Any) -> str:
    """"asgi3", "asgi2" or "wsgi", judged from how ``app`` is called.

    ASGI 3: a coroutine function or an object whose ``__call__`` is one, or anything called
    with (scope, receive, send). ASGI 2: called with (scope) alone, returning the callable that
    takes (receive, send); classes usually are. WSGI: called with (environ, start_response).
    A class is judged by its constructor. When the signature says nothing (``*args``, a
    builtin), ASGI 3 is assumed."""
    target = app
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isclass(target) and (
        inspect.iscoroutinefunction(target)
        or inspect.iscoroutinefunction(type(target).__call__)
    ):
        return "asgi3"
    arity = _positional_arity(app)
    if arity is None:
        return "asgi2" if inspect.isclass(target) else "asgi3"
    return _INTERFACE_BY_ARITY.get(arity, "asgi3")


def _positional_arity(app: Any) -> int | None:
    """How many positional arguments ``app(...)`` takes, or None when that is open-ended."""
    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        positional = parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        if positional and parameter.default is parameter.empty:
            count += 1
    return count
