# cython: language_level=3
"""An awaitable that is already finished.

NOTE: send() usually completes without waiting; returning a finished awaitable instead of a
coroutine saves a coroutine object and a frame per call on the hottest path of every response.
Awaiting it iterates an exhausted iterator, which ends without raising StopIteration, so no
exception object or traceback is built either."""

cimport cython

cdef object EXHAUSTED = iter(())


@cython.final
cdef class Done:
    """``await DONE`` evaluates to None without suspending."""

    def __await__(self):
        return EXHAUSTED


DONE = Done()
# For Python callers (the WebSocket protocol): the same object.
FINISHED = DONE
