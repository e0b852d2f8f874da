# cython: language_level=3

cdef class Done:
    pass

cdef Done DONE
