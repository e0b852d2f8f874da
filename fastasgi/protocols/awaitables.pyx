# cython: language_level=3
"""Awaitables that are already finished.

NOTE: send() usually completes without waiting; returning a finished awaitable instead of a
coroutine saves a coroutine object and a frame per call on the hottest path of every response."""

cimport cython


@cython.final
@cython.freelist(16)
cdef class Ready:
    """``await Ready(x)`` evaluates to x without suspending."""

    def __cinit__(self, value=None):
        self.value = value

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        raise StopIteration(self.value)

    def send(self, value):
        raise StopIteration(self.value)

    def throw(self, typ, val=None, tb=None):
        if val is None:
            raise typ
        raise val

    def close(self):
        pass


DONE = Ready(None)
