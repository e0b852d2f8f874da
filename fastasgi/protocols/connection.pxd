# cython: language_level=3

from fastasgi._parser cimport RequestHead
from fastasgi.protocols.state cimport ServerState


cpdef RequestHead make_request_head(str method, bytes target, str path, bytes raw_path,
                                    bytes query_string, str http_version, list headers)
cpdef bint accepts_trailers(list headers)
cpdef void log_app_exception(object exc, bint disconnected)
cpdef dict extensions_for(Connection connection)


cdef class Connection:
    cdef public ServerState state
    cdef public object loop
    cdef public object transport
    cdef public object client          # (host, port), or None on a UNIX socket
    cdef public object server          # (host, port), (path, None), or None
    cdef public str scheme             # "http" or "https": the transport's, before proxy headers
    cdef public object ssl_object      # the TLS session, or None on a plain socket
    cdef public dict tls               # the scope's "tls" extension, made at the first request
    cdef public bint closed            # we write nothing more (closing, lingering or closed)
    cdef public bint peer_eof          # the client sent FIN: it will send nothing more
    cdef public bint peer_done         # the client said it will send nothing more
    cdef public bint reading_paused
    cdef public bint writing_paused
    cdef public long write_paused_at   # tick at which the transport last paused our writing
    cdef public long lingering_since   # tick of our FIN while we drop input, else -1
    cdef list drain_waiters

    cdef void take_transport(self, object transport)
    cpdef void take_over(self, Connection other)
    cpdef bint admitted(self)
    cpdef dict request_scope(self, str kind, RequestHead head)
    cpdef object drain(self)
    cpdef void wake_writers(self)
    cpdef void close_gracefully(self)
    cpdef bint linger_over(self, long tick)
    cpdef bint write_stalled(self, long tick)
