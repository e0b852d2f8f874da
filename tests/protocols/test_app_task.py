"""The task a request's app runs in: an asyncio task (anyio and sniffio look for it), named
after the server, started eagerly on every Python (an ``EagerTask`` before 3.12), unless the app
set a task factory on the loop, which then makes it (docs/server-behavior.md, "How the app
runs")."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import httpx
import pytest

from fastasgi.protocols.state import ServerState
from tests.support.server import serve
from tests.support.settings import connection_settings
from tests.support.transports import RecordingTransport, http_connection


async def name_of_task(scope: dict[str, Any], receive: Any, send: Any) -> None:
    task = asyncio.current_task()
    body = b"none" if task is None else task.get_name().encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_the_app_runs_in_a_task_named_after_the_server() -> None:
    with serve(name_of_task) as srv:
        assert httpx.get(srv.url).text == "fastasgi-request"


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_a_task_factory_set_on_the_loop_makes_the_request_tasks(http2: bool) -> None:
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

    # http2: h2c with prior knowledge.
    with serve(app, lifespan="on") as srv, httpx.Client(http1=not http2, http2=http2) as client:
        response = client.get(srv.url)
        assert (response.status_code, response.http_version) == (
            200, "HTTP/2" if http2 else "HTTP/1.1")
    assert seen == [True]


request_label: contextvars.ContextVar[str] = contextvars.ContextVar("request_label", default="unset")


async def label_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers the label it found, then sets its own: a later request must find none."""
    found = request_label.get()
    request_label.set(scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": found.encode()})


def test_what_one_request_sets_in_a_context_variable_stays_with_it() -> None:
    with serve(label_app) as srv, httpx.Client() as client:
        # One keep-alive connection: the requests are started by the same protocol object.
        assert [client.get(f"{srv.url}/{n}").text for n in range(3)] == ["unset"] * 3


def test_a_request_that_waits_is_listed_among_the_tasks_meanwhile() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(0.01)
        me = asyncio.current_task()
        listed = me is not None and me in asyncio.all_tasks()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"listed" if listed else b"missing"})

    with serve(app) as srv:
        assert httpx.get(srv.url).text == "listed"


def test_starlette_middleware_task_groups_and_timeouts_run_in_the_request_task() -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    class Tagged(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Response:
            response: Response = await call_next(request)
            response.headers["x-tag"] = "middleware"
            return response

    async def slow(request: Request) -> PlainTextResponse:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(10)
        except TimeoutError:
            return PlainTextResponse("timed out")
        return PlainTextResponse("slept")

    app = Starlette(routes=[Route("/", slow)], middleware=[Middleware(Tagged)])
    with serve(app) as srv, httpx.Client() as client:
        for _ in range(2):
            response = client.get(srv.url)
            assert (response.text, response.headers["x-tag"]) == ("timed out", "middleware")


def http2_request() -> bytes:
    """What an h2c client with prior knowledge sends for ``GET /``: the preface, its SETTINGS
    and one HEADERS frame that ends the stream."""
    import hpack
    from hyperframe.frame import HeadersFrame, SettingsFrame

    from fastasgi._h2frames import PREFACE

    headers = HeadersFrame(1, hpack.Encoder().encode(
        [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "t")]))
    headers.flags.add("END_HEADERS")
    headers.flags.add("END_STREAM")
    return PREFACE + SettingsFrame(0).serialize() + headers.serialize()


@pytest.mark.parametrize("request_bytes", [
    pytest.param(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", id="http1"),
    pytest.param(http2_request(), id="http2"),
])
def test_an_app_that_does_not_wait_has_run_when_its_request_has_been_read(
        request_bytes: bytes) -> None:
    ran: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        ran.append(scope["http_version"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def run() -> list[str]:
        state = ServerState(asyncio.get_running_loop(), app,
                            connection_settings(access_log=False))
        transport = RecordingTransport()
        http_connection(state, transport)
        transport.protocol.data_received(request_bytes)
        seen = list(ran)  # before any other turn of the loop
        transport.protocol.connection_lost(None)
        return seen

    assert asyncio.run(run()) == ["2" if request_bytes.startswith(b"PRI") else "1.1"]
