"""A server's memory at rest: the RSS of its worker once started, and what each idle keep-alive
connection adds to it.

The connections each make one ``GET /`` (so the server has set up everything a served
connection keeps) and are then held open without a byte more; the RSS of all the server's
processes is read before and with them, and the difference divided by their number. Servers
close idle connections after a keep-alive timeout (uvicorn's default is 5 s): the connections are
opened and served as fast as one client can, and how many were still open when the RSS was read
is reported beside the figure.
"""

import socket
import time
from dataclasses import dataclass

from bench.e2e.abuse_clients import raise_fd_limit
from bench.e2e.abuse_measure import _read_response, rss, worker_pid
from bench.e2e.cpu_usage import server_processes
from bench.e2e.servers import HOST, ServerProcess

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
MIB = 1 << 20
# Time for the server to settle after starting and after the last connection was served.
SETTLE = 1.0


@dataclass
class MemoryResult:
    worker_rss: int  # bytes, the largest of the server's processes, idle after startup
    total_rss: int  # bytes, all of its processes
    connections: int
    still_open: int
    added_rss: int  # bytes, all processes, with the connections held minus before

    @property
    def per_connection(self) -> float:
        return self.added_rss / self.connections if self.connections else 0.0

    def text(self) -> str:
        return (f"worker RSS {self.worker_rss / MIB:.1f} MiB (all processes "
                f"{self.total_rss / MIB:.1f} MiB), {self.per_connection:,.0f} B per idle "
                f"connection ({self.still_open}/{self.connections} still open)")


def total_rss(server: ServerProcess) -> int:
    total = 0
    for pid in server_processes({server.process.pid}):
        try:
            total += rss(pid)
        except (OSError, RuntimeError):
            pass  # exited meanwhile
    return total


def measure(server: ServerProcess, connections: int) -> MemoryResult:
    """``server`` must be ready and have served nothing else since it started."""
    if connections + 64 > raise_fd_limit():
        raise ValueError(f"{connections} connections need a higher limit of open files")
    time.sleep(SETTLE)
    worker = rss(worker_pid(server))
    before = total_rss(server)
    socks: list[socket.socket] = []
    try:
        for _ in range(connections):
            sock = socket.create_connection((HOST, server.port), timeout=10)
            socks.append(sock)
            sock.sendall(REQUEST)
            _read_response(sock, bytearray())
        time.sleep(SETTLE)
        after = total_rss(server)
        return MemoryResult(worker, before, connections, _open_count(socks), after - before)
    finally:
        for sock in socks:
            sock.close()


def _open_count(socks: list[socket.socket]) -> int:
    """How many of ``socks`` the server has not closed (a closed one reads EOF at once)."""
    still_open = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            still_open += sock.recv(1) != b""
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
    return still_open
