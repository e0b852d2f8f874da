"""EagerTask (protocols/eager_task.pyx), the task an HTTP/1.1 request's app runs in on Python
3.11: started from a loop callback, as data_received starts it, it must behave as an asyncio
task to the coroutine, to asyncio's own tools and to anyio."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import pytest
import uvloop

from fastasgi.protocols.eager_task import EagerTask, start_eager

T = TypeVar("T")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


@pytest.fixture(params=["uvloop", "asyncio"])
def loop(request: pytest.FixtureRequest) -> Generator[asyncio.AbstractEventLoop, None, None]:
    loop = uvloop.new_event_loop() if request.param == "uvloop" else asyncio.new_event_loop()
    yield loop
    loop.close()


def in_callback(loop: asyncio.AbstractEventLoop, fn: Callable[[], T]) -> T:
    """fn's result, called from a callback of the running loop (as a protocol's data_received
    is: no task is current)."""
    outcome: asyncio.Future[T] = loop.create_future()
    loop.call_soon(lambda: outcome.set_result(fn()))
    return loop.run_until_complete(outcome)


def start(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> EagerTask:
    return in_callback(loop, lambda: start_eager(coro, loop, "fastasgi-request"))


def finish(loop: asyncio.AbstractEventLoop, task: EagerTask, timeout: float = 5) -> None:
    async def until_done() -> None:
        async with asyncio.timeout(timeout):
            while not task.done():
                await asyncio.sleep(0)

    loop.run_until_complete(until_done())


def test_a_coroutine_that_does_not_wait_is_done_when_started(
        loop: asyncio.AbstractEventLoop) -> None:
    seen: list[object] = []

    async def app() -> str:
        seen.append(asyncio.current_task())
        return "answer"

    task = start(loop, app())
    assert task.done() and not task.cancelled()
    assert task.result() == "answer" and task.exception() is None
    assert seen == [task]
    assert task.get_name() == "fastasgi-request"
    assert in_callback(loop, asyncio.current_task) is None  # put back after the step


def test_a_task_that_waits_is_resumed_as_the_current_task_and_listed_meanwhile(
        loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[int] = loop.create_future()
    seen: list[object] = []

    async def app() -> int:
        seen.append(asyncio.current_task())
        value = await gate
        seen.append(asyncio.current_task())
        return value * 2

    task = start(loop, app())
    assert not task.done()
    assert task._fut_waiter is gate
    assert task in asyncio.all_tasks(loop)
    assert "pending" in repr(task)
    loop.call_soon(gate.set_result, 21)
    finish(loop, task)
    assert task.result() == 42
    assert seen == [task, task]
    assert task not in asyncio.all_tasks(loop)


def test_started_inside_another_task_the_other_is_current_again_afterwards(
        loop: asyncio.AbstractEventLoop) -> None:
    async def inner() -> object:
        return asyncio.current_task()

    async def outer() -> tuple[object, object, object]:
        me = asyncio.current_task()
        task = start_eager(inner(), loop, "inner")
        return me, task.result(), asyncio.current_task()

    me, inner_saw, after = loop.run_until_complete(outer())
    assert inner_saw is not me and isinstance(inner_saw, EagerTask)
    assert after is me


def test_each_task_has_its_own_context_from_the_one_it_was_started_in(
        loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[None] = loop.create_future()

    async def app(name: str) -> list[str]:
        seen = [request_id.get()]
        request_id.set(name)
        await gate
        seen.append(request_id.get())
        return seen

    first = start(loop, app("first"))
    second = start(loop, app("second"))
    assert in_callback(loop, request_id.get) == "none"  # the caller's context is untouched
    loop.call_soon(gate.set_result, None)
    finish(loop, first)
    finish(loop, second)
    assert first.result() == ["none", "first"]
    assert second.result() == ["none", "second"]
    assert first.get_context() is not second.get_context()


def test_cancelling_a_waiting_task_throws_cancelled_error_into_its_coroutine(
        loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[None] = loop.create_future()
    cleaned: list[bool] = []

    async def app() -> None:
        try:
            await gate
        finally:
            cleaned.append(True)

    task = start(loop, app())
    assert in_callback(loop, lambda: task.cancel("client left"))
    assert task.cancelling() == 1
    assert gate.cancelled()
    finish(loop, task)
    assert task.cancelled() and cleaned == [True]
    with pytest.raises(asyncio.CancelledError):
        task.result()
    assert not task.cancel()  # done: nothing more to cancel


def test_a_cancel_during_the_step_cancels_the_next_future_awaited(
        loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[None] = loop.create_future()

    async def app() -> None:
        me = asyncio.current_task()
        assert me is not None
        me.cancel()
        assert me._must_cancel  # type: ignore[attr-defined]
        await gate

    task = start(loop, app())
    assert gate.cancelled() and not task._must_cancel
    finish(loop, task)
    assert task.cancelled()


def test_a_coroutine_may_catch_its_cancellation_and_return(loop: asyncio.AbstractEventLoop) -> None:
    async def app() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            assert me is not None
            return f"uncancelled to {me.uncancel()}"
        return "slept"

    task = start(loop, app())
    in_callback(loop, task.cancel)
    finish(loop, task)
    assert not task.cancelled()
    assert task.result() == "uncancelled to 0"


def test_asyncio_timeout_and_task_groups_work_inside(loop: asyncio.AbstractEventLoop) -> None:
    async def child(n: int) -> int:
        await asyncio.sleep(0)
        return n

    async def app() -> tuple[str, list[int]]:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(10)
            timed = "slept"
        except TimeoutError:
            timed = "timed out"
        async with asyncio.TaskGroup() as group:
            children = [group.create_task(child(n)) for n in range(3)]
        return timed, [c.result() for c in children]

    task = start(loop, app())
    finish(loop, task)
    assert task.result() == ("timed out", [0, 1, 2])
    assert task.cancelling() == 0


def test_anyio_cancel_scopes_task_groups_and_threads_work_inside(
        loop: asyncio.AbstractEventLoop) -> None:
    async def app() -> tuple[bool, list[int], str]:
        with anyio.move_on_after(0.01) as scope:
            await anyio.sleep(10)
        results: list[int] = []

        async def child(n: int) -> None:
            await anyio.lowlevel.checkpoint()
            results.append(n)

        async with anyio.create_task_group() as group:
            for n in range(3):
                group.start_soon(child, n)
        thread = await anyio.to_thread.run_sync(lambda: threading.current_thread().name)
        return scope.cancelled_caught, sorted(results), thread

    task = start(loop, app())
    finish(loop, task)
    caught, results, thread = task.result()
    assert caught and results == [0, 1, 2]
    assert thread != threading.current_thread().name


def test_anyio_cancels_the_task_from_a_scope_it_entered_before_waiting(
        loop: asyncio.AbstractEventLoop) -> None:
    async def app() -> str:
        with anyio.CancelScope() as scope:
            asyncio.get_running_loop().call_later(0.01, scope.cancel)
            await anyio.sleep(10)
            return "slept"
        return "cancelled by its scope"

    task = start(loop, app())
    finish(loop, task)
    assert task.result() == "cancelled by its scope"


def test_other_tasks_may_await_it_and_wait_for_it(loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[str] = loop.create_future()

    async def app() -> str:
        return await gate

    task = start(loop, app())
    assert asyncio.isfuture(task)

    async def waiter() -> tuple[str, int]:
        loop.call_soon(gate.set_result, "done")
        done, _ = await asyncio.wait([task], timeout=5)  # type: ignore[list-item]
        return await task, len(done)  # type: ignore[misc]

    assert loop.run_until_complete(waiter()) == ("done", 1)


def test_done_callbacks_run_once_in_a_later_turn_and_can_be_removed(
        loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[None] = loop.create_future()
    calls: list[tuple[object, object]] = []

    def called(task: object) -> None:
        calls.append((task, asyncio.current_task()))

    def removed(task: object) -> None:
        calls.append(("removed callback", None))

    async def app() -> None:
        await gate

    task = start(loop, app())
    task.add_done_callback(called)
    task.add_done_callback(removed)
    assert [cb for cb, _ in task._callbacks] == [called, removed]
    assert task.remove_done_callback(removed) == 1
    loop.call_soon(gate.set_result, None)
    finish(loop, task)
    loop.run_until_complete(asyncio.sleep(0))
    # Called with the task, by the loop: not inside the task's step.
    assert calls == [(task, None)]
    task.add_done_callback(called)  # added when done: scheduled at once
    loop.run_until_complete(asyncio.sleep(0))
    assert calls == [(task, None), (task, None)]


def test_an_exception_is_kept_and_a_fatal_one_propagates(loop: asyncio.AbstractEventLoop) -> None:
    async def failing() -> None:
        raise ValueError("broken")

    task = start(loop, failing())
    assert task.done() and isinstance(task.exception(), ValueError)
    with pytest.raises(ValueError, match="broken"):
        task.result()

    async def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        start_eager(interrupted(), loop, "fastasgi-request")


class Yields:
    """An awaitable that yields what a task cannot wait for."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __await__(self) -> Generator[object, None, None]:
        yield self.value


@pytest.mark.parametrize("yielded, message", [
    (42, "Task got bad yield"),
    ("other loop", "attached to a different loop"),
])
def test_a_bad_yield_is_thrown_back_into_the_coroutine(
        loop: asyncio.AbstractEventLoop, yielded: object, message: str) -> None:
    other = uvloop.new_event_loop()
    if yielded == "other loop":
        yielded = other.create_future()
        yielded._asyncio_future_blocking = True  # type: ignore[attr-defined]

    async def app() -> str:
        try:
            await Yields(yielded)
        except RuntimeError as exc:
            return str(exc)
        return "accepted"

    try:
        task = start(loop, app())
        finish(loop, task)
        assert message in task.result()
    finally:
        other.close()


def test_a_bare_yield_resumes_in_the_next_turn(loop: asyncio.AbstractEventLoop) -> None:
    async def app() -> int:
        for _ in range(3):
            await asyncio.sleep(0)
        return 3

    task = start(loop, app())
    assert not task.done()
    finish(loop, task)
    assert task.result() == 3


def test_it_refuses_what_only_a_future_may_do(loop: asyncio.AbstractEventLoop) -> None:
    gate: asyncio.Future[None] = loop.create_future()

    async def app() -> None:
        await gate

    task = start(loop, app())
    with pytest.raises(RuntimeError):
        task.set_result(1)
    with pytest.raises(RuntimeError):
        task.set_exception(ValueError())
    with pytest.raises(asyncio.InvalidStateError):
        task.result()
    with pytest.raises(asyncio.InvalidStateError):
        task.exception()
    loop.call_soon(gate.set_result, None)
    finish(loop, task)
    assert task.get_coro().cr_frame is None  # type: ignore[union-attr]
    assert task.get_stack() == []
