"""How a WebSocket ends: close codes and reasons both ways, what the app sees after a disconnect,
refusals before accept (403, the denial-response extension), app failures and graceful stop."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from fastasgi.protocols.websocket import CLOSE_TIMEOUT
from tests.support.server import serve
from tests.support.websocket import RawClient, Recorder, echo


def url(running: Any, path: str = "/") -> str:
    return f"ws://127.0.0.1:{running.port}{path}"


async def accept_then_read_until_disconnect(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass
    # receive() after the disconnect keeps answering with it.
    await receive()


def test_client_close_code_and_reason_reach_the_app() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app) as running, connect(url(running)) as ws:
        ws.send("last words")
        ws.close(code=4001, reason="bye ✓")
        app.wait_finished()
        assert ws.close_code == 4001  # the server echoed the code
    assert app.received[1] == {"type": "websocket.receive", "text": "last words"}
    disconnect = {"type": "websocket.disconnect", "code": 4001, "reason": "bye ✓"}
    assert app.received[2:] == [disconnect, disconnect]


def test_client_close_without_a_code_is_1005_for_the_app() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app) as running:
        client = RawClient.open(running.port)
        client.send_frame(0x8, b"")
        assert client.recv_frame().payload == b""  # an empty close is answered with one
        assert client.at_eof()
        app.wait_finished()
    assert app.received[2] == {"type": "websocket.disconnect", "code": 1005, "reason": ""}


def test_client_vanishing_is_1006_for_the_app() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app) as running:
        client = RawClient.open(running.port)
        client.close()
        app.wait_finished()
    assert app.received[1] == {"type": "websocket.disconnect", "code": 1006, "reason": ""}


async def close_with_code(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "before close"})
    await send({"type": "websocket.close", "code": 4321, "reason": "app says goodbye"})
    # Until the client answers, its messages still arrive; then the disconnect.
    while (await receive())["type"] != "websocket.disconnect":
        pass


def test_app_close_code_and_reason_reach_the_client() -> None:
    app = Recorder(close_with_code)
    with serve(app) as running, connect(url(running)) as ws:
        assert ws.recv() == "before close"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4321, "app says goodbye")
        app.wait_finished()
    # The disconnect carries the client's close frame: websockets echoes code and reason.
    assert app.received[-1] == {"type": "websocket.disconnect", "code": 4321,
                                "reason": "app says goodbye"}


def test_app_close_without_code_is_1000() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close"})

    with serve(app) as running, connect(url(running)) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv()
        assert ws.close_code == 1000


def test_sending_after_close_raises_an_oserror_and_closing_again_is_harmless() -> None:
    async def behaviour(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        await send({"type": "websocket.close", "code": 1000})
        await send({"type": "websocket.send", "text": "too late"})

    app = Recorder(behaviour)
    with serve(app) as running, connect(url(running)) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv()
        app.wait_finished()
    assert isinstance(app.error, OSError)


def test_sending_after_the_client_left_raises_an_oserror() -> None:
    left = threading.Event()

    async def behaviour(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        assert (await receive())["type"] == "websocket.disconnect"
        left.set()
        await send({"type": "websocket.send", "text": "anyone there?"})

    app = Recorder(behaviour)
    with serve(app) as running:
        with connect(url(running)):
            pass
        app.wait_finished()
    assert left.is_set()
    assert isinstance(app.error, OSError)


def test_app_returning_without_closing_closes_with_1000() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "done"})

    with serve(app) as running, connect(url(running)) as ws:
        assert ws.recv() == "done"
        with pytest.raises(ConnectionClosed):
            ws.recv()
        assert ws.close_code == 1000


def test_app_exception_after_accept_closes_with_1011() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise RuntimeError("boom")

    with serve(app) as running, connect(url(running)) as ws:
        ws.send("trigger")
        with pytest.raises(ConnectionClosed):
            ws.recv()
        assert ws.close_code == 1011


def test_app_exception_before_accept_is_a_500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with serve(app) as running, pytest.raises(InvalidStatus) as caught:
        connect(url(running))
    assert caught.value.response.status_code == 500


def test_app_returning_without_answering_the_handshake_is_a_500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    with serve(app) as running, pytest.raises(InvalidStatus) as caught:
        connect(url(running))
    assert caught.value.response.status_code == 500


def test_close_before_accept_is_a_403() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 1008})

    with serve(app) as running:
        client, status, headers = RawClient.connect(running.port)
        assert status == 403
        assert headers[b"connection"] == b"close"
        assert client.read_to_eof() == b"Forbidden\n"


async def deny_with_body(scope: Any, receive: Any, send: Any) -> None:
    assert "websocket.http.response" in scope["extensions"]
    await receive()
    await send({"type": "websocket.http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer")]})
    await send({"type": "websocket.http.response.body", "body": b'{"error": ',
                "more_body": True})
    await send({"type": "websocket.http.response.body", "body": b'"no token"}'})


def test_denial_response_reaches_the_client_with_status_headers_and_body() -> None:
    with serve(deny_with_body) as running, pytest.raises(InvalidStatus) as caught:
        connect(url(running))
    response = caught.value.response
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.body == b'{"error": "no token"}'


def test_denial_response_on_a_raw_socket_is_complete_and_then_closed() -> None:
    with serve(deny_with_body) as running:
        client, status, headers = RawClient.connect(running.port)
        assert status == 401
        assert headers[b"transfer-encoding"] == b"chunked"
        assert headers[b"connection"] == b"close"
        assert client.read_to_eof() == b'a\r\n{"error": \r\nb\r\n"no token"}\r\n0\r\n\r\n'


def test_denial_then_a_websocket_message_is_an_error_for_the_app() -> None:
    async def behaviour(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
        await send({"type": "websocket.send", "text": "no"})

    app = Recorder(behaviour)
    with serve(app) as running:
        with pytest.raises(InvalidStatus) as caught:
            connect(url(running))
        app.wait_finished()
    # Nothing of the denial was on the wire yet, so the failure is still a clean 500.
    assert caught.value.response.status_code == 500
    assert isinstance(app.error, RuntimeError)


def test_graceful_shutdown_sends_1001_and_does_not_wait_for_the_timeout() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    # The serve() block ends by stopping the server and fails if that takes over 15 s: the
    # connection must leave long before the 60 s graceful-shutdown limit.
    with serve(app, timeout_graceful_shutdown=60) as running, connect(url(running)) as ws:
        ws.send("hello")
        running.server.should_exit = True
        with pytest.raises(ConnectionClosed):
            ws.recv()
        assert (ws.close_code, ws.close_reason) == (1001, "server shutting down")
        app.wait_finished()
    assert app.received[-2]["code"] == 1001
    assert not running.server.state.connections


def test_graceful_shutdown_with_an_unresponsive_client_ends_after_the_close_timeout() -> None:
    app = Recorder(accept_then_read_until_disconnect)
    with serve(app, timeout_graceful_shutdown=60) as running:
        client = RawClient.open(running.port)
        client.sock.settimeout(CLOSE_TIMEOUT + 10)
        running.server.should_exit = True
        assert client.recv_close() == (1001, b"server shutting down")
        # The client never answers: the server drops it after its close timeout.
        assert client.at_eof()
        app.wait_finished()
    assert app.received[-1]["code"] == 1006


def test_echo_app_serves_many_short_connections_in_a_row() -> None:
    with serve(echo) as running:
        for i in range(50):
            with connect(url(running), compression=None) as ws:
                ws.send(str(i))
                assert ws.recv() == str(i)


def test_shutdown_before_accept_answers_503_and_a_late_accept_raises_oserror() -> None:
    import asyncio

    from tests.support.websocket import upgrade_request, websocket_connection

    release = threading.Event()

    async def slow_to_accept(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        while not release.is_set():
            await asyncio.sleep(0.01)
        await send({"type": "websocket.accept"})

    app = Recorder(slow_to_accept)
    with serve(app) as running, RawClient.connect_raw(running.port) as client:
        try:
            client.send(upgrade_request())
            websocket_connection(running)  # the upgrade reached the app
            running.server.should_exit = True
            status, headers = client.read_head()
            assert status == 503
            assert headers[b"connection"] == b"close"
        finally:
            release.set()
        app.wait_finished()
    assert isinstance(app.error, OSError)


def test_sigterm_to_the_cli_closes_open_websockets_with_1001_and_exits() -> None:
    import signal

    from tests.support.server import serve_cli

    with serve_cli("tests.support.websocket:echo", "--port", "0",
                   "--ws-max-size", "1000") as running:
        assert running.process is not None
        with connect(url(running), compression=None) as ws:
            ws.send("x" * 1000)
            assert ws.recv() == "x" * 1000
            running.process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed):
                ws.recv()
            assert ws.close_code == 1001
        assert running.process.wait(15) == 0
