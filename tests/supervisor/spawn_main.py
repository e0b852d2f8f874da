"""``python -m tests.supervisor.spawn_main ARGS``: the fastasgi command, with workers started by
spawn (fresh interpreters, as on macOS and Windows) instead of fork."""

import sys

from fastasgi.main import main
from fastasgi.supervisor import supervisor

if __name__ == "__main__":
    supervisor.START_METHOD = "spawn"
    sys.exit(main(sys.argv[1:]))
