"""Listening sockets from the Binding settings: TCP host/port, a UNIX socket, or an inherited fd.

They are bound in the process that reads the config (the supervisor when there are workers), so
every worker shares them and a port already in use is reported once, before anything starts.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
from typing import TYPE_CHECKING

from fastasgi.errors import ConfigError

if TYPE_CHECKING:
    from fastasgi.config import Config

__all__ = ["bind_sockets", "describe"]

_REASONS = {
    errno.EADDRINUSE: "address already in use",
    errno.EACCES: "permission denied",
    errno.EADDRNOTAVAIL: "no such address on this machine",
}


def bind_sockets(config: Config) -> list[socket.socket]:
    """Listening, non-blocking sockets for ``config``; ConfigError with one readable line if
    they cannot be had."""
    if config.uds:
        return [_bind_unix(config.uds, config.backlog)]
    if config.fd is not None:
        return [_adopt_fd(config.fd, config.backlog)]
    return [_bind_tcp(config.host, config.port, config.backlog)]


def describe(host: str, port: int) -> str:
    """``host:port`` as users write it: IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reason(exc: OSError) -> str:
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def _bind_tcp(host: str, port: int, backlog: int) -> socket.socket:
    where = describe(host, port)
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ConfigError(f"cannot bind {where}: cannot resolve {host!r} ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # on Windows SO_REUSEADDR lets two servers share a port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        hint = " (ports below 1024 need privileges)" if exc.errno == errno.EACCES and port else ""
        raise ConfigError(f"cannot bind {where}: {_reason(exc)}{hint}") from None
    sock.setblocking(False)
    return sock


def _bind_unix(path: str, backlog: int) -> socket.socket:
    if not hasattr(socket, "AF_UNIX"):
        raise ConfigError("--uds: UNIX sockets are not available on this platform")
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        # Group and others may connect: access is meant to be governed by the directory.
        os.chmod(path, 0o666)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot bind unix socket {path}: {_reason(exc)}") from None
    sock.setblocking(False)
    return sock


def _remove_stale_socket(path: str) -> None:
    """Remove a socket file left by a server that is gone; refuse one that is still served,
    and anything that is not a socket."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"cannot bind unix socket {path}: {_reason(exc)}") from None
    if not stat.S_ISSOCK(mode):
        raise ConfigError(f"cannot bind unix socket {path}: the path exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody answers: stale
    else:
        raise ConfigError(f"cannot bind unix socket {path}: another server is listening on it")
    finally:
        probe.close()


def _adopt_fd(fd: int, backlog: int) -> socket.socket:
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise ConfigError(f"--fd {fd}: not an open socket ({_reason(exc)})") from None
    if sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise ConfigError(f"--fd {fd}: not a stream socket")
    try:
        sock.listen(backlog)  # harmless if it already listens (socket activation)
    except OSError as exc:
        sock.detach()
        raise ConfigError(f"--fd {fd}: cannot listen ({_reason(exc)})") from None
    sock.setblocking(False)
    return sock
