"""What a worker tells its supervisor, over a one-way pipe, and the task that tells it.

Each message is one byte, but for SNAPSHOT. The worker's event loop sends BEAT every second (four
times per ``--timeout-worker-healthcheck`` when that is shorter than 4 s), so a silent pipe means
a loop that no longer turns (an app blocking it, a deadlock), which the supervisor answers with
SIGKILL. READY says the worker is listening (lifespan startup done); STOPPING says it accepts no
more connections and will exit (a signal, or ``--limit-max-requests`` reached), so the supervisor
can start its successor at once. Under --metrics-port each BEAT is followed by a SNAPSHOT: the
byte, then the worker's metrics (``fastasgi.metrics``), at most MAX_MESSAGE_BYTES in all so that
one pipe write carries it whole; and a last one goes out as the worker ends.

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

__all__ = [
    "BEAT", "BEAT_SECONDS", "MAX_MESSAGE_BYTES", "READY", "SNAPSHOT", "STOPPING", "Reporter",
    "read_messages", "report_health", "send_snapshot",
]

BEAT = b"."
READY = b"R"
STOPPING = b"S"
SNAPSHOT = b"M"

# The longest message: a write to a pipe up to PIPE_BUF (4096 on Linux, 512 at the least POSIX
# allows) is atomic, whole or not at all, and the framing takes 4 bytes of it.
MAX_MESSAGE_BYTES = 4096

BEAT_SECONDS = 1.0
# How often the reporting task looks at the server: READY and STOPPING go out within this.
POLL_SECONDS = 0.1
# Beats per health-check timeout, at least: one late beat must not get a worker killed.
BEATS_PER_TIMEOUT = 4
# Messages read per wake-up of the supervisor; at one beat (and one snapshot) a second a pipe never
# holds more unless the supervisor was stopped, and then old beats say nothing worth reading.
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
            send_snapshot(server, reporter)
            next_beat = loop.time() + beat_every
        await asyncio.sleep(poll_every)


def send_snapshot(server: Server, reporter: Reporter) -> None:
    """Send the server's metrics, if it counts them (--metrics-port)."""
    from fastasgi.metrics import encode_snapshot

    state = server.state
    if state is None or state.metrics is None:
        return
    data = encode_snapshot(state.metrics.snapshot(state.total_requests, state.connections))
    if data is not None:
        reporter.send(SNAPSHOT + data)


def read_messages(connection: Connection) -> list[bytes] | None:
    """Messages waiting on the supervisor's end, in order; None once the worker's end is closed."""
    messages: list[bytes] = []
    try:
        while len(messages) < MAX_MESSAGES_PER_READ and connection.poll():
            messages.append(connection.recv_bytes(MAX_MESSAGE_BYTES))
    except (EOFError, OSError):
        return None
    return messages
