"""One load benchmark at a time on this machine.

Two load benchmarks running together pin their servers to the same CPU and measure each other.
Every end-to-end run holds an advisory lock on a file in the temporary directory for its whole
duration; another run waits for it (bounded) instead of colliding. The kernel drops the lock when
its holder exits, however it exits. Without fcntl (Windows) there is no lock.
"""

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_PATH = Path(tempfile.gettempdir()) / "fastasgi-bench.lock"
WAIT_TIMEOUT = 900.0


class MachineBusy(RuntimeError):
    pass


@contextmanager
def exclusive_machine(
    timeout: float = WAIT_TIMEOUT,
    progress: Callable[[str], None] = lambda line: None,
    path: Path = LOCK_PATH,
) -> Iterator[None]:
    """Hold the machine-wide benchmark lock; wait up to ``timeout`` seconds for it."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise MachineBusy(
                        f"another benchmark held {path} for {timeout:.0f} s; not starting"
                    ) from None
                if not told:
                    progress(f"waiting for another benchmark to finish (lock {path})")
                    told = True
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)  # releases the lock
