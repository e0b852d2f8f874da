# cython: language_level=3

cdef enum State:
    PENDING
    CANCELLED
    FINISHED


cdef class EagerTask:
    # Read by the awaiting task's step, as on any asyncio future: True while awaited.
    cdef public bint _asyncio_future_blocking
    cdef readonly object _coro        # read by asyncio.base_tasks (get_stack)
    cdef readonly object _loop
    cdef object _context
    cdef str _name
    cdef State state
    cdef object result_value
    cdef object exception_value
    cdef readonly object _fut_waiter  # the future the coroutine waits for (anyio reads it)
    cdef readonly bint _must_cancel   # cancel() came while no future was awaited
    cdef object cancel_message
    cdef object cancelled_exc
    cdef int cancels_requested
    cdef list callbacks               # (callback, context) pairs, until done
    cdef object __weakref__

    cdef void step(self, object exc) except *
    cdef void yielded(self, object result) except *
    cdef void step_soon(self, object exc) except *
    cdef void finish(self, State state) except *
    cdef object make_cancelled_error(self)


cpdef EagerTask start_eager(object coro, object loop, str name)
