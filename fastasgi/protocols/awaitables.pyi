"""Types of fastasgi/protocols/awaitables.pyx: a finished awaitable for Cython callers."""

from collections.abc import Generator
from typing import Any

class Done:
    def __await__(self) -> Generator[Any]: ...

FINISHED: Done
