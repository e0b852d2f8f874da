# cython: language_level=3
"""What one server counts for --metrics-port: finished requests by method and status class,
their durations, and the bytes read from and written to clients.

Only a server with --metrics-port makes one (``ServerState.metrics``); without it each count
costs the hot path one test for None. Counting is plain C arithmetic, with no lock: a server
runs on one thread. Requests in flight and open connections are not counted here but read when
a snapshot is taken (from ``ServerState.total_requests`` and ``ServerState.connections``), so
the hot path pays nothing for them.
"""

from time import perf_counter

# Upper bounds, in seconds, of the request-duration histogram's buckets (Prometheus' "le").
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
cdef double[11] _BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]

METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
           "other")
STATUS_CLASSES = ("none", "1xx", "2xx", "3xx", "4xx", "5xx")


cdef inline int method_index(str method):
    # NOTE: most requests are GET or POST; an app's own methods all count as "other", so the
    # label has a bounded number of values whatever clients send.
    if method == "GET":
        return 0
    if method == "POST":
        return 1
    if method == "HEAD":
        return 2
    if method == "PUT":
        return 3
    if method == "DELETE":
        return 4
    if method == "PATCH":
        return 5
    if method == "OPTIONS":
        return 6
    if method == "CONNECT":
        return 7
    if method == "TRACE":
        return 8
    return 9


cdef class RequestMetrics:
    """The counters of one server process; ``snapshot`` turns them into plain data."""

    cpdef void request_finished(self, str method, int status, double started):
        """Count one request that ended, with the status that went out (0: none).

        ``started`` is its perf_counter() reading at the head (0.0 if it was not read): only
        timed requests enter the duration histogram."""
        cdef int status_class = status // 100 if 100 <= status < 600 else 0
        cdef double duration
        cdef int i
        self.counts[method_index(method)][status_class] += 1
        self.finished += 1
        if started:
            duration = perf_counter() - started
            i = 0
            while i < N_BUCKETS - 1 and duration > _BOUNDS[i]:
                i += 1
            self.duration_counts[i] += 1
            self.duration_sum += duration

    def snapshot(self, long long started_requests, connections):
        """The counts as plain data (JSON-able, small: a worker sends it to its supervisor).

        ``started_requests`` is the server's count of requests begun; ``connections`` its open
        connections, counted here by protocol."""
        cdef int m, c
        requests = {}
        for m in range(N_METHODS):
            for c in range(N_CLASSES):
                if self.counts[m][c]:
                    requests[METHODS[m] + " " + STATUS_CLASSES[c]] = self.counts[m][c]
        by_protocol = {"http": 0, "websocket": 0, "h2": 0}
        for connection in connections:
            protocol = PROTOCOL_OF.get(type(connection).__name__)
            if protocol is not None:
                by_protocol[protocol] += 1
        return {
            "requests": requests,
            "in_flight": max(0, started_requests - self.finished),
            "connections": by_protocol,
            "received_bytes": self.received_bytes,
            "sent_bytes": self.sent_bytes,
            "duration_buckets": [self.duration_counts[i] for i in range(N_BUCKETS)],
            "duration_sum": self.duration_sum,
        }


# The connection classes by the protocol label they count under.
PROTOCOL_OF = {"HTTPProtocol": "http", "WebSocketProtocol": "websocket", "H2Protocol": "h2"}
