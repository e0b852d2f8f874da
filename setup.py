"""Build the Cython extensions of fastasgi.

Every ``fastasgi/**/*.pyx`` becomes an extension module of the same dotted name. Metadata lives in
pyproject.toml; this file only describes how the C is made and compiled.

Where the C comes from:
- a git checkout has no C files: Cython (a build requirement) generates them next to the .pyx;
- an sdist ships the generated C (and PKG-INFO, which is how it is recognised) and compiles exactly
  that C, so installing it needs a C compiler and not Cython. Cython, when importable, is used only
  for a .pyx or .pxd edited after unpacking (newer than its C).

Environment switches:
  FASTASGI_DEBUG=1   line tracing, bounds/None/initialisation checks, Cython and C assertions,
                     -O0 -g. The debug C goes to build/cython-debug/, so a release build never
                     picks it up; the debug directives beat the ones in a file's header.

Compiler flags are measured, not guessed: docs/packaging.md has the figures.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
PACKAGE = "fastasgi"
IN_SDIST = (HERE / "PKG-INFO").exists()
DEBUG = os.environ.get("FASTASGI_DEBUG", "") not in ("", "0")
DEBUG_C_DIR = Path("build") / "cython-debug"

# Directives a debug build forces on, even where a file header, decorator or ``with`` block turns
# them off. wraparound is left as each file sets it: with boundscheck on, an index outside the
# object never reads past it (Cython falls back to a checked lookup or raises IndexError).
DEBUG_DIRECTIVES = {
    "boundscheck": True,
    "initializedcheck": True,
    "nonecheck": True,
    "linetrace": True,
}


def pyx_sources() -> list[Path]:
    """Every .pyx under the package, relative to the project root, in a stable order."""
    return sorted(p.relative_to(HERE) for p in (HERE / PACKAGE).rglob("*.pyx"))


def compile_args() -> list[str]:
    msvc = sys.platform == "win32" and "GCC" not in sys.version
    if DEBUG:
        # NOTE: Python's own CFLAGS define NDEBUG; undefine it so C-level assert() runs too.
        return ["/Od", "/Zi", "/UNDEBUG"] if msvc else ["-O0", "-g3", "-UNDEBUG"]
    # NOTE: -O2, not the interpreter's -O3: -O3 measured no faster on the parser and serializer
    # benchmarks and made the modules 8-10% larger. No -march: a wheel must run on every CPU of
    # its platform tag. -g0 drops the interpreter's -g, which made each module ~5x larger.
    # MSVC's defaults are already /O2 without debug information.
    if msvc:
        return []
    # An optimisation level the builder chose in CFLAGS stands (ours would come after it and
    # win): CI compiles its second interpreter's test build with CFLAGS=-O0, in a third of the
    # time.
    chosen = any(flag.startswith("-O") for flag in os.environ.get("CFLAGS", "").split())
    return ["-g0"] if chosen else ["-O2", "-g0"]


def define_macros() -> list[tuple[str, str | None]]:
    if DEBUG:
        return [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")]
    return [("CYTHON_WITHOUT_ASSERTIONS", None)]


def extensions() -> list[Extension]:
    sources = pyx_sources()
    if IN_SDIST and not DEBUG and not any(_c_is_stale(pyx) for pyx in sources):
        # NOTE: cythonize() would also regenerate C whose Cython includes (libc/*.pxd) are newer,
        # which a freshly installed Cython always is; the shipped C is what gets compiled.
        return [_extension(pyx, pyx.with_suffix(".c"), require_c=True) for pyx in sources]
    try:
        from Cython.Build import cythonize
    except ImportError:
        if DEBUG:
            raise SystemExit("FASTASGI_DEBUG=1 regenerates the C files: install Cython") from None
        return [_extension(pyx, pyx.with_suffix(".c"), require_c=True) for pyx in sources]

    # NOTE: auto_pickle off: no object of ours is pickled, and the generated pickling methods
    # were a large share of the C and of its compile time.
    directives: dict[str, object] = {"language_level": "3", "auto_pickle": False}
    if DEBUG:
        directives.update(DEBUG_DIRECTIVES)
        _make_directives_win(DEBUG_DIRECTIVES)
    return cythonize(
        [_extension(pyx, pyx) for pyx in sources],
        compiler_directives=directives,
        # Release C lives next to the .pyx (the sdist ships it); debug C never does.
        build_dir=str(DEBUG_C_DIR) if DEBUG else None,
        # cythonize only compares timestamps, not directives: debug C is always regenerated.
        force=DEBUG,
        annotate=False,
        nthreads=_cython_processes(),
    )


def _cython_processes() -> int:
    """Processes for cythonize(): one per CPU where they are forked, else none (in-process).

    Generating the C is much of a fresh checkout's build time. Only forked children are safe:
    spawned ones (Windows, macOS, forkserver) re-run this setup.py as their main module, and
    would not inherit the debug build's patched directive handling either."""
    import multiprocessing

    if DEBUG or multiprocessing.get_start_method() != "fork":
        return 0
    return os.cpu_count() or 1


def _c_is_stale(pyx: Path) -> bool:
    """The C of ``pyx`` is missing, or older than the .pyx or .pxd it was generated from."""
    c_file = HERE / pyx.with_suffix(".c")
    if not c_file.exists():
        return True
    # One second of slack: unpacking an archive may stamp the files in any order.
    return max(p.stat().st_mtime for p in _inputs_of(HERE / pyx)) > c_file.stat().st_mtime + 1


def _extension(pyx: Path, source: Path, *, require_c: bool = False) -> Extension:
    if require_c:
        if not (HERE / source).exists():
            raise SystemExit(
                f"{source} is missing: building from a git checkout needs Cython "
                "(pip install Cython, or let pip install the build requirements)"
            )
        if _c_is_stale(pyx):
            print(f"warning: {source} is older than {pyx}; install Cython to regenerate it",
                  file=sys.stderr)
    return Extension(
        ".".join(pyx.with_suffix("").parts),
        [str(source)],
        extra_compile_args=compile_args(),
        define_macros=define_macros(),
    )


def _inputs_of(pyx: Path) -> list[Path]:
    pxd = pyx.with_suffix(".pxd")
    return [pyx, pxd] if pxd.exists() else [pyx]


def _make_directives_win(forced: Mapping[str, object]) -> None:
    """Make ``forced`` override directives set inside the sources.

    Cython lets a file header (``# cython: boundscheck=False``), a decorator or a ``with`` block
    override the directives given to cythonize(); for a debug build that would silently keep the
    checks off exactly in the code that turned them off for speed. The transform that reads those
    directives is swapped for one that replaces their values with ``forced``."""
    from Cython.Compiler import ParseTreeTransforms as transforms

    base = transforms.InterpretCompilerDirectives
    if not (hasattr(base, "visit_ModuleNode") and hasattr(base, "try_to_parse_directive")):
        raise SystemExit(
            "this Cython version cannot force the debug directives; use Cython 3.0.10 to 3.x"
        )

    class ForcedDirectives(base):  # type: ignore[misc, valid-type]
        def visit_ModuleNode(self, node):  # type: ignore[no-untyped-def]
            for name in forced.keys() & node.directive_comments.keys():
                node.directive_comments[name] = forced[name]
            return super().visit_ModuleNode(node)

        def try_to_parse_directive(self, optname, args, kwds, pos):  # type: ignore[no-untyped-def]
            parsed = super().try_to_parse_directive(optname, args, kwds, pos)
            if isinstance(parsed, tuple) and parsed and parsed[0] in forced:
                return parsed[0], forced[parsed[0]]
            return parsed

    transforms.InterpretCompilerDirectives = ForcedDirectives  # type: ignore[misc]


class SdistWithGeneratedC(sdist):
    """An sdist must carry the release C of every .pyx, so installing it never needs Cython."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        if DEBUG:
            raise SystemExit("refusing to build an sdist with FASTASGI_DEBUG set")
        shipped = {Path(f).as_posix() for f in files}
        missing = [
            pyx.with_suffix(".c").as_posix()
            for pyx in pyx_sources()
            if pyx.with_suffix(".c").as_posix() not in shipped
        ]
        if missing:
            raise SystemExit(f"the sdist would lack generated C files: {', '.join(missing)}")
        super().make_release_tree(base_dir, files)


setup(
    ext_modules=extensions(),
    cmdclass={"sdist": SdistWithGeneratedC},
    # Compile the modules in parallel (threads; -j on the command line still wins).
    options={"build_ext": {"parallel": os.cpu_count() or 1}},
)
