# cython: language_level=3

cimport cython


@cython.final
cdef class TurnShare:
    cdef object loop
    cdef readonly Py_ssize_t per_turn   # units every connection together may use per turn
    cdef readonly Py_ssize_t left       # units left in this turn
    cdef bint renewal_scheduled         # renew() is due in the next turn
    cdef readonly unsigned long turn    # renewals so far: which turn it is, for the takers

    cpdef Py_ssize_t take(self, Py_ssize_t wanted)  # how many of ``wanted`` this turn grants
    cpdef void give_back(self, Py_ssize_t unused)   # granted units the taker did not use
