# cython: language_level=3
"""Events of the sans-I/O HTTP/2 connection (fastasgi/_h2connection.pyx): what the peer's
bytes meant, as small immutable objects the I/O layer dispatches on by type."""

cimport cython


@cython.final
@cython.freelist(16)
cdef class RequestReceived:
    def __init__(self, unsigned int stream_id, list headers, bint end_stream):
        self.stream_id = stream_id
        self.headers = headers
        self.end_stream = end_stream

    def __repr__(self):
        return f"RequestReceived({self.stream_id}, {self.headers!r}, {self.end_stream})"


@cython.final
@cython.freelist(16)
cdef class DataReceived:
    def __init__(self, unsigned int stream_id, bytes data, bint end_stream,
                 unsigned int flow_controlled_length):
        self.stream_id = stream_id
        self.data = data
        self.end_stream = end_stream
        self.flow_controlled_length = flow_controlled_length

    def __repr__(self):
        return (f"DataReceived({self.stream_id}, {self.data!r}, {self.end_stream}, "
                f"{self.flow_controlled_length})")


@cython.final
cdef class TrailersReceived:
    """The request's trailer section; it ends the request (ASGI has no trailers)."""
    def __init__(self, unsigned int stream_id, list headers):
        self.stream_id = stream_id
        self.headers = headers

    def __repr__(self):
        return f"TrailersReceived({self.stream_id}, {self.headers!r})"


@cython.final
cdef class StreamReset:
    def __init__(self, unsigned int stream_id, unsigned int error_code, bint remote):
        self.stream_id = stream_id
        self.error_code = error_code
        self.remote = remote

    def __repr__(self):
        return f"StreamReset({self.stream_id}, {self.error_code}, remote={self.remote})"


@cython.final
cdef class ConnectionTerminated:
    def __init__(self, unsigned int error_code, unsigned int last_stream_id, bint remote):
        self.error_code = error_code
        self.last_stream_id = last_stream_id
        self.remote = remote

    def __repr__(self):
        return (f"ConnectionTerminated({self.error_code}, {self.last_stream_id}, "
                f"remote={self.remote})")


@cython.final
cdef class WindowUpdated:
    def __init__(self, unsigned int stream_id):
        self.stream_id = stream_id

    def __repr__(self):
        return f"WindowUpdated({self.stream_id})"


@cython.final
cdef class PingAcked:
    def __init__(self, bytes opaque_data):
        self.opaque_data = opaque_data

    def __repr__(self):
        return f"PingAcked({self.opaque_data!r})"


@cython.final
cdef class SettingsAcked:
    def __repr__(self):
        return "SettingsAcked()"
