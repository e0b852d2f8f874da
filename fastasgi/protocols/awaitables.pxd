# cython: language_level=3

cdef class Ready:
    cdef object value

cdef Ready DONE
