"""The release tooling some packaging tests run (twine, auditwheel, check-jsonschema,
cibuildwheel) comes with the `release` extra, not `test`: a test that needs a tool calls
``need_release_tool``, which skips it where the tool is not installed, and fails it when $CI says
it runs on CI, where the extra is installed (.ci/run and the GitHub jobs that run tests/packaging)."""

from __future__ import annotations

import importlib.util
import os

import pytest


def need_release_tool(module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{module} is missing on CI: install the release extra (pip install -e '.[release]')")
    pytest.skip(f"{module} comes with the release extra: pip install -e '.[test,release]'")
