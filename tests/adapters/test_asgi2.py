"""ASGI 2 ("double callable") apps served as ASGI 3."""

from __future__ import annotations

from typing import Any, ClassVar

from fastasgi.adapters import ASGI2Adapter
from tests.adapters.driver import Client, call, http_scope, run


class EchoInstance:
    """An ASGI 2 app: constructed with the scope, then awaited with receive and send."""

    instances: ClassVar[list[EchoInstance]] = []

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope
        EchoInstance.instances.append(self)

    async def __call__(self, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body",
                    "body": self.scope["path"].encode() + b" " + body})


def test_asgi2_app_gets_the_scope_first_then_receive_and_send() -> None:
    EchoInstance.instances.clear()
    scope = http_scope("/v2", method="POST")
    client = run(call(ASGI2Adapter(EchoInstance), scope, Client(body=[b"ab", b"cd"])))
    assert client.status == 200
    assert client.response_body == b"/v2 abcd"
    assert len(EchoInstance.instances) == 1
    assert EchoInstance.instances[0].scope is scope


def test_asgi2_closure_style_app() -> None:
    def app(scope: dict[str, Any]) -> Any:
        async def instance(receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        return instance

    assert run(call(ASGI2Adapter(app), http_scope("/"))).status == 204


def test_asgi2_adapter_runs_lifespan_too() -> None:
    from fastasgi.lifespan import Lifespan

    events: list[str] = []

    def app(scope: dict[str, Any]) -> Any:
        async def instance(receive: Any, send: Any) -> None:
            for answer in ("lifespan.startup.complete", "lifespan.shutdown.complete"):
                events.append((await receive())["type"])
                await send({"type": answer})
        return instance

    async def scenario() -> tuple[bool, bool]:
        lifespan = Lifespan(ASGI2Adapter(app), "on", 2, 2)
        return await lifespan.startup(), await lifespan.shutdown()

    assert run(scenario()) == (True, True)
    assert events == ["lifespan.startup", "lifespan.shutdown"]
