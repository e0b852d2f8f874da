"""The ASGI lifespan protocol runner: startup, shutdown, failures, modes and timeouts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from fastasgi.lifespan import Lifespan

LOGGER = "fastasgi.error"


def run(coro: Any, timeout: float = 10.0) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def messages(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


class RecordingApp:
    """A lifespan app that records what it saw, in order."""

    def __init__(self, startup: str = "complete", shutdown: str = "complete",
                 reason: str = "") -> None:
        self.startup_answer = startup
        self.shutdown_answer = shutdown
        self.reason = reason
        self.events: list[str] = []
        self.scope: dict[str, Any] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        message = await receive()
        self.events.append(message["type"])
        scope["state"]["pool"] = "connected"
        reply: dict[str, Any] = {"type": f"lifespan.startup.{self.startup_answer}"}
        if self.reason:
            reply["message"] = self.reason
        await send(reply)
        if self.startup_answer != "complete":
            return
        message = await receive()
        self.events.append(message["type"])
        scope["state"]["pool"] = "closed"
        reply = {"type": f"lifespan.shutdown.{self.shutdown_answer}"}
        if self.reason:
            reply["message"] = self.reason
        await send(reply)
        self.events.append("returned")


def test_startup_then_shutdown_in_order_with_state_shared() -> None:
    app = RecordingApp()

    async def scenario() -> tuple[bool, dict[str, Any], list[str], bool]:
        lifespan = Lifespan(app, "on", timeout_startup=2, timeout_shutdown=2)
        started = await lifespan.startup()
        state_while_serving = dict(lifespan.state)
        events_while_serving = list(app.events)
        clean = await lifespan.shutdown()
        return started, state_while_serving, events_while_serving, clean

    started, state, events_while_serving, clean = run(scenario())
    assert started is True and clean is True
    assert state == {"pool": "connected"}
    assert events_while_serving == ["lifespan.startup"]
    assert app.events == ["lifespan.startup", "lifespan.shutdown", "returned"]


def test_scope_has_type_versions_and_the_state_dict() -> None:
    app = RecordingApp()

    async def scenario() -> Lifespan:
        lifespan = Lifespan(app, "auto", timeout_startup=2, timeout_shutdown=2)
        await lifespan.startup()
        await lifespan.shutdown()
        return lifespan

    lifespan = run(scenario())
    assert app.scope["type"] == "lifespan"
    assert app.scope["asgi"] == {"version": "3.0", "spec_version": "2.0"}
    assert app.scope["state"] is lifespan.state


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_startup_failed_returns_false_and_logs_the_message(
        mode: str, caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp(startup="failed", reason="database unreachable")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        started = run(Lifespan(app, mode, 2, 2).startup())
    assert started is False
    logged = messages(caplog)
    assert (logging.ERROR, "database unreachable") in logged
    assert (logging.ERROR, "Application startup failed. Exiting.") in logged


def test_exception_during_startup_in_mode_on_returns_false_and_logs_it(
        caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        raise ConnectionRefusedError("cache is down")

    with caplog.at_level(logging.INFO, logger=LOGGER):
        started = run(Lifespan(app, "on", 2, 2).startup())
    assert started is False
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors[0].getMessage() == "Exception in 'lifespan' protocol"
    assert isinstance(errors[0].exc_info[1], ConnectionRefusedError)


def test_auto_mode_tolerates_an_app_that_rejects_the_lifespan_scope(
        caplog: pytest.LogCaptureFixture) -> None:
    async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"

    async def scenario() -> tuple[bool, bool, dict[str, Any]]:
        lifespan = Lifespan(http_only, "auto", 2, 2)
        started = await lifespan.startup()
        return started, await lifespan.shutdown(), lifespan.state

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        started, clean, state = run(scenario())
    assert started is True and clean is True
    assert state == {}
    assert (logging.INFO, "ASGI 'lifespan' protocol appears unsupported.") in messages(caplog)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_auto_mode_tolerates_an_app_that_returns_without_answering() -> None:
    async def ignores_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    assert run(Lifespan(ignores_lifespan, "auto", 2, 2).startup()) is True


def test_on_mode_refuses_an_app_that_rejects_the_lifespan_scope() -> None:
    async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"

    assert run(Lifespan(http_only, "on", 2, 2).startup()) is False


def test_off_mode_never_calls_the_app() -> None:
    called = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        called.append(scope)

    async def scenario() -> tuple[bool, bool]:
        lifespan = Lifespan(app, "off", 2, 2)
        return await lifespan.startup(), await lifespan.shutdown()

    assert run(scenario()) == (True, True)
    assert called == []


def test_startup_timeout_returns_false_and_cancels_the_app(
        caplog: pytest.LogCaptureFixture) -> None:
    cancelled = []

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with caplog.at_level(logging.INFO, logger=LOGGER):
        started = run(Lifespan(slow, "auto", timeout_startup=0.1, timeout_shutdown=1).startup())
    assert started is False
    assert cancelled == [True]
    assert (logging.ERROR,
            "Application startup did not complete within 0.1 seconds. Exiting.") in messages(caplog)


def test_shutdown_timeout_is_logged_and_the_app_cancelled(
        caplog: pytest.LogCaptureFixture) -> None:
    cancelled = []

    async def slow_shutdown(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> tuple[bool, bool]:
        lifespan = Lifespan(slow_shutdown, "on", timeout_startup=1, timeout_shutdown=0.1)
        return await lifespan.startup(), await lifespan.shutdown()

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert run(scenario()) == (True, False)
    assert cancelled == [True]
    assert (logging.ERROR,
            "Application shutdown did not complete within 0.1 seconds.") in messages(caplog)


def test_shutdown_failed_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = RecordingApp(shutdown="failed", reason="could not flush")

    async def scenario() -> tuple[bool, bool]:
        lifespan = Lifespan(app, "on", 2, 2)
        return await lifespan.startup(), await lifespan.shutdown()

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert run(scenario()) == (True, False)
    logged = messages(caplog)
    assert (logging.ERROR, "could not flush") in logged
    assert (logging.ERROR, "Application shutdown failed.") in logged


def test_exception_during_shutdown_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise RuntimeError("teardown broke")

    async def scenario() -> tuple[bool, bool]:
        lifespan = Lifespan(app, "auto", 2, 2)
        return await lifespan.startup(), await lifespan.shutdown()

    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert run(scenario()) == (True, False)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert isinstance(errors[0].exc_info[1], RuntimeError)


def test_message_out_of_order_is_a_protocol_error_even_in_auto_mode() -> None:
    async def confused(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    assert run(Lifespan(confused, "auto", 2, 2).startup()) is False


def test_app_may_return_after_startup_and_shutdown_is_then_clean() -> None:
    async def startup_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})

    async def scenario() -> tuple[bool, bool]:
        lifespan = Lifespan(startup_only, "on", 2, 2)
        started = await lifespan.startup()
        await asyncio.sleep(0)
        return started, await lifespan.shutdown()

    assert run(scenario()) == (True, True)


def test_shutdown_waits_for_the_app_to_finish_its_cleanup() -> None:
    finished = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        await asyncio.sleep(0.05)   # closing pools after answering
        finished.append(True)

    async def scenario() -> None:
        lifespan = Lifespan(app, "on", 2, 2)
        await lifespan.startup()
        await lifespan.shutdown()

    run(scenario())
    assert finished == [True]


@pytest.mark.parametrize("kwargs", [
    {"mode": "sometimes"}, {"timeout_startup": 0}, {"timeout_shutdown": -1},
])
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None: ...
    with pytest.raises(ValueError):
        Lifespan(app, **kwargs)


def test_cleanup_after_answering_shutdown_is_bounded_by_the_timeout() -> None:
    cancelled = []

    async def lingering(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> bool:
        lifespan = Lifespan(lingering, "on", timeout_startup=1, timeout_shutdown=0.2)
        await lifespan.startup()
        return await lifespan.shutdown()

    assert run(scenario(), timeout=5) is True
    assert cancelled == [True]


def test_django_asgi_app_is_served_without_lifespan_in_auto_mode() -> None:
    from tests.support.frameworks import django_asgi_app

    assert run(Lifespan(django_asgi_app(), "auto", 2, 2).startup()) is True
