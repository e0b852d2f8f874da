# cython: language_level=3

from fastasgi.protocols.metrics cimport RequestMetrics
from fastasgi.settings cimport ConnectionSettings
from fastasgi.protocols.turn_share cimport TurnShare
from fastasgi.protocols.write_budget cimport LargeWriteBudget


cdef class ServerState:
    cdef public object loop
    cdef public object app
    cdef readonly ConnectionSettings settings
    cdef public set connections
    cdef public set tasks
    cdef public long tick
    cdef public dict lifespan_state
    cdef public bint shutting_down
    cdef public long long total_requests
    cdef readonly LargeWriteBudget large_writes  # shared by every connection's large bodies
    cdef readonly TurnShare websocket_frames  # frames every WebSocket connection handles per turn
    cdef readonly TurnShare http_requests  # HTTP/1.1 requests every connection starts per turn
    cdef readonly TurnShare h2_input  # bytes every HTTP/2 connection hands its core per turn
    # Derived once from the settings:
    cdef readonly long keep_alive_ticks
    cdef readonly long header_read_ticks
    cdef object trusted_hosts
    cdef list trusted_networks
    cdef bint trust_all
    cdef readonly object access_format   # an AccessLogFormat, or None: uvicorn's line
    cdef readonly bint access_timed      # the format shows durations
    cdef readonly bint requests_timed    # a duration is logged or counted: cycles read the clock
    cdef readonly RequestMetrics metrics  # None unless --metrics-port
    cdef readonly bint log_trace
    cdef object access_logger

    cdef object start_app(self, object coro)
    cpdef tuple forwarded(self, list headers, object client, str scheme)
    cpdef bint is_trusted(self, str host)
    cdef void trust(self, entries)
    cpdef void log_access(self, object client, object head, int status, bint disconnected=*,
                          object encoder=*, double started=*)
