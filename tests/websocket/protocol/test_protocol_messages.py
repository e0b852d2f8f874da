"""The ASGI websocket protocol end to end, with the `websockets` library as the client: messages
both ways, fragmentation, compression, subprotocols, accept headers and the scope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.support.server import serve
from tests.support.websocket import Recorder, echo

MIB = 1 << 20


def url(running: Any, path: str = "/") -> str:
    return f"ws://127.0.0.1:{running.port}{path}"


def test_text_and_binary_messages_are_echoed() -> None:
    with serve(echo) as running, connect(url(running)) as ws:
        ws.send("hello")
        assert ws.recv() == "hello"
        ws.send(b"\x00\x01\xfe\xff")
        assert ws.recv() == b"\x00\x01\xfe\xff"
        ws.send("")
        assert ws.recv() == ""
        ws.send("héllo wörld ✓ 🎉")
        assert ws.recv() == "héllo wörld ✓ 🎉"


@pytest.mark.parametrize("compression", ["deflate", None])
def test_one_mebibyte_messages_both_ways(compression: str | None) -> None:
    text = "0123456789abcdef" * (MIB // 16)
    data = bytes(range(256)) * (MIB // 256)
    with serve(echo) as running, connect(url(running), compression=compression,
                                         max_size=2 * MIB) as ws:
        ws.send(text)
        assert ws.recv() == text
        ws.send(data)
        assert ws.recv() == data


def test_fragmented_messages_arrive_whole() -> None:
    with serve(echo) as running, connect(url(running), compression=None) as ws:
        ws.send(["frag", "ment", "ed ✓"])
        assert ws.recv() == "fragmented ✓"
        ws.send([b"\x01" * 70000, b"", b"\x02" * 10])
        assert ws.recv() == b"\x01" * 70000 + b"\x02" * 10


def test_compression_is_negotiated_when_offered_and_enabled() -> None:
    with serve(echo) as running, connect(url(running)) as ws:
        assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]
        message = json.dumps({"items": list(range(500))})
        for _ in range(3):  # context takeover: later messages use the earlier ones' window
            ws.send(message)
            assert ws.recv() == message


def test_compression_is_not_negotiated_when_disabled() -> None:
    with serve(echo, ws_per_message_deflate=False) as running, connect(url(running)) as ws:
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        ws.send("plain")
        assert ws.recv() == "plain"


def test_compression_is_not_used_when_the_client_does_not_offer_it() -> None:
    with serve(echo) as running, connect(url(running), compression=None) as ws:
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        ws.send(b"x" * 1000)
        assert ws.recv() == b"x" * 1000


async def choose_second_subprotocol(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][1]})
    await send({"type": "websocket.send", "text": ",".join(scope["subprotocols"])})
    await receive()


def test_subprotocol_chosen_by_the_app_is_confirmed() -> None:
    with serve(choose_second_subprotocol) as running, connect(
        url(running), subprotocols=["chat.v1", "chat.v2"]
    ) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.recv() == "chat.v1,chat.v2"


async def accept_with_headers(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept",
                "headers": [(b"set-cookie", b"session=abc"), (b"x-room", b"lobby")]})
    await receive()


def test_extra_accept_headers_reach_the_client() -> None:
    with serve(accept_with_headers) as running, connect(url(running)) as ws:
        assert ws.response.headers["Set-Cookie"] == "session=abc"
        assert ws.response.headers["X-Room"] == "lobby"
        assert ws.response.headers["Server"] == "fastasgi"


async def accept_with_a_bad_subprotocol(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept", "subprotocol": "never-offered"})


def test_accepting_a_subprotocol_the_client_did_not_offer_is_a_500() -> None:
    from websockets.exceptions import InvalidStatus

    with serve(accept_with_a_bad_subprotocol) as running:
        with pytest.raises(InvalidStatus) as caught:
            connect(url(running), subprotocols=["chat"])
        assert caught.value.response.status_code == 500


def test_scope_describes_the_connection() -> None:
    async def behaviour(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    app = Recorder(behaviour)
    with serve(app, root_path="/api") as running:
        with connect(url(running, "/chat/r%C3%A9union?room=1&x=%20"), subprotocols=["a", "b"],
                     additional_headers={"X-Test": "yes"}) as ws:
            ws.close()
        app.wait_finished()
    scope = app.scope
    assert scope is not None
    assert scope["type"] == "websocket"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/api/chat/réunion"
    assert scope["raw_path"] == b"/api/chat/r%C3%A9union"
    assert scope["query_string"] == b"room=1&x=%20"
    assert scope["root_path"] == "/api"
    assert scope["server"] == ("127.0.0.1", running.port)
    assert scope["client"][0] == "127.0.0.1"
    assert isinstance(scope["client"][1], int)
    assert scope["subprotocols"] == ["a", "b"]
    assert (b"x-test", b"yes") in scope["headers"]
    assert (b"upgrade", b"websocket") in scope["headers"]
    assert scope["state"] == {}
    assert "websocket.http.response" in scope["extensions"]


def test_scope_state_is_a_copy_of_the_lifespan_state() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["greeting"] = "hi"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        scope["state"]["greeting"] = "changed by one connection"
        await send({"type": "websocket.send", "text": scope["state"]["greeting"]})
        await receive()

    with serve(app, lifespan="on") as running:
        for _ in range(2):
            with connect(url(running)) as ws:
                assert ws.recv() == "changed by one connection"
        # Each connection changed its own copy: the lifespan state is what startup left.
        assert running.server.state.lifespan_state == {"greeting": "hi"}


def test_many_messages_in_flight_keep_their_order() -> None:
    with serve(echo) as running, connect(url(running), compression=None) as ws:
        for i in range(500):
            ws.send(f"message {i}")
        assert [ws.recv() for _ in range(500)] == [f"message {i}" for i in range(500)]


def test_wss_over_tls_has_the_wss_scheme_and_echoes(tmp_path: Any) -> None:
    import shutil
    import ssl
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make a test certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-days", "2"],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False

    async def behaviour(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await echo(scope, receive, send)

    app = Recorder(behaviour)
    with serve(app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as running:
        with connect(f"wss://127.0.0.1:{running.port}/", ssl=context) as ws:
            ws.send("secret")
            assert ws.recv() == "secret"
            ws.send(b"\x00" * 300_000)
            assert ws.recv() == b"\x00" * 300_000
        app.wait_finished()
    assert app.scope is not None
    assert app.scope["scheme"] == "wss"


def test_default_headers_go_on_the_101_unless_the_app_set_them() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-region", b"from-app")]})
        await receive()

    settings = {"headers": (("X-Region", "default"), ("X-Env", "prod")), "server_header": False}
    with serve(app, **settings) as running, connect(url(running)) as ws:
        assert ws.response.headers.get_all("X-Region") == ["from-app"]
        assert ws.response.headers["X-Env"] == "prod"
        assert "Server" not in ws.response.headers


def test_client_ping_gets_a_pong_and_server_pings_get_answered() -> None:
    async def behaviour(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await echo(scope, receive, send)

    # The timeout is generous because the client answers from a thread of this process, which
    # a loaded CI machine may not run for a while; the wait outlasts it, so a server ping left
    # unanswered would have closed the connection by the time the client sends.
    with serve(behaviour, ws_ping_interval=0.05, ws_ping_timeout=2.0) as running, connect(
        url(running)
    ) as ws:
        for payload in (b"", b"ping data"):
            assert ws.ping(payload).wait(5)
        # About 60 server pings, each to be answered within 2 s or the server would close:
        # the client answers them on its own and the connection stays usable.
        import time

        time.sleep(3.0)
        ws.send("still open")
        assert ws.recv() == "still open"
