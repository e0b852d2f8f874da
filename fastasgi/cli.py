"""The ``fastasgi`` command line, derived from the settings in ``fastasgi.config``.

Flag names and meanings follow uvicorn's, so switching servers is a matter of changing the
command's first word. Usage mistakes exit with status 2 and configuration errors with status 1,
each with a single ``error: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import MutableMapping, Sequence
from typing import Any, NoReturn

from fastasgi.config import SETTINGS, Config, ConfigError, Setting, build_config

__all__ = ["UsageError", "build_parser", "config_from_args", "version_text"]


class UsageError(ConfigError):
    """The command line itself is wrong (unknown flag, a value of the wrong type)."""

    exit_code = 2


class CommandLineParser(argparse.ArgumentParser):
    """argparse, but a mistake is one line, raised rather than printed with the usage."""

    def error(self, message: str) -> NoReturn:
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown:
            word = unknown.group(1).split("=", 1)[0]
            known = [flag for action in self._actions for flag in action.option_strings]
            import difflib  # only here: a worker need not hold it

            close = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else " (see fastasgi --help)"
            raise UsageError(f"unknown option {word}{hint}")
        # "argument --port/--p: ..." -> "--port: ..."
        message = re.sub(r"^argument ([^:/ ]+)\S*: ", r"\1: ", message)
        raise UsageError(f"{message} (see fastasgi --help)")


def build_parser() -> CommandLineParser:
    parser = CommandLineParser(
        prog="fastasgi",
        description="Serve an ASGI (or WSGI) app with fastasgi.",
        epilog="Every option can also be set with an environment variable FASTASGI_<NAME>, "
        "e.g. FASTASGI_PORT=8001, and those uvicorn has with UVICORN_<NAME> as well; a flag "
        "wins over FASTASGI_<NAME>, which wins over UVICORN_<NAME>.",
        allow_abbrev=False,
    )
    groups: dict[str, Any] = {}
    for spec in SETTINGS:
        if spec.group not in groups:
            groups[spec.group] = parser.add_argument_group(spec.group)
        _add_setting(groups[spec.group], spec)
    parser.add_argument(
        "--version", action="store_true", default=False,
        help="Print the versions of fastasgi, its event loop and Python, and exit.",
    )
    return parser


def _add_setting(group: Any, spec: Setting) -> None:
    help_text = _help(spec).replace("%", "%%")
    if spec.positional:
        group.add_argument(
            spec.name, nargs="?", default=argparse.SUPPRESS, metavar=spec.metavar, help=help_text,
            type=_parser_of(spec),
        )
        return
    common: dict[str, Any] = {"dest": spec.name, "default": argparse.SUPPRESS, "help": help_text}
    if spec.kind is bool and spec.negatable:
        group.add_argument(*spec.all_flags, action=argparse.BooleanOptionalAction, **common)
    elif spec.kind is bool and not spec.takes_value:
        group.add_argument(*spec.all_flags, action="store_true", **common)
    else:
        group.add_argument(
            *spec.all_flags, action="append" if spec.repeatable else "store",
            type=_parser_of(spec), metavar=metavar(spec), **common,
        )


def _parser_of(spec: Setting) -> Any:
    def parse(text: str) -> Any:
        try:
            return spec.check_one(spec.parse(text))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = spec.kind.__name__  # argparse names the type in some messages
    return parse


def metavar(spec: Setting) -> str:
    if spec.metavar:
        return spec.metavar
    if spec.choices:
        return "{" + ",".join(str(choice) for choice in spec.choices) + "}"
    # Every float setting is a duration.
    return {bool: "BOOL", int: "INT", float: "SECONDS"}.get(spec.kind, "TEXT")


def default_text(spec: Setting) -> str:
    """The default as users should read it."""
    if spec.default_text is not None:
        return spec.default_text
    if spec.default is None:
        return "none"
    if spec.default == "":
        return '""'
    if isinstance(spec.default, bool):
        return "true" if spec.default else "false"
    if isinstance(spec.default, float) and spec.default.is_integer():
        return str(int(spec.default))
    return str(spec.default)


def _help(spec: Setting) -> str:
    return f"{spec.help} [default: {default_text(spec)}; env: {', '.join(spec.env_vars)}]"


def config_from_args(
    args: argparse.Namespace, environ: MutableMapping[str, str] | None = None
) -> Config:
    """The Config for parsed command-line ``args`` over ``environ`` (os.environ by default)."""
    given = {spec.name: getattr(args, spec.name) for spec in SETTINGS if hasattr(args, spec.name)}
    labels = {spec.name: spec.flag for spec in SETTINGS}
    labels["app"] = "APP"
    return build_config(given, labels, environ)


def parse_command_line(
    argv: Sequence[str] | None = None, environ: MutableMapping[str, str] | None = None
) -> Config:
    """The Config a command line stands for; raises UsageError or ConfigError."""
    return config_from_args(build_parser().parse_args(argv), environ)


def version_text() -> str:
    """``fastasgi X.Y.Z (Cython core, uvloop A.B.C) CPython 3.x on Linux``.

    Imports the compiled parser, so a build without its extensions says so here."""
    from fastasgi import __version__

    try:
        import fastasgi._parser  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"fastasgi {__version__}: the compiled core is missing ({exc}); "
            "install a wheel or build it with: pip install ."
        ) from None
    try:
        import uvloop
    except ImportError:
        loop = "asyncio"
    else:
        loop = f"uvloop {uvloop.__version__}"
    import platform  # only here: a worker need not hold it

    python = f"{platform.python_implementation()} {sys.version_info[0]}.{sys.version_info[1]}"
    return f"fastasgi {__version__} (Cython core, {loop}) {python} on {platform.system()}"
