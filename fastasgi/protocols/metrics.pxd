# cython: language_level=3

# Label values: the methods counted by name (any other is "other"), the status classes.
cdef enum:
    N_METHODS = 10      # GET POST HEAD PUT DELETE PATCH OPTIONS CONNECT TRACE, other
    N_CLASSES = 6       # none (no response went out), 1xx .. 5xx
    N_BUCKETS = 12      # the 11 bounds of DURATION_BUCKETS, then +Inf


cdef class RequestMetrics:
    cdef long long counts[N_METHODS][N_CLASSES]
    cdef long long duration_counts[N_BUCKETS]
    cdef readonly double duration_sum
    cdef readonly long long finished
    cdef public long long received_bytes
    cdef public long long sent_bytes

    cpdef void request_finished(self, str method, int status, double started)
