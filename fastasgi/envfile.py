"""--env-file: read KEY=VALUE lines into the environment before the settings are read."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping

from fastasgi.errors import ConfigError

__all__ = ["load_env_file"]

_ENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)\Z")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


# python-dotenv's expansion: ${NAME}, or ${NAME:-default} when NAME is not set.
_VARIABLE = re.compile(r"\$\{(?P<name>[^}:]*)(?::-(?P<default>[^}]*))?\}")


def load_env_file(path: str, environ: MutableMapping[str, str]) -> None:
    """Add ``path``'s KEY=VALUE lines to ``environ``, leaving variables already set alone.

    ``${NAME}`` in a value is expanded from ``environ`` first, then from the lines above it,
    as python-dotenv's ``load_dotenv()`` does (uvicorn's --env-file): the real environment wins
    over the file in the values too, not only in the keys. Uses python-dotenv's parser when
    installed; otherwise reads the common subset of its format: comments, ``export`` prefixes,
    single quotes (no escapes) and double quotes (escapes)."""
    if not os.path.isfile(path):
        raise ConfigError(f"--env-file: no such file: {path}")
    try:
        from dotenv import dotenv_values  # type: ignore[import-not-found]
    except ImportError:
        loaded = _read_env_file(path)
    else:
        raw = dotenv_values(path, interpolate=False)
        loaded = {key: value or "" for key, value in raw.items()}
    expanded: dict[str, str] = {}
    for key, value in loaded.items():
        expanded[key] = _expand(value, expanded, environ)
    for key, value in expanded.items():
        environ.setdefault(key, value)


def _expand(value: str, earlier: Mapping[str, str], environ: Mapping[str, str]) -> str:
    def variable(match: re.Match[str]) -> str:
        name = match.group("name")
        found = environ.get(name, earlier.get(name))
        if found is None:
            found = match.group("default")
        return found or ""

    return _VARIABLE.sub(variable, value)


def _read_env_file(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = _ENV_LINE.match(line)
            if match is None:
                raise ConfigError(f"--env-file {path}, line {number}: expected KEY=VALUE")
            key, raw = match.groups()
            try:
                values[key] = _env_value(raw)
            except ValueError as exc:
                raise ConfigError(f"--env-file {path}, line {number}: {exc}") from None
    return values


def _env_value(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1) if quote == "'" else _closing_double_quote(raw)
        if end < 0:
            raise ValueError(f"missing closing {quote}")
        rest = raw[end + 1:].strip()
        if rest and not rest.startswith("#"):
            raise ValueError(f"unexpected text after the closing {quote}")
        inner = raw[1:end]
        if quote == "'":
            return inner
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), inner)
    # Unquoted: a " #" starts a comment.
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def _closing_double_quote(raw: str) -> int:
    index = 1
    while index < len(raw):
        if raw[index] == "\\":
            index += 2
            continue
        if raw[index] == '"':
            return index
        index += 1
    return -1
