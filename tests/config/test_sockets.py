"""Binding listening sockets from the settings, and refusing clearly when that fails."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fastasgi.config import Config, ConfigError
from fastasgi.sockets import bind_sockets


@pytest.fixture
def opened() -> Iterator[list[socket.socket]]:
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


def _bind(opened: list[socket.socket], **settings: object) -> socket.socket:
    [sock] = bind_sockets(Config(app="main:app", **settings))
    opened.append(sock)
    return sock


def _accepts_a_connection(sock: socket.socket, address: object) -> bool:
    client = socket.socket(sock.family, socket.SOCK_STREAM)
    client.settimeout(5)
    try:
        client.connect(address)
        sock.setblocking(True)
        sock.settimeout(5)
        conn, _ = sock.accept()
        conn.close()
        return True
    finally:
        client.close()


def test_tcp_socket_listens_on_any_free_port(opened: list[socket.socket]) -> None:
    sock = _bind(opened, port=0, backlog=16)
    host, port = sock.getsockname()
    assert host == "127.0.0.1" and port > 0
    assert sock.getblocking() is False
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    assert _accepts_a_connection(sock, (host, port))


def test_tcp_socket_on_ipv6_loopback(opened: list[socket.socket]) -> None:
    probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    finally:
        probe.close()
    sock = _bind(opened, host="::1", port=0)
    assert sock.family == socket.AF_INET6
    assert _accepts_a_connection(sock, sock.getsockname()[:2])


def test_port_in_use_is_one_readable_line(opened: list[socket.socket]) -> None:
    taken = socket.socket()
    opened.append(taken)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    with pytest.raises(ConfigError) as caught:
        _bind(opened, port=port)
    assert str(caught.value) == f"cannot bind 127.0.0.1:{port}: address already in use"


def test_unresolvable_host_is_reported(opened: list[socket.socket]) -> None:
    with pytest.raises(ConfigError, match=r"^cannot bind no-such-host\.invalid:8000: cannot "):
        _bind(opened, host="no-such-host.invalid")


def test_address_of_another_machine_is_reported(opened: list[socket.socket]) -> None:
    with pytest.raises(ConfigError, match=r"^cannot bind 192\.0\.2\.1:0: "):
        _bind(opened, host="192.0.2.1", port=0)  # TEST-NET-1, never local


def test_unix_socket_is_bound_and_world_writable(
    tmp_path: Path, opened: list[socket.socket]
) -> None:
    path = str(tmp_path / "app.sock")
    sock = _bind(opened, uds=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
    assert sock.getblocking() is False
    assert _accepts_a_connection(sock, path)


def test_stale_unix_socket_file_is_replaced(tmp_path: Path, opened: list[socket.socket]) -> None:
    path = str(tmp_path / "app.sock")
    old = socket.socket(socket.AF_UNIX)
    old.bind(path)
    old.close()  # the file stays behind, nobody listens
    assert _accepts_a_connection(_bind(opened, uds=path), path)


def test_unix_socket_in_use_is_refused(tmp_path: Path, opened: list[socket.socket]) -> None:
    path = str(tmp_path / "app.sock")
    _bind(opened, uds=path)
    with pytest.raises(ConfigError) as caught:
        _bind(opened, uds=path)
    assert str(caught.value) == f"cannot bind unix socket {path}: another server is listening on it"


def test_regular_file_is_never_removed_for_a_unix_socket(
    tmp_path: Path, opened: list[socket.socket]
) -> None:
    path = tmp_path / "data.txt"
    path.write_text("precious")
    with pytest.raises(ConfigError, match="the path exists and is not a socket"):
        _bind(opened, uds=str(path))
    assert path.read_text() == "precious"


def test_inherited_socket_is_adopted(opened: list[socket.socket]) -> None:
    parent = socket.socket()
    parent.bind(("127.0.0.1", 0))
    address = parent.getsockname()
    fd = parent.detach()
    sock = _bind(opened, fd=fd)
    assert sock.fileno() == fd and sock.getblocking() is False
    assert _accepts_a_connection(sock, address)


def test_fd_that_is_not_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain"
    path.write_text("")
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(ConfigError, match=f"^--fd {fd}: not an open socket"):
            bind_sockets(Config(app="main:app", fd=fd))
        os.fstat(fd)  # still ours, not closed behind our back
    finally:
        os.close(fd)
