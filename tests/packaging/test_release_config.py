"""The release configuration says what docs/packaging.md promises.

GitHub workflows are validated against the published workflow schema (check-jsonschema ships
it), then read for the properties a release depends on. The [tool.cibuildwheel] table is
validated against cibuildwheel's own schema and asked which wheels it would build."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.packaging.release_tools import need_release_tool

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"

needs_cibuildwheel = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="cibuildwheel 3+ runs on Python 3.11+ only"
)


def load_workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def cibuildwheel_config() -> dict[str, Any]:
    import tomllib  # only the Python 3.11+ tests read it

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["cibuildwheel"]


def build_identifiers(platform: str, archs: str | None = None) -> set[str]:
    need_release_tool("cibuildwheel")
    command = [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers", "--platform",
               platform]
    if archs:
        command += ["--archs", archs]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def python_tags(identifiers: set[str]) -> set[str]:
    return {identifier.split("-", 1)[0] for identifier in identifiers}


def test_workflows_are_valid_github_workflows() -> None:
    need_release_tool("check_jsonschema")
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert len(files) >= 2
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", *files],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_tests_three_systems_and_python_310_to_313() -> None:
    matrix = load_workflow("ci.yml")["jobs"]["test"]["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    assert matrix["python-version"] == ["3.10", "3.11", "3.12", "3.13"]


def test_ci_runs_the_slow_distribution_tests_and_a_debug_build() -> None:
    jobs = load_workflow("ci.yml")["jobs"]
    dist_commands = " ".join(step.get("run", "") for step in jobs["dist"]["steps"])
    assert "pytest -m slow tests/packaging" in dist_commands
    assert jobs["debug-build"]["env"]["FASTASGI_DEBUG"] == "1"


def test_the_jobs_that_run_the_packaging_tests_install_the_release_tooling() -> None:
    # Under CI=true a packaging test fails, rather than skips, without its release tool.
    jobs = load_workflow("ci.yml")["jobs"]
    for name in ("test", "debug-build", "dist"):
        commands = " ".join(step.get("run", "") for step in jobs[name]["steps"])
        assert 'pip install -e ".[test,release]"' in commands, name


def test_ci_runs_the_autobahn_test_in_its_own_job_with_wstest() -> None:
    jobs = load_workflow("ci.yml")["jobs"]
    # Under CI=true the Autobahn, h2spec and h2load tests fail without their tools: the jobs
    # that lack them deselect them.
    for name in ("test", "debug-build"):
        commands = " ".join(step.get("run", "") for step in jobs[name]["steps"])
        assert 'pytest -m "not slow and not autobahn and not h2spec and not h2load"' in commands, \
            name
    autobahn = jobs["autobahn"]
    commands = " ".join(step.get("run", "") for step in autobahn["steps"])
    assert "pytest -m autobahn tests/websocket/autobahn" in commands
    wstest = autobahn["env"]["WSTEST"]
    assert wstest.startswith("${{ github.workspace }}/")
    script = ROOT / wstest.removeprefix("${{ github.workspace }}/")
    assert script.is_file() and script.stat().st_mode & 0o111
    image = re.search(r"crossbario/autobahn-testsuite:[\w.]+", script.read_text())
    assert image is not None and f"docker pull {image.group(0)}" in commands
    assert autobahn["runs-on"] == "ubuntu-latest"  # Docker's host network is Linux only


def test_ci_runs_the_h2spec_and_h2load_tests_in_a_job_with_both_tools() -> None:
    h2spec = load_workflow("ci.yml")["jobs"]["h2spec"]
    commands = " ".join(step.get("run", "") for step in h2spec["steps"])
    assert "go install github.com/summerwind/h2spec/cmd/h2spec@" in commands
    assert "H2SPEC=" in commands and "GITHUB_ENV" in commands
    assert "apt-get install -y -qq nghttp2-client" in commands  # h2load
    assert 'pytest -m "h2spec or h2load" tests/protocols/h2' in commands


def test_ci_runs_ruff_and_mypy() -> None:
    commands = [step.get("run", "") for step in load_workflow("ci.yml")["jobs"]["lint"]["steps"]]
    assert "ruff check ." in commands and "mypy" in commands


def test_wheels_are_built_on_a_native_runner_per_platform() -> None:
    job = load_workflow("wheels.yml")["jobs"]["wheels"]
    runners = {entry["os"] for entry in job["strategy"]["matrix"]["include"]}
    assert runners == {"ubuntu-24.04", "ubuntu-24.04-arm", "macos-15-intel", "macos-15",
                       "windows-2025"}
    cibuildwheel_steps = [s for s in job["steps"] if s.get("uses", "").startswith(
        "pypa/cibuildwheel@")]
    assert len(cibuildwheel_steps) == 1
    # Wheels come from the sdist artifact, not from the checkout.
    assert job["needs"] == "sdist"
    assert "sdist" in cibuildwheel_steps[0]["with"]["package-dir"]


def test_publishing_happens_only_on_version_tags_with_trusted_publishing() -> None:
    workflow = load_workflow("wheels.yml")
    assert workflow["on"]["push"]["tags"] == ["v*"]
    publish = workflow["jobs"]["publish"]
    assert "refs/tags/v" in publish["if"]
    assert set(publish["needs"]) == {"sdist", "wheels"}
    assert publish["permissions"] == {"id-token": "write"}
    uses = [step.get("uses", "") for step in publish["steps"]]
    assert "pypa/gh-action-pypi-publish@release/v1" in uses
    # No long-lived token: trusted publishing needs none.
    assert "password" not in json.dumps(publish)
    # Only the publish job may mint an OIDC token.
    assert workflow["permissions"] == {"contents": "read"}


def test_uploaded_artifacts_fail_when_empty() -> None:
    for name in ("sdist", "wheels"):
        steps = load_workflow("wheels.yml")["jobs"][name]["steps"]
        uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert uploads and all(s["with"]["if-no-files-found"] == "error" for s in uploads)


@needs_cibuildwheel
def test_cibuildwheel_config_matches_its_schema() -> None:
    need_release_tool("cibuildwheel")
    from importlib import resources

    import jsonschema

    schema_file = resources.files("cibuildwheel").joinpath("resources/cibuildwheel.schema.json")
    jsonschema.validate(cibuildwheel_config(), json.loads(schema_file.read_text()))


@needs_cibuildwheel
@pytest.mark.parametrize(
    ("platform", "archs", "platform_tags"),
    [
        ("linux", "x86_64", {"manylinux_x86_64", "musllinux_x86_64"}),
        ("linux", "aarch64", {"manylinux_aarch64", "musllinux_aarch64"}),
        ("macos", "x86_64", {"macosx_x86_64"}),
        ("macos", "arm64", {"macosx_arm64"}),
        ("windows", None, {"win_amd64"}),  # the configured archs, as the Windows runner sees them
    ],
)
def test_cibuildwheel_builds_cpython_310_and_newer_without_free_threading(
    platform: str, archs: str | None, platform_tags: set[str]
) -> None:
    identifiers = build_identifiers(platform, archs)
    assert {identifier.split("-", 1)[1] for identifier in identifiers} == platform_tags
    tags = python_tags(identifiers)
    assert {"cp310", "cp311", "cp312", "cp313", "cp314"} <= tags
    assert all(tag.startswith("cp3") and int(tag[3:]) >= 10 for tag in tags), tags
    assert not any(tag.endswith("t") for tag in tags), "free-threaded builds are not enabled"


@needs_cibuildwheel
def test_cibuildwheel_tests_each_wheel_with_the_fast_suite_from_a_copy() -> None:
    config = cibuildwheel_config()
    assert config["test-command"] == "pytest tests/parser tests/serializer"
    # Every third-party module those tests import is installed for them, and nothing heavier.
    required = {re.split(r"[<>=;\[ ]", item, maxsplit=1)[0].lower() for item in config["test-requires"]}
    imported = set()
    for folder in ("parser", "serializer"):
        for source in (ROOT / "tests" / folder).glob("*.py"):
            imported |= set(re.findall(r"^\s*(?:import|from) (\w+)", source.read_text(), re.MULTILINE))
    third_party = imported - set(sys.stdlib_module_names) - {"fastasgi", "tests", "__future__"}
    assert third_party <= required, third_party - required
    assert "django" not in required and "fastapi" not in required
    # The tests run from a copy, so `import fastasgi` finds the installed wheel.
    assert "tests" in config["test-sources"]
    for folder in ("parser", "serializer"):
        assert (ROOT / "tests" / folder).is_dir()
