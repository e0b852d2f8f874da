"""Every committed seed of every fuzz target keeps the target's invariants.

The seeds are where each coverage-guided run starts (``run_fuzz.py``); a crash input that the
fuzzer found belongs here too once the bug is fixed, so that it stays fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

SEEDS = Path(__file__).resolve().parent / "seeds"
CASES = sorted((target, path) for target in TARGETS for path in (SEEDS / target).iterdir())


def test_every_target_has_seeds() -> None:
    assert {target for target, _ in CASES} == set(TARGETS)


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_seed_keeps_the_invariants(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())
