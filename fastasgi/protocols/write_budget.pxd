# cython: language_level=3

cimport cython


cdef enum:
    # Bytes of large response bodies the server writes in one turn of the event loop.
    LARGE_BYTES_PER_TURN = 1048576


@cython.final
cdef class LargeWriteBudget:
    cdef object loop
    cdef Py_ssize_t spent           # bytes admitted since the budget was last renewed
    cdef Py_ssize_t granted         # bytes of the waiters the last renewal woke
    cdef bint renewal_scheduled     # renew() is due in the next turn
    cdef object waiters             # deque of (future, size), first come first served

    cpdef bint admit(self, Py_ssize_t size)  # True: write now; False: await wait(size) first
    cpdef object wait(self, Py_ssize_t size)  # a future, done in the turn the write may go
    cpdef void give_back(self, Py_ssize_t size)  # admitted bytes the write did not use
    cdef void spend(self, Py_ssize_t size)
    cdef void renew_next_turn(self)
