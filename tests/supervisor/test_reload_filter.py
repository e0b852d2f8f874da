"""Which changed files --reload acts on (uvicorn's rules for includes and excludes)."""

from __future__ import annotations

from pathlib import Path

from fastasgi.config import Config
from fastasgi.supervisor.reloader import FileFilter, watch_directories


def _filter(tmp_path: Path, **settings: object) -> FileFilter:
    includes, excludes = Config(app="main:app", **settings).reload_patterns()
    return FileFilter(includes, excludes, tmp_path)


def test_python_files_count_and_editor_droppings_do_not(tmp_path: Path) -> None:
    counts = _filter(tmp_path)
    assert counts(tmp_path / "main.py")
    assert counts(tmp_path / "pkg" / "views.py")
    for name in ("notes.txt", ".main.py.swp", "~main.py", ".hidden.py", "main.pyc"):
        assert not counts(tmp_path / name), name


def test_includes_add_to_the_default_and_excludes_win_over_wildcards(tmp_path: Path) -> None:
    counts = _filter(tmp_path, reload_includes=["*.html"], reload_excludes=["test_*.py"])
    assert counts(tmp_path / "templates" / "index.html")
    assert counts(tmp_path / "main.py")
    assert not counts(tmp_path / "test_main.py")


def test_an_excluded_directory_hides_what_is_under_it(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    counts = _filter(tmp_path, reload_excludes=["build", "node_modules"])
    assert not counts(tmp_path / "build" / "generated.py")
    # A name without wildcards excludes directories of that name anywhere below.
    assert not counts(tmp_path / "web" / "node_modules" / "x.py")
    assert counts(tmp_path / "builder" / "main.py")


def test_a_file_named_outright_counts_even_if_an_exclude_matches(tmp_path: Path) -> None:
    counts = _filter(tmp_path, reload_includes=[".env"])
    assert counts(tmp_path / ".env")
    assert not counts(tmp_path / ".other")


def test_watched_directories_default_to_the_current_one_and_nest_once(tmp_path: Path) -> None:
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "lib").mkdir()
    config = Config(app="main:app", reload_dirs=[str(tmp_path / "src" / "app"),
                                                 str(tmp_path / "src"), str(tmp_path / "lib")])
    assert watch_directories(config) == [tmp_path / "lib", tmp_path / "src"]
    assert watch_directories(Config(app="main:app")) == [Path.cwd()]
