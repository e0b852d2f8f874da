"""External test tools (h2spec, h2load): found by an environment variable or on PATH. Missing,
a test that needs one skips, or fails when $CI says it runs on CI, where the tool is provided."""

from __future__ import annotations

import os
import shutil

import pytest


def external_tool(name: str, variable: str, how: str) -> str:
    command = os.environ.get(variable) or shutil.which(name)
    if command is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{name} is missing on CI: {how}, or set {variable}")
        pytest.skip(f"{name} is not installed ({how}, or set {variable})")
    return command
