# cython: language_level=3
"""What every connection of one server shares: the app, the limits, the clock, the registries."""

import logging

from fastasgi._parser cimport RequestHead


cdef class ServerState:
    """Settings resolved once per server, read by every connection on its hot path."""

    def __init__(self, loop, app):
        self.loop = loop
        self.app = app
        self.connections = set()
        self.tasks = set()
        self.tick = 0
        self.keep_alive_ticks = 5
        self.header_read_ticks = 10
        self.max_request_line = 8190
        self.max_header_bytes = 65536
        self.max_headers = 100
        self.max_body_size = 0
        self.date_header = True
        self.server_header = b"fastasgi"
        self.default_headers = []
        self.root_path = ""
        self.root_path_bytes = b""
        self.proxy_headers = False
        self.trusted_hosts = frozenset({"127.0.0.1"})
        self.lifespan_state = {}
        self.access_log = False
        self.access_logger = logging.getLogger("fastasgi.access")
        self.ws_factory = None

    cpdef tuple forwarded(self, list headers, object client, str scheme):
        """Client address and scheme from X-Forwarded-For/-Proto, when the peer is trusted.

        The client is the nearest address in X-Forwarded-For that is not itself a trusted proxy."""
        trusted = self.trusted_hosts
        if "*" not in trusted and client[0] not in trusted:
            return client, scheme
        forwarded_for = None
        proto = None
        for name, value in headers:
            if name == b"x-forwarded-for":
                forwarded_for = value if forwarded_for is None else forwarded_for + b"," + value
            elif name == b"x-forwarded-proto":
                proto = value
        if proto is not None:
            proto = proto.decode("latin-1").strip().lower()
            if proto in ("http", "https", "ws", "wss"):
                scheme = "https" if proto in ("https", "wss") else "http"
        if forwarded_for is not None:
            hops = [h.strip() for h in forwarded_for.decode("latin-1").split(",") if h.strip()]
            for host in reversed(hops):
                if "*" in trusted:
                    client = (hops[0], 0)
                    break
                if host not in trusted:
                    client = (host, 0)
                    break
        return client, scheme

    cpdef void log_access(self, str client, object head, int status):
        cdef RequestHead h = <RequestHead>head
        path = h.raw_path.decode("ascii", "replace")
        if h.query_string:
            path += "?" + h.query_string.decode("ascii", "replace")
        self.access_logger.info(
            '%s - "%s %s HTTP/%s" %d', client, h.method, path, h.http_version, status,
        )
