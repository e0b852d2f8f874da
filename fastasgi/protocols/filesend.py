"""The body of an ``http.response.pathsend`` response: a file sent as it is on disk.

On a plain socket the kernel copies the file to the socket (``os.sendfile``, zero-copy); under
TLS, or where sendfile is missing, the file is read in bounded pieces off the event loop and
written as the socket drains. Either way at most one piece of the file is in memory, and a
client that reads nothing is cut after the write-stall bound.

Each piece, or each sendfile call (which asks for at most a piece), is a large write that the
server's per-turn budget (write_budget.pyx) admits or holds for a later turn, so that many files
going out at once let the loop poll between turns. A piece is no larger than a turn's budget,
and each is timed, as every large write is, for the budget to follow the kernel's pace.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import IO, TYPE_CHECKING

from fastasgi.errors import ClientDisconnected
from fastasgi.protocols.connection import WRITE_STALL_TICKS
from fastasgi.protocols.write_budget import LARGE_WRITE

if TYPE_CHECKING:
    from fastasgi.protocols.connection import Connection

# Bytes read per piece where the file cannot go out zero-copy: large enough that the thread
# hop per read is small beside the copy, small enough to stay a bounded buffer. Also what one
# sendfile call asks for: a quarter of the largest write budget, so that the budget a socket
# with little room leaves unused (given back) lets other files go out in the same turn.
PIECE = 256 * 1024
# A socket that takes nothing for this long belongs to a client that is gone (the same bound
# as for a response written through the transport).
STALL_SECONDS = float(WRITE_STALL_TICKS)


def open_file(path: object) -> tuple[IO[bytes], int]:
    """The file named by a pathsend message, opened, and its size. A path that is not an
    absolute str, or a file that cannot be opened, raises (the app's error)."""
    if not isinstance(path, str):
        raise TypeError(f"ASGI send: 'path' must be a str, not {type(path).__name__}")
    if not os.path.isabs(path):
        raise ValueError(f"ASGI send: 'path' must be absolute, not {path!r}")
    file = open(path, "rb")  # noqa: SIM115 -- closed by the caller once the body is out
    try:
        return file, os.fstat(file.fileno()).st_size
    except BaseException:
        file.close()
        raise


async def send_file(connection: Connection, file: IO[bytes], size: int) -> None:
    """Write ``size`` bytes of ``file`` (from its start) after what the transport holds."""
    transport = connection.transport
    sock = transport.get_extra_info("socket")
    if (connection.ssl_object is None and sock is not None and hasattr(os, "sendfile")
            and transport.get_write_buffer_size() == 0):
        # Nothing of ours is queued in the transport (the head went straight to the socket),
        # so the kernel may write the file next, in order.
        await _send_zero_copy(connection, sock.fileno(), file, size)
    else:
        await _send_pieces(connection, file, size)


async def _send_zero_copy(connection: Connection, socket_fd: int, file: IO[bytes],
                          size: int) -> None:
    loop = connection.loop
    # NOTE: a second descriptor for the same socket: the event loop refuses to watch the one
    # its transport owns, and the transport writes nothing while the file goes out.
    fd = os.dup(socket_fd)
    budget = connection.state.large_writes
    sent = 0
    try:
        while sent < size:
            if connection.closed:
                raise ClientDisconnected("the client disconnected")
            count = min(PIECE, budget.turn_bytes, size - sent)
            await _admitted(connection, count)
            started = time.monotonic_ns()
            try:
                n = os.sendfile(fd, file.fileno(), sent, count)
            except BlockingIOError:
                if count >= LARGE_WRITE:
                    budget.give_back(count)
                await _writable(loop, fd, connection)
                continue
            except (BrokenPipeError, ConnectionResetError):
                connection.transport.abort()
                raise ClientDisconnected("the client disconnected") from None
            if n == 0:
                # The file shrank under us: the promised length cannot be kept.
                connection.transport.abort()
                raise OSError(f"the file ended after {sent} of its {size} bytes")
            if count >= LARGE_WRITE:
                budget.measured(n, time.monotonic_ns() - started)
                if n < count:
                    budget.give_back(count - n)  # the socket had less room
            sent += n
            _count_sent(connection, n)
    finally:
        os.close(fd)


async def _admitted(connection: Connection, size: int) -> None:
    """Return in the turn the server's budget admits a write of ``size`` bytes, at once for
    one below LARGE_WRITE. A client that left while it waited: ClientDisconnected."""
    budget = connection.state.large_writes
    if size >= LARGE_WRITE and not budget.admit(size):
        await budget.wait(size)
        if connection.closed:
            raise ClientDisconnected("the client disconnected")


def _count_sent(connection: Connection, n: int) -> None:
    """Bytes that bypassed the connection's own writes count in --metrics-port all the same."""
    metrics = connection.state.metrics
    if metrics is not None:
        metrics.sent_bytes += n


async def _writable(loop: asyncio.AbstractEventLoop, fd: int, connection: Connection) -> None:
    ready = loop.create_future()

    def wake() -> None:
        # The socket may be reported writable again before this task has run to stop watching.
        if not ready.done():
            ready.set_result(None)
    loop.add_writer(fd, wake)
    try:
        await asyncio.wait_for(ready, STALL_SECONDS)
    except asyncio.TimeoutError:
        connection.transport.abort()
        raise ClientDisconnected("the client read nothing; cut") from None
    finally:
        loop.remove_writer(fd)


async def _send_pieces(connection: Connection, file: IO[bytes], size: int) -> None:
    loop = connection.loop
    budget = connection.state.large_writes
    left = size
    while left > 0:
        piece = await loop.run_in_executor(None, file.read, min(PIECE, budget.turn_bytes, left))
        if not piece:
            connection.transport.abort()
            raise OSError(f"the file ended after {size - left} of its {size} bytes")
        if connection.closed:
            raise ClientDisconnected("the client disconnected")
        await _admitted(connection, len(piece))
        if len(piece) >= LARGE_WRITE:
            budget.write_measured(connection.transport, (piece,), len(piece))
        else:
            connection.transport.write(piece)
        _count_sent(connection, len(piece))
        left -= len(piece)
        if connection.writing_paused:
            await connection.drain()


async def read_pieces(loop: asyncio.AbstractEventLoop, file: IO[bytes],
                      size: int) -> AsyncIterator[bytes]:
    """The file's bytes in pieces of at most PIECE, read off the event loop (for HTTP/2, whose
    DATA frames carry them within the flow-control windows)."""
    left = size
    while left > 0:
        piece = await loop.run_in_executor(None, file.read, min(PIECE, left))
        if not piece:
            raise OSError(f"the file ended after {size - left} of its {size} bytes")
        left -= len(piece)
        yield piece
