# cython: language_level=3
"""What each protocol is told: one typed object per concern, built from a Config by from_config()."""

from fastasgi._h2connection cimport H2Settings


cdef class HTTPLimits:
    cdef readonly Py_ssize_t max_request_line
    cdef readonly Py_ssize_t max_header_bytes
    cdef readonly Py_ssize_t max_headers
    cdef readonly long long max_body_size       # 0: no limit


cdef class ResponseDefaults:
    cdef readonly bint date_header
    cdef readonly object server_header          # bytes, or None when --no-server-header
    cdef readonly tuple headers                 # ((lowercase name, value), ...) from --header


cdef class WebSocketSettings:
    cdef readonly Py_ssize_t max_size
    cdef readonly Py_ssize_t max_queue
    cdef readonly double ping_interval          # 0: no pings
    cdef readonly double ping_timeout           # 0: wait for a pong forever
    cdef readonly bint per_message_deflate


cdef class ConnectionSettings:
    cdef readonly HTTPLimits http
    cdef readonly ResponseDefaults response
    cdef readonly WebSocketSettings websocket   # None: --ws none, upgrades are plain requests
    cdef readonly H2Settings h2                 # None: --no-http2, the preface gets 505
    cdef readonly bint serves_http1             # False: --http 2, every connection is HTTP/2
    cdef readonly str tls_server_cert           # PEM of our certificate for the tls extension
    cdef readonly double timeout_keep_alive
    cdef readonly double timeout_header_read
    cdef readonly str root_path
    cdef readonly bytes root_path_bytes
    cdef readonly bint proxy_headers
    cdef readonly tuple forwarded_allow_ips
    cdef readonly Py_ssize_t limit_concurrency  # 0: no limit
    cdef readonly long long max_requests        # 0: no limit (jitter already drawn)
    cdef readonly bint access_log               # on, and the access logger would emit
    cdef readonly str access_log_format         # None: uvicorn's line
    cdef readonly bint metrics                  # count for --metrics-port
