"""Several server processes under one supervisor (``--workers N``).

``Supervisor`` (supervisor.py) binds the sockets and keeps the workers alive; ``worker_main.py``
is what each worker process runs; ``heartbeat.py`` is how a worker tells the supervisor it is alive;
``process.py`` is the supervisor's record of one worker.
"""

from fastasgi.supervisor.supervisor import Supervisor

__all__ = ["Supervisor"]
