"""Coverage-guided fuzzing of one target with atheris (libFuzzer).

    python tests/fuzz/fuzz.py TARGET CORPUS_DIR [SEED_DIR ...] [libFuzzer flags]

TARGET is ``parser``, ``chunked``, ``websocket`` or ``h2`` (``tests/fuzz/targets.py`` says what
each input means and ``checks.py``, ``websocket_checks.py`` and ``h2_checks.py`` what is
checked). New inputs go to the first directory; a crash, an exception other than the target's
own refusal or a broken invariant stops the run and saves the input as ``crash-*`` (or where
``-artifact_prefix`` says).

Coverage comes from the Python harness alone unless the Cython extensions are built with
coverage instrumentation: ``tests/fuzz/run_fuzz.py`` builds them with clang
(``-fsanitize=fuzzer-no-link``, optionally AddressSanitizer) and points FASTASGI_FUZZ_BUILD at
the folder that holds them; this script then imports them in place of the installed ones.
``tests/fuzz/README.md`` has the commands for long runs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# In import order: a module is loaded after those it cimports from.
EXTENSIONS = ("_chunked", "_head", "_parser", "_deflate", "_websocket",
              "_huffman", "_hpack", "_h2frames", "_h2events", "_h2connection")

if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))

import atheris


def load_instrumented_build(folder: str) -> None:
    """Import the extensions found in ``folder`` under their usual names."""
    import fastasgi

    for name in EXTENSIONS:
        found = sorted(Path(folder).glob(f"{name}.*so"))
        if len(found) != 1:
            sys.exit(f"expected one {name} build in {folder}, found {found or 'none'}")
        path = found[0]
        spec = importlib.util.spec_from_file_location(f"fastasgi.{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"fastasgi.{name}"] = module
        spec.loader.exec_module(module)
        setattr(fastasgi, name, module)


target: Callable[[bytes], None] | None = None


def _import_target(name: str) -> Callable[[bytes], None]:
    if os.environ.get("FASTASGI_FUZZ_BUILD"):
        load_instrumented_build(os.environ["FASTASGI_FUZZ_BUILD"])
        from tests.fuzz import targets
    else:
        # Without an instrumented build the harness's own branches are all the coverage
        # there is; with one they would only slow each run down several times.
        with atheris.instrument_imports(include=["tests.fuzz", "tests.parser.events",
                                                 "tests.support.websocket_frames"]):
            from tests.fuzz import checks, h2_checks, targets, websocket_checks  # noqa: F401
    return targets.TARGETS[name]


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    name = sys.argv.pop(1)

    def test_one_input(data: bytes) -> None:
        global target
        if target is None:
            # NOTE: only now, inside Fuzz(), is the libFuzzer core loaded, which an instrumented
            # build's coverage counters and comparison hooks register with.
            target = _import_target(name)
        target(data)

    # The libFuzzer core that atheris.Fuzz imports must export its hooks to later libraries.
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
