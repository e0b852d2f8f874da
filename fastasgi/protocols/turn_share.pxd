# cython: language_level=3

cimport cython


@cython.final
cdef class TurnShare:
    cdef object loop
    cdef readonly Py_ssize_t per_turn   # units every connection together may use per turn
    cdef readonly Py_ssize_t left       # units left in this turn
    cdef Py_ssize_t renew_after         # units spent before a renewal is scheduled
    cdef bint renewal_scheduled         # renew() is due in the next turn
    cdef readonly unsigned long turn    # renewals so far: which turn it is, for the takers

    cpdef void spend(self, Py_ssize_t used)  # ``used`` of the ``left`` units were used


@cython.final
cdef class TurnAllowance:
    cdef TurnShare share
    cdef Py_ssize_t per_turn            # units this taker may use per turn
    cdef unsigned long turn             # the share's turn ``left`` is for
    cdef Py_ssize_t left                # units this taker has left in that turn

    cpdef Py_ssize_t grant(self)        # units it may use now: its own left, and the share's
    cpdef void used(self, Py_ssize_t n)  # n of the granted units were used
