# cython: language_level=3
"""Interface of the HTTP/2 connection events, for Cython callers."""


cdef class RequestReceived:
    cdef readonly unsigned int stream_id
    cdef readonly list headers
    cdef readonly bint end_stream


cdef class DataReceived:
    cdef readonly unsigned int stream_id
    cdef readonly bytes data
    cdef readonly bint end_stream
    cdef readonly unsigned int flow_controlled_length


cdef class TrailersReceived:
    cdef readonly unsigned int stream_id
    cdef readonly list headers


cdef class StreamReset:
    cdef readonly unsigned int stream_id
    cdef readonly unsigned int error_code
    cdef readonly bint remote


cdef class ConnectionTerminated:
    cdef readonly unsigned int error_code
    cdef readonly unsigned int last_stream_id
    cdef readonly bint remote


cdef class WindowUpdated:
    cdef readonly unsigned int stream_id


cdef class PingAcked:
    cdef readonly bytes opaque_data


cdef class SettingsAcked:
    pass
