# cython: language_level=3
"""A request's app task on Python 3.11, started eagerly as 3.12's ``eager_start`` does.

Python 3.11's ``asyncio.Task`` always schedules its first step for the next turn of the loop
and registers itself in a WeakSet (Python code): with the step's handle and the weak
reference's callback, about 0.8 µs per request, 7 % of a keep-alive request's CPU time on one
core. ``EagerTask`` runs the coroutine's first step at once, inside the caller's turn, and an
app that does not wait finishes before ``start_eager`` returns, with no handle, no registration
and no second turn.

It is an asyncio task to everything that looks: ``asyncio.current_task()`` returns it while it
runs (it is set in the loop's current-task table, as Task's own step does), it is a future to
``asyncio.wait`` and ``await``, and it keeps the task interface the libraries use (``cancel``
with ``cancelling``/``uncancel`` for ``asyncio.timeout`` and task groups, ``get_coro``,
``get_name``, and the ``_fut_waiter``/``_must_cancel`` that anyio's cancel scopes read). Each
step runs in the context copied when the task was made, as a Task's does, so what an app sets
in a ContextVar stays with its request. A task that waits is registered then, and from that
moment on ``asyncio.all_tasks()`` lists it.

What it does not do: log an exception nobody retrieved, or a task destroyed while pending. The
coroutines it runs (``cycle.run_app``, ``h2stream.run_stream``) handle every exception of the
app themselves.

The semantics are those of CPython 3.11's ``asyncio.Task.__step`` and ``__wakeup`` and of
``Future``'s result and callbacks; Python 3.12 and later use ``asyncio.Task(eager_start=True)``
instead (state.pyx).
"""

cimport cython
from cpython.contextvars cimport PyContext_CopyCurrent, PyContext_Enter, PyContext_Exit
from cpython.dict cimport PyDict_DelItem, PyDict_GetItem, PyDict_SetItem
from cpython.ref cimport PyObject, Py_XDECREF

import asyncio
import contextvars
import inspect
from asyncio import base_tasks, futures as asyncio_futures, tasks as asyncio_tasks

cdef extern from "Python.h":
    # PYGEN_RETURN (0): the coroutine returned *presult; PYGEN_NEXT (1): it yielded *presult;
    # PYGEN_ERROR (-1): it raised. Sends without the StopIteration a return would raise.
    int PyIter_Send(object iterator, object value, PyObject **presult) except -1

cdef enum:
    PYGEN_RETURN = 0


cdef object CancelledError = asyncio.CancelledError
cdef object InvalidStateError = asyncio.InvalidStateError
cdef object copy_context = contextvars.copy_context
# The loop of an awaited future: get_loop(), or _loop for a future without it, as Task asks.
cdef object get_future_loop = asyncio_futures._get_loop
cdef object register_task = asyncio_tasks._register_task
# The table asyncio.current_task() reads: loop -> the task running on it. Used on Python 3.11
# only; later versions may keep it elsewhere.
cdef dict current_tasks = getattr(asyncio_tasks, "_current_tasks", None)


cpdef EagerTask start_eager(object coro, object loop, str name):
    """A task for ``coro`` whose first step has run: done already if the coroutine did not
    wait."""
    cdef EagerTask task = EagerTask.__new__(EagerTask)
    task._coro = coro
    task._loop = loop
    task._name = name
    task.callbacks = []
    context = PyContext_CopyCurrent()
    task._context = context
    # A later step runs in the context from its handle (call_soon, add_done_callback); this
    # first one is run here, so the context is entered here.
    PyContext_Enter(context)
    try:
        task.step(None)
    finally:
        PyContext_Exit(context)
    if task.state == PENDING:
        register_task(task)
    return task


@cython.final
@cython.freelist(64)
cdef class EagerTask:
    """A coroutine run as an asyncio task (see the module's docstring)."""

    # -- the steps -------------------------------------------------------------------------

    cdef void step(self, object exc) except *:
        cdef PyObject *sent = NULL
        cdef PyObject *running
        cdef object previous = None
        cdef object result
        cdef object loop = self._loop
        cdef bint returned = False
        if self.state != PENDING:
            raise InvalidStateError(f"_step(): already done: {self!r}, {exc!r}")
        if self._must_cancel:
            if not isinstance(exc, CancelledError):
                exc = self.make_cancelled_error()
            self._must_cancel = False
        self._fut_waiter = None
        # As 3.12's eager tasks do, the task running before (one that started this one) is
        # put back after the step, not replaced for good.
        running = PyDict_GetItem(current_tasks, loop)
        if running is not NULL:
            previous = <object>running
        PyDict_SetItem(current_tasks, loop, self)
        try:
            try:
                if exc is None:
                    returned = PyIter_Send(self._coro, None, &sent) == PYGEN_RETURN
                    result = <object>sent
                    Py_XDECREF(sent)
                else:
                    result = self._coro.throw(exc)
            except StopIteration as stop:
                returned = True
                result = stop.value
            except CancelledError as cancelled:
                self.cancelled_exc = cancelled
                self.finish(CANCELLED)
                return
            except (KeyboardInterrupt, SystemExit) as fatal:
                self.exception_value = fatal
                self.finish(FINISHED)
                raise
            except BaseException as failure:
                self.exception_value = failure
                self.finish(FINISHED)
                return
            if returned:
                if self._must_cancel:
                    self._must_cancel = False
                    self.finish(CANCELLED)
                else:
                    self.result_value = result
                    self.finish(FINISHED)
            else:
                self.yielded(result)
        finally:
            if previous is None:
                PyDict_DelItem(current_tasks, loop)
            else:
                PyDict_SetItem(current_tasks, loop, previous)

    cdef void yielded(self, object result) except *:
        """What the coroutine yielded: a future to wait for, or None for a bare turn."""
        blocking = getattr(result, "_asyncio_future_blocking", None)
        if blocking is not None:
            if get_future_loop(result) is not self._loop:
                self.step_soon(RuntimeError(
                    f"Task {self!r} got Future {result!r} attached to a different loop"))
            elif not blocking:
                self.step_soon(RuntimeError(
                    f"yield was used instead of yield from in task {self!r} with {result!r}"))
            elif result is self:
                self.step_soon(RuntimeError(f"Task cannot await on itself: {self!r}"))
            else:
                result._asyncio_future_blocking = False
                result.add_done_callback(self._wakeup, context=self._context)
                self._fut_waiter = result
                if self._must_cancel and result.cancel(msg=self.cancel_message):
                    self._must_cancel = False
        elif result is None:
            self.step_soon(None)
        elif inspect.isgenerator(result):
            self.step_soon(RuntimeError(
                f"yield was used instead of yield from for generator in task {self!r} "
                f"with {result!r}"))
        else:
            self.step_soon(RuntimeError(f"Task got bad yield: {result!r}"))

    cdef void step_soon(self, object exc) except *:
        self._loop.call_soon(self._step, exc, context=self._context)

    def _step(self, exc=None):
        self.step(exc)

    def _wakeup(self, future):
        try:
            future.result()
        except BaseException as exc:
            self.step(exc)
        else:
            self.step(None)

    cdef void finish(self, State state) except *:
        self.state = state
        callbacks = self.callbacks
        if callbacks:
            self.callbacks = []
            for callback, context in callbacks:
                self._loop.call_soon(callback, self, context=context)

    cdef object make_cancelled_error(self):
        exc = self.cancelled_exc
        if exc is not None:
            self.cancelled_exc = None
            return exc
        if self.cancel_message is None:
            return CancelledError()
        return CancelledError(self.cancel_message)

    # -- the future ------------------------------------------------------------------------

    def done(self):
        return self.state != PENDING

    def cancelled(self):
        return self.state == CANCELLED

    def result(self):
        if self.state == CANCELLED:
            raise self.make_cancelled_error()
        if self.state != FINISHED:
            raise InvalidStateError("Result is not ready.")
        if self.exception_value is not None:
            raise self.exception_value
        return self.result_value

    def exception(self):
        if self.state == CANCELLED:
            raise self.make_cancelled_error()
        if self.state != FINISHED:
            raise InvalidStateError("Exception is not set.")
        return self.exception_value

    def add_done_callback(self, fn, *, context=None):
        if context is None:
            context = copy_context()
        if self.state != PENDING:
            self._loop.call_soon(fn, self, context=context)
        else:
            self.callbacks.append((fn, context))

    def remove_done_callback(self, fn):
        kept = [(f, context) for f, context in self.callbacks if f != fn]
        removed = len(self.callbacks) - len(kept)
        if removed:
            self.callbacks = kept
        return removed

    @property
    def _callbacks(self):
        # anyio's cancel scopes read a task's callbacks as asyncio's tasks keep them.
        return list(self.callbacks)

    def get_loop(self):
        return self._loop

    def set_result(self, result):
        raise RuntimeError("Task does not support set_result operation")

    def set_exception(self, exception):
        raise RuntimeError("Task does not support set_exception operation")

    def __await__(self):
        if self.state == PENDING:
            self._asyncio_future_blocking = True
            yield self
        if self.state == PENDING:
            raise RuntimeError("await wasn't used with future")
        return self.result()

    def __iter__(self):
        return self.__await__()

    # -- the task --------------------------------------------------------------------------

    def cancel(self, msg=None):
        if self.state != PENDING:
            return False
        self.cancels_requested += 1
        if self._fut_waiter is not None and self._fut_waiter.cancel(msg=msg):
            return True
        self._must_cancel = True
        self.cancel_message = msg
        return True

    def cancelling(self):
        return self.cancels_requested

    def uncancel(self):
        if self.cancels_requested > 0:
            self.cancels_requested -= 1
        return self.cancels_requested

    def get_coro(self):
        return self._coro

    def get_context(self):
        return self._context

    def get_name(self):
        return self._name

    def set_name(self, value):
        self._name = str(value)

    @property
    def _exception(self):
        # Read by asyncio.base_tasks, which makes get_stack and print_stack of any task.
        return self.exception_value

    def get_stack(self, *, limit=None):
        return base_tasks._task_get_stack(self, limit)

    def print_stack(self, *, limit=None, file=None):
        return base_tasks._task_print_stack(self, limit, file)

    def __repr__(self):
        state = ("pending", "cancelled", "finished")[self.state]
        return f"<EagerTask {state} name={self._name!r} coro={self._coro!r}>"
