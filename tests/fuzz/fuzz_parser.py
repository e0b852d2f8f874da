"""Coverage-guided fuzzing of the request parser with atheris (libFuzzer).

Run from the repository root, for as long as you like:

    python tests/fuzz/fuzz_parser.py /tmp/parser-corpus tests/fuzz/seeds -max_total_time=180

New inputs go to the first directory; ``tests/fuzz/seeds`` holds a few valid requests to start
from. Each input is an HTTP byte stream followed by PARAMS bytes that choose the parser limits and
where the stream is cut (``make_input`` builds one). The invariants checked are those of
``tests/fuzz/checks.py``; a crash, an exception other than HTTPParseError or a broken invariant
stops the run and saves the input as ``crash-*``.

The extension itself is not instrumented by atheris. For comparison feedback from inside it, and
AddressSanitizer checks on its pointer arithmetic, build a copy with GCC and point
FASTASGI_FUZZ_PARSER at it (the stub defines the two float hooks libFuzzer does not have):

    cython -3 fastasgi/_parser.pyx -o /tmp/fz/_parser.c
    printf 'void __sanitizer_cov_trace_cmpf(float a, float b){}\\n'\\
           'void __sanitizer_cov_trace_cmpd(double a, double b){}\\n' > /tmp/fz/stub.c
    gcc -shared -fPIC -O1 -g -fsanitize=address -fsanitize-coverage=trace-cmp \\
        -I"$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \\
        /tmp/fz/_parser.c /tmp/fz/stub.c -o /tmp/fz/_parser.so
    LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 \\
    PYTHONMALLOC=malloc FASTASGI_FUZZ_PARSER=/tmp/fz/_parser.so \\
        python tests/fuzz/fuzz_parser.py /tmp/parser-corpus tests/fuzz/seeds \\
        -use_value_profile=1 -max_total_time=180
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PARAMS = 8


def _load_parser_build(path: str) -> None:
    """Import the parser from an instrumented build under its usual name."""
    import fastasgi

    spec = importlib.util.spec_from_file_location("fastasgi._parser", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fastasgi._parser"] = module
    spec.loader.exec_module(module)
    fastasgi._parser = module  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

import atheris

checks: Any = None  # tests.fuzz.checks, imported once the parser build is chosen


def limits_and_cuts(params: bytes, size: int) -> tuple[Any, list[int]]:
    """Decode the trailing parameter bytes: small limits half of the time, and the cut points."""
    b = params.ljust(PARAMS, b"\0")
    limits = checks.Limits(
        max_request_line=b[0] + 1 if b[0] < 128 else 8190,
        max_header_bytes=b[1] * 4 + 1 if b[1] < 128 else 65536,
        max_headers=b[2] % 16 + 1 if b[2] < 128 else 100,
        max_chunk_size_digits=b[3] % 16 + 1,
        max_body_size=0 if b[4] < 128 else (b[4] - 128) * 8,
    )
    rng = random.Random(b[5] << 8 | b[6])
    cuts = [rng.randrange(size + 1) for _ in range(b[7] % 12)]
    return limits, cuts


def make_input(stream: bytes, params: bytes = b"\xff\xff\xff\x0f\x00\x00\x00\x00") -> bytes:
    return stream + params


def _import_checks() -> None:
    global checks
    if os.environ.get("FASTASGI_FUZZ_PARSER"):
        _load_parser_build(os.environ["FASTASGI_FUZZ_PARSER"])
    with atheris.instrument_imports(include=["tests.fuzz.checks", "tests.parser.events"]):
        from tests.fuzz import checks as loaded
    checks = loaded


def test_one_input(data: bytes) -> None:
    if checks is None:
        # NOTE: only now, inside Fuzz(), is the libFuzzer core loaded, whose comparison hooks an
        # instrumented parser build needs.
        _import_checks()
    stream, params = data[:-PARAMS], data[-PARAMS:]
    limits, cuts = limits_and_cuts(params, len(stream))
    checks.check_input(stream, cuts, limits)


def main() -> None:
    # The libFuzzer core that atheris.Fuzz imports must export its hooks to later libraries.
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
