"""docs/settings.md documents exactly the settings fastasgi has."""

from __future__ import annotations

from fastasgi.config import SETTINGS

from .render_settings_doc import DOC, generated_section, render


def test_settings_doc_matches_the_settings() -> None:
    assert generated_section(DOC.read_text()) == render().strip("\n"), (
        "docs/settings.md is out of date: run python tests/config/render_settings_doc.py"
    )


def test_settings_doc_has_a_row_per_setting() -> None:
    section = generated_section(DOC.read_text())
    for spec in SETTINGS:
        assert f"`{spec.env_var}`" in section

