# cython: language_level=3

cdef class ServerState:
    cdef public object loop
    cdef public object app
    cdef public set connections
    cdef public set tasks
    cdef public long tick
    cdef public long keep_alive_ticks
    cdef public long header_read_ticks
    cdef public Py_ssize_t max_request_line
    cdef public Py_ssize_t max_header_bytes
    cdef public Py_ssize_t max_headers
    cdef public long long max_body_size
    cdef public bint date_header
    cdef public object server_header
    cdef public list default_headers
    cdef public str root_path
    cdef public bytes root_path_bytes
    cdef public bint proxy_headers
    cdef public object trusted_hosts
    cdef public list trusted_networks
    cdef public bint trust_all
    cdef public dict lifespan_state
    cdef public bint shutting_down
    cdef public long long total_requests
    cdef public long limit_concurrency
    cdef public bint access_log
    cdef public object access_format   # an AccessLogFormat, or None: uvicorn's line
    cdef public bint access_timed      # the format shows durations: cycles read the clock
    cdef public bint log_trace
    cdef public long long max_requests
    cdef public object access_logger
    cdef public object ws_factory

    cpdef tuple forwarded(self, list headers, object client, str scheme)
    cpdef bint is_trusted(self, str host)
    cpdef void log_access(self, object client, object head, int status, bint disconnected=*,
                          object encoder=*, double started=*)
