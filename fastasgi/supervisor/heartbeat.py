"""What a worker tells its supervisor, over a one-way pipe, and the task that tells it.

Each message is one byte. The worker's event loop sends BEAT every second (four times per
``--timeout-worker-healthcheck`` when that is shorter than 4 s), so a silent pipe means
a loop that no longer turns (an app blocking it, a deadlock), which the supervisor answers with
SIGKILL. READY says the worker is listening (lifespan startup done); STOPPING says it accepts no
more connections and will exit (a signal, or ``--limit-max-requests`` reached), so the supervisor
can start its successor at once.

The worker never blocks on the pipe: its end is non-blocking and a message that does not fit is
dropped. A supervisor that stops reading (stopped with SIGSTOP, say) must not stall every worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastasgi.server import Server

__all__ = ["BEAT", "BEAT_SECONDS", "READY", "STOPPING", "Reporter", "read_messages", "report_health"]

BEAT = b"."
READY = b"R"
STOPPING = b"S"

BEAT_SECONDS = 1.0
# How often the reporting task looks at the server: READY and STOPPING go out within this.
POLL_SECONDS = 0.1
# Beats per health-check timeout, at least: one late beat must not get a worker killed.
BEATS_PER_TIMEOUT = 4
# Messages read per wake-up of the supervisor; at one beat a second a pipe never holds more
# unless the supervisor was stopped, and then old beats say nothing worth reading.
MAX_MESSAGES_PER_READ = 64

logger = logging.getLogger("fastasgi.error")


class Reporter:
    """The worker's end of the pipe."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.said_stopping = False
        if hasattr(os, "set_blocking"):
            os.set_blocking(connection.fileno(), False)

    def send(self, message: bytes) -> bool:
        """Send one message; False if the pipe is full or the supervisor's end is gone."""
        try:
            self.connection.send_bytes(message)
        except (OSError, ValueError):
            # NOTE: a pipe write this small is atomic, so a full pipe drops the whole message
            # rather than leaving half of one.
            return False
        if message == STOPPING:
            self.said_stopping = True
        return True


async def report_health(server: Server, reporter: Reporter, supervisor_pid: int) -> None:
    """Beat, say STOPPING once ``server`` stops, and stop ``server`` if the supervisor goes
    away. Runs until cancelled. (READY goes out from ``server.on_started``, the moment the
    sockets accept: a worker may serve, and die, before this task next looks.)"""
    loop = asyncio.get_running_loop()
    beat_every = min(BEAT_SECONDS, server.config.timeout_worker_healthcheck / BEATS_PER_TIMEOUT)
    poll_every = min(POLL_SECONDS, beat_every)
    next_beat = loop.time()
    while True:
        if os.getppid() != supervisor_pid and not server.should_exit:
            # The supervisor was killed: nobody would replace or stop this worker.
            logger.warning("The supervisor [%d] is gone; stopping.", supervisor_pid)
            server.handle_exit(signal.SIGTERM)
        if server.should_exit and not reporter.said_stopping:
            reporter.send(STOPPING)
        if loop.time() >= next_beat:
            reporter.send(BEAT)
            next_beat = loop.time() + beat_every
        await asyncio.sleep(poll_every)


def read_messages(connection: Connection) -> list[bytes] | None:
    """Messages waiting on the supervisor's end, in order; None once the worker's end is closed."""
    messages: list[bytes] = []
    try:
        while len(messages) < MAX_MESSAGES_PER_READ and connection.poll():
            messages.append(connection.recv_bytes(16))
    except (EOFError, OSError):
        return None
    return messages
