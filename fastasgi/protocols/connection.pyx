# cython: language_level=3
"""What every connection shares, whatever protocol it speaks.

HTTP/1.1 (``http.pyx``), WebSocket (``websocket.py``) and HTTP/2 (``h2.pyx``) connections are all
a ``Connection``: the peer and socket names, the registry of the server's connections, admission
under --limit-concurrency, the scope keys every request has (root path, forwarded client and
scheme), write flow control (``drain``/``wake_writers`` around the transport's
pause/resume_writing), the write-stall bound and the graceful close. A fix to any of them lands
here, once.
"""

import logging

from fastasgi._parser cimport RequestHead
from fastasgi.protocols.state cimport ServerState
from fastasgi.settings cimport ConnectionSettings

from fastasgi.tls import tls_extension

# ASGI 3, and spec 2.4: send() to a gone client raises an OSError (fastasgi.ClientDisconnected).
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
cdef dict _ASGI_VERSION = ASGI_VERSION

# A client that reads nothing of what we write for this many ticks is gone; its app is released.
WRITE_STALL_TICKS = 60
cdef long _WRITE_STALL_TICKS = WRITE_STALL_TICKS

# Ticks we drop input after our FIN before we stop waiting for the client's own close.
LINGER_TICKS = 2
cdef long _LINGER_TICKS = LINGER_TICKS

cdef object logger = logging.getLogger("fastasgi.error")

# The ASGI extensions every http scope offers, whichever HTTP version carries it (the values
# say nothing, and are shared).
cdef dict HTTP_EXTENSIONS = {"http.response.pathsend": {}, "http.response.trailers": {},
                             "http.response.early_hint": {}}


cpdef dict extensions_for(Connection connection):
    """The ``extensions`` of an http scope on ``connection``: a new dict per request, since an
    app or its middleware may add to it; with ``tls`` on a TLS connection."""
    cdef dict extensions = HTTP_EXTENSIONS.copy()
    if connection.ssl_object is not None:
        if connection.tls is None:
            connection.tls = tls_extension(connection.ssl_object,
                                           connection.state.settings.tls_server_cert)
        extensions["tls"] = connection.tls
    return extensions


cpdef void log_app_exception(object exc, bint disconnected):
    """Log what a request's app raised: a bug with its traceback, unless the client had left."""
    if disconnected:
        # What an app raises once its client is gone (ClientDisconnected, or a framework's own
        # exception for it) is the disconnect, not a bug.
        logger.debug("ASGI application ended after the client disconnected: %r", exc)
    else:
        logger.error("Exception in ASGI application", exc_info=exc)


cpdef bint accepts_trailers(list headers):
    """Whether the request said "TE: trailers" (RFC 9110 §10.1.4): only then do trailer fields
    go out, as the ASGI trailers extension asks."""
    for name, value in headers:
        if name == b"te" and b"trailers" in [
                option.split(b";")[0].strip().lower() for option in value.split(b",")]:
            return True
    return False


cpdef RequestHead make_request_head(str method, bytes target, str path, bytes raw_path,
                                    bytes query_string, str http_version, list headers):
    """A request head not read by the HTTP/1.1 parser (an HTTP/2 stream's), so that the scope
    and the access log are built from it as from any other."""
    cdef RequestHead head = RequestHead.__new__(RequestHead)
    head.method = method
    head.target = target
    head.path = path
    head.raw_path = raw_path
    head.query_string = query_string
    head.http_version = http_version
    head.headers = headers
    head.keep_alive = True
    head.content_length = -1
    return head


cdef class Connection:
    """One client connection of a server (subclassed per protocol)."""

    def __init__(self, ServerState state not None):
        self.state = state
        self.loop = state.loop
        self.lingering_since = -1

    @property
    def client_label(self):
        """Who the client is, for log lines: "host:port", or "unix". Made when a line needs
        it: most connections never log one."""
        return "%s:%d" % self.client if self.client is not None else "unix"

    cdef void take_transport(self, object transport):
        """Adopt ``transport``: learn who is at either end and join the server's connections."""
        self.transport = transport
        self.state.connections.add(self)
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        if type(peer) is tuple:
            # An IPv6 peer is (host, port, flowinfo, scope_id): ASGI's client is the first two.
            self.client = peer if len(<tuple>peer) == 2 else (peer[0], peer[1])
        else:
            self.client = None
        if type(sock) is tuple:
            self.server = (sock[0], sock[1])
        elif sock:
            self.server = (sock, None)
        else:
            self.server = None
        self.ssl_object = transport.get_extra_info("ssl_object")
        self.scheme = "https" if self.ssl_object is not None else "http"

    cpdef void take_over(self, Connection other):
        """Adopt the transport of ``other``, which hands it over (HTTP/1.1 to WebSocket or
        HTTP/2): same client, same socket, same TLS session."""
        self.transport = other.transport
        self.client = other.client
        self.server = other.server
        self.scheme = other.scheme
        self.ssl_object = other.ssl_object
        self.tls = other.tls

    cpdef bint admitted(self):
        """Whether a new request may run under --limit-concurrency (else it gets 503)."""
        cdef ServerState state = self.state
        cdef Py_ssize_t limit = state.settings.limit_concurrency
        return not limit or (len(state.tasks) < limit and len(state.connections) <= limit)

    cpdef dict request_scope(self, str kind, RequestHead head):
        """The scope keys every request has; the protocol adds its own.

        ``scheme`` is "http" or "https" (from the transport, or X-Forwarded-Proto from a trusted
        proxy); a WebSocket connection turns it into "ws" or "wss"."""
        cdef ServerState state = self.state
        cdef ConnectionSettings settings = state.settings
        cdef str path = head.path
        cdef bytes raw_path = head.raw_path
        if settings.root_path:
            path = settings.root_path + path
            raw_path = settings.root_path_bytes + raw_path
        client = self.client
        scheme = self.scheme
        if settings.proxy_headers:
            client, scheme = state.forwarded(head.headers, client, scheme)
        return {
            "type": kind,
            "asgi": _ASGI_VERSION,
            "http_version": head.http_version,
            "server": self.server,
            "client": client,
            "scheme": scheme,
            "root_path": settings.root_path,
            "path": path,
            "raw_path": raw_path,
            "query_string": head.query_string,
            "headers": head.headers,
            "state": state.lifespan_state.copy(),
        }

    # -- write flow control ----------------------------------------------------------------

    def pause_writing(self):
        self.writing_paused = True
        self.write_paused_at = self.state.tick

    def resume_writing(self):
        self.writing_paused = False
        self.wake_writers()

    cpdef object drain(self):
        """A future that resolves once the transport takes writes again (or the connection ends)."""
        waiter = self.loop.create_future()
        if self.drain_waiters is None:
            self.drain_waiters = [waiter]
        else:
            self.drain_waiters.append(waiter)
        return waiter

    cpdef void wake_writers(self):
        waiters = self.drain_waiters
        if waiters:
            self.drain_waiters = None
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    cpdef bint write_stalled(self, long tick):
        """Whether the client has read nothing we wrote for more than WRITE_STALL_TICKS."""
        return self.writing_paused and tick - self.write_paused_at > _WRITE_STALL_TICKS

    # -- closing ---------------------------------------------------------------------------

    cpdef void close_gracefully(self):
        """End the connection without losing what we wrote.

        Closing a socket that still has unread input makes the kernel send RST, which can
        destroy our last bytes before the client reads them. So we half-close (FIN), keep
        reading and dropping, and let the client close first; ``linger_over`` bounds the wait.
        A client that sent FIN (``peer_eof``) or said it sends nothing more (``peer_done``)
        leaves no input to reset the connection: it is closed at once."""
        if self.closed:
            return
        self.closed = True
        transport = self.transport
        if self.peer_eof or self.peer_done or not transport.can_write_eof():
            transport.close()  # nothing more will come (or no half-close): nothing to drain
            return
        transport.write_eof()
        self.lingering_since = self.state.tick
        if self.reading_paused:
            self.reading_paused = False
            transport.resume_reading()

    cpdef bint linger_over(self, long tick):
        """Whether we waited long enough, after our FIN, for the client to close."""
        return self.lingering_since >= 0 and tick - self.lingering_since > _LINGER_TICKS
