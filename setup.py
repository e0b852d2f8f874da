"""Build the Cython extensions of fastasgi.

Every ``fastasgi/**/*.pyx`` becomes an extension module of the same dotted name. A checkout
regenerates the C files with Cython; an sdist ships them, so it needs only a C compiler.

Environment switches:
  FASTASGI_DEBUG=1   line tracing, bounds and wraparound checks, C assertions, -O0 -g.
"""

import os
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
DEBUG = os.environ.get("FASTASGI_DEBUG", "") not in ("", "0")


def _sources() -> list[Path]:
    return sorted(p.relative_to(HERE) for p in (HERE / "fastasgi").rglob("*.pyx"))


def _extensions() -> list[Extension]:
    try:
        from Cython.Build import cythonize
    except ImportError:
        cythonize = None

    if os.name == "nt":
        compile_args = ["/Od", "/Zi"] if DEBUG else ["/O2"]
    else:
        # NOTE: -O2 over -O3: on the parser benchmark -O3 buys nothing measurable and grows the
        # code; no -march, because wheels must run on every CPU of their platform tag.
        compile_args = ["-O0", "-g3"] if DEBUG else ["-O2"]
    macros = [] if DEBUG else [("NDEBUG", "1")]
    if DEBUG:
        macros.append(("CYTHON_TRACE_NOGIL", "1"))

    extensions = []
    for pyx in _sources():
        name = ".".join(pyx.with_suffix("").parts)
        source = pyx if cythonize else pyx.with_suffix(".c")
        if not cythonize and not (HERE / source).exists():
            raise SystemExit(f"{source} is missing: install Cython to build from a checkout")
        extensions.append(
            Extension(name, [str(source)], extra_compile_args=compile_args, define_macros=macros)
        )
    if cythonize is None:
        return extensions
    directives = {"language_level": "3"}
    if DEBUG:
        directives.update(linetrace=True, boundscheck=True, wraparound=True)
    return cythonize(extensions, compiler_directives=directives, annotate=False)


setup(ext_modules=_extensions())
