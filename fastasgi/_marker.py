"""The named sentinels the sans-I/O cores return as events (NEED_DATA, END_OF_MESSAGE)."""

from __future__ import annotations

from importlib import import_module


class Marker:
    """A sentinel that prints as its name and is compared by identity.

    It pickles as a reference to the module attribute it is bound to, so a copy made by pickling
    is the same object: ``pickle.loads(pickle.dumps(NEED_DATA)) is NEED_DATA``."""

    __slots__ = ("module", "name")

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self.module = module

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return _bound_marker, (self.module, self.name)


def _bound_marker(module: str, name: str) -> Marker:
    marker = getattr(import_module(module), name)
    if not isinstance(marker, Marker):
        raise TypeError(f"{module}.{name} is not a Marker")
    return marker
