"""The task a request's app runs in: an asyncio task (anyio and sniffio look for it), named
after the server, started eagerly for an HTTP/1.1 request on every Python (an ``EagerTask`` before
3.12), and made by the loop's task factory otherwise (docs/server-behavior.md, "How the app
runs")."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.server import serve


async def name_of_task(scope: dict[str, Any], receive: Any, send: Any) -> None:
    task = asyncio.current_task()
    body = b"none" if task is None else task.get_name().encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_the_app_runs_in_a_task_named_after_the_server() -> None:
    with serve(name_of_task) as srv:
        assert httpx.get(srv.url).text == "fastasgi-request"


def test_an_http1_request_task_starts_eagerly_whatever_task_factory_the_loop_has() -> None:
    made: list[asyncio.Task[Any]] = []
    seen: list[bool] = []  # per request: its task came from the factory

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kwargs)
        made.append(task)
        return task

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            asyncio.get_running_loop().set_task_factory(factory)  # type: ignore[arg-type]
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(asyncio.current_task() in made)
        await name_of_task(scope, receive, send)

    with serve(app, lifespan="on") as srv:
        assert httpx.get(srv.url).status_code == 200
    # An HTTP/1.1 request's task starts eagerly, which a factory cannot do.
    assert seen == [False]
