# cython: language_level=3
"""What each protocol is told, built once from a Config and handed down whole.

Every user-facing setting is defined once, in ``fastasgi.config`` (its flag, environment variable,
default and help). This module turns a Config into the typed objects the connections read on
their hot paths, one per concern: the parser's limits, what every response carries, the WebSocket
settings, and what every connection of a server shares. None of them has a default of its own: a
test or benchmark that wants a connection as the real server runs it builds a Config and calls
``from_config``, so it cannot silently run a configuration the server never uses.
"""

import logging

from fastasgi._h2connection cimport H2Settings

from fastasgi._h2connection import (
    DEFAULT_CONTROL_WINDOW, DEFAULT_MAX_CONTROL_FRAMES, DEFAULT_MAX_RESETS, DEFAULT_RESET_WINDOW,
)
from fastasgi.tls import first_certificate


cdef class HTTPLimits:
    """What the HTTP/1.1 parser enforces (--limit-request-*)."""

    def __init__(self, *, Py_ssize_t max_request_line, Py_ssize_t max_header_bytes,
                 Py_ssize_t max_headers, long long max_body_size):
        if max_request_line <= 0 or max_header_bytes <= 0 or max_headers <= 0 or max_body_size < 0:
            raise ValueError("HTTP limits must be positive (max_body_size: 0 = unlimited)")
        self.max_request_line = max_request_line
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.max_body_size = max_body_size

    @classmethod
    def from_config(cls, config):
        return cls(
            max_request_line=config.limit_request_line,
            max_header_bytes=config.limit_request_header_bytes,
            max_headers=config.limit_request_headers,
            max_body_size=config.limit_request_body or 0,
        )

    def __repr__(self):
        return ("HTTPLimits(max_request_line=%d, max_header_bytes=%d, max_headers=%d, "
                "max_body_size=%d)" % (self.max_request_line, self.max_header_bytes,
                                       self.max_headers, self.max_body_size))


cdef class ResponseDefaults:
    """What the serializer adds to every response the app did not set itself."""

    def __init__(self, *, bint date_header, server_header, headers):
        self.date_header = date_header
        self.server_header = server_header
        self.headers = tuple(headers)

    @classmethod
    def from_config(cls, config):
        return cls(
            date_header=config.date_header,
            server_header=b"fastasgi" if config.server_header else None,
            headers=[(name.lower().encode("latin-1"), value.encode("latin-1"))
                     for name, value in config.headers],
        )


cdef class WebSocketSettings:
    """The --ws-* settings every WebSocket connection of a server shares."""

    def __init__(self, *, Py_ssize_t max_size, Py_ssize_t max_queue, double ping_interval,
                 double ping_timeout, bint per_message_deflate):
        self.max_size = max_size
        self.max_queue = max_queue
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.per_message_deflate = per_message_deflate

    @classmethod
    def from_config(cls, config):
        return cls(
            max_size=config.ws_max_size,
            max_queue=config.ws_max_queue,
            ping_interval=config.ws_ping_interval,
            ping_timeout=config.ws_ping_timeout,
            per_message_deflate=config.ws_per_message_deflate,
        )


def h2_settings_from_config(config):
    """The HTTP/2 settings (--h2-*) every HTTP/2 connection of a server shares; the flood
    bounds are the core's own documented limits, not settings."""
    return H2Settings(
        max_concurrent_streams=config.h2_max_concurrent_streams,
        initial_window_size=config.h2_initial_window_size,
        max_frame_size=config.h2_max_frame_size,
        max_header_list_size=config.h2_max_header_list_size,
        max_resets=DEFAULT_MAX_RESETS,
        reset_window=DEFAULT_RESET_WINDOW,
        max_control_frames=DEFAULT_MAX_CONTROL_FRAMES,
        control_window=DEFAULT_CONTROL_WINDOW,
    )


cdef class ConnectionSettings:
    """Everything the connections of one server are told, by protocol and shared."""

    def __init__(self, *, HTTPLimits http not None, ResponseDefaults response not None,
                 WebSocketSettings websocket, H2Settings h2, bint serves_http1,
                 str tls_server_cert, double timeout_keep_alive,
                 double timeout_header_read, str root_path not None, bint proxy_headers,
                 forwarded_allow_ips, Py_ssize_t limit_concurrency, long long max_requests,
                 bint access_log, str access_log_format, bint metrics=False):
        self.http = http
        self.response = response
        self.websocket = websocket
        self.h2 = h2
        self.serves_http1 = serves_http1
        self.tls_server_cert = tls_server_cert
        if not serves_http1 and h2 is None:
            raise ValueError("a server needs HTTP/1.1 or HTTP/2")
        self.timeout_keep_alive = timeout_keep_alive
        self.timeout_header_read = timeout_header_read
        self.root_path = root_path
        self.root_path_bytes = root_path.encode("utf-8")
        self.proxy_headers = proxy_headers
        self.forwarded_allow_ips = tuple(forwarded_allow_ips)
        self.limit_concurrency = limit_concurrency
        self.max_requests = max_requests
        self.access_log = access_log
        self.access_log_format = access_log_format
        self.metrics = metrics

    @classmethod
    def from_config(cls, config):
        """The settings of a server about to start in this process.

        Called in each worker: the --limit-max-requests jitter is drawn per process, and the
        access log is on only if the logging set-up (done by then) would emit its lines."""
        return cls(
            http=HTTPLimits.from_config(config),
            response=ResponseDefaults.from_config(config),
            websocket=WebSocketSettings.from_config(config) if config.ws_enabled else None,
            h2=h2_settings_from_config(config) if config.serves_http2 else None,
            serves_http1=config.serves_http1,
            tls_server_cert=first_certificate(config.ssl_certfile) if config.ssl_certfile else None,
            timeout_keep_alive=config.timeout_keep_alive,
            timeout_header_read=config.timeout_header_read,
            root_path=config.root_path or "",
            proxy_headers=config.proxy_headers,
            forwarded_allow_ips=[entry.strip() for entry in config.forwarded_allow_ips.split(",")
                                 if entry.strip()],
            limit_concurrency=config.limit_concurrency or 0,
            max_requests=config.max_requests() or 0,
            access_log=config.access_log
            and logging.getLogger("fastasgi.access").isEnabledFor(logging.INFO),
            access_log_format=config.access_log_format,
            metrics=config.metrics_port is not None,
        )
