# cython: language_level=3

cimport cython


cdef enum:
    # Bytes of large response bodies the server writes in one turn of the event loop, at most
    # and at least; between the two, what the kernel lately accepted in LARGE_WRITE_NS_PER_TURN.
    LARGE_BYTES_PER_TURN = 1048576
    LARGE_BYTES_PER_TURN_MIN = 32768       # the encoder's COPY_LIMIT: no large write is smaller
    # 0.15 ms: while 500 clients that read nothing got 1 MiB each, a small GET's p99 stayed
    # within 1.4x its own (0.25 ms: up to 2.4x; 1 MiB fixed: 10 to 15x).
    LARGE_WRITE_NS_PER_TURN = 150000


@cython.final
cdef class LargeWriteBudget:
    cdef object loop
    cdef Py_ssize_t spent           # bytes admitted since the budget was last renewed
    cdef Py_ssize_t granted         # bytes of the waiters the last renewal woke
    cdef bint renewal_scheduled     # renew() is due in the next turn
    cdef object waiters             # deque of (future, size), first come first served
    cdef readonly Py_ssize_t turn_bytes  # bytes per turn, as the writes measured allow
    cdef readonly double ns_per_byte     # what large writes lately took per byte accepted

    cpdef bint admit(self, Py_ssize_t size)  # True: write now; False: await wait(size) first
    cpdef object wait(self, Py_ssize_t size)  # a future, done in the turn the write may go
    cpdef void give_back(self, Py_ssize_t size)  # admitted bytes the write did not use
    cpdef void measured(self, Py_ssize_t accepted, long long nanoseconds)  # a write's cost
    cpdef void write_measured(self, object transport, tuple pieces, Py_ssize_t size)
    cdef void spend(self, Py_ssize_t size)
    cdef void renew_next_turn(self)


cdef long long monotonic_ns() noexcept nogil  # time.monotonic_ns(), without the interpreter
