"""The supervisor's --metrics-port: a listening socket and its clients, driven by the
supervisor's own loop.

The supervisor has no thread and no event loop (its workers are forked: see ``supervisor``), so
this server runs inside its one ``wait()``: the listening socket and each client socket are among
the things waited on, every socket is non-blocking, and no call here can block. A client gets
READ_SECONDS to send its request head and then one non-blocking write of the answer, which
(at a few KiB) fits in any socket's send buffer; a client that does not take it loses it. At most
MAX_CLIENTS are served at once: more are closed as soon as they are accepted.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from typing import Any

from fastasgi.metrics_http import (
    MAX_CLIENTS,
    MAX_HEAD_BYTES,
    READ_SECONDS,
    ProbeSource,
    answer,
    cannot_listen,
    head_end,
    response,
)

__all__ = ["MetricsServer"]

logger = logging.getLogger("fastasgi.error")

# Connections taken from the listen queue per wake-up, so a flood cannot hold the loop.
ACCEPTS_PER_WAKE = 16


class MetricsServer:
    """Bound at construction; ``handle`` after each wait, ``close`` at the end."""

    def __init__(self, host: str, port: int, source: ProbeSource) -> None:
        self.source = source
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(MAX_CLIENTS)
            listener.setblocking(False)
        except OSError as exc:
            listener.close()
            raise cannot_listen(host, port, exc) from None
        self.listener = listener
        self.address = listener.getsockname()[:2]
        # Each client socket -> (what it sent so far, the time by which its head must be in).
        self.clients: dict[socket.socket, tuple[bytes, float]] = {}

    def waitables(self) -> list[Any]:
        return [self.listener, *self.clients]

    def next_deadline(self) -> float | None:
        return min((deadline for _, deadline in self.clients.values()), default=None)

    def handle(self, ready: list[Any], now: float) -> None:
        """Accept, read and answer what is ready; drop the clients past their deadline."""
        if self.listener in ready:
            self._accept(now)
        for client in list(self.clients):
            if client in ready:
                self._read(client)
            elif client in self.clients and now >= self.clients[client][1]:
                self._drop(client)

    def close(self) -> None:
        for client in list(self.clients):
            self._drop(client)
        self.listener.close()

    def _accept(self, now: float) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors, say: the next wake-up tries again
                logger.warning("The metrics port could not accept a connection: %s", exc)
                return
            if len(self.clients) >= MAX_CLIENTS:
                client.close()
                continue
            client.setblocking(False)
            self.clients[client] = (b"", now + READ_SECONDS)

    def _read(self, client: socket.socket) -> None:
        received, deadline = self.clients[client]
        try:
            data = client.recv(MAX_HEAD_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(client)
            return
        if not data:
            self._drop(client)
            return
        received += data
        end = head_end(received)
        if end >= 0:
            self._reply(client, answer(received[:end], self.source))
        elif len(received) > MAX_HEAD_BYTES:
            self._reply(client, response(431, "request head too large\n"))
        else:
            self.clients[client] = (received, deadline)

    def _reply(self, client: socket.socket, data: bytes) -> None:
        with contextlib.suppress(OSError):
            client.send(data)
            # Read what else the client sent (a head too large, say), as far as it is there:
            # closing on unread input makes the kernel send RST, which can destroy the answer.
            for _ in range(4):
                if not client.recv(MAX_HEAD_BYTES):
                    break
        self._drop(client)

    def _drop(self, client: socket.socket) -> None:
        self.clients.pop(client, None)
        with contextlib.suppress(OSError):
            # NOTE: shutdown, not just close: a worker forked while this client was connected
            # holds a copy of its descriptor, and the FIN must not wait for that worker's exit.
            client.shutdown(socket.SHUT_WR)
        client.close()
