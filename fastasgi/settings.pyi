from typing import Any

from fastasgi._h2connection import H2Settings

class HTTPLimits:
    max_request_line: int
    max_header_bytes: int
    max_headers: int
    max_body_size: int
    def __init__(
        self, *, max_request_line: int, max_header_bytes: int, max_headers: int, max_body_size: int
    ) -> None: ...
    @classmethod
    def from_config(cls, config: Any) -> HTTPLimits: ...

class ResponseDefaults:
    date_header: bool
    server_header: bytes | None
    headers: tuple[tuple[bytes, bytes], ...]
    def __init__(
        self, *, date_header: bool, server_header: bytes | None,
        headers: Any,
    ) -> None: ...
    @classmethod
    def from_config(cls, config: Any) -> ResponseDefaults: ...

class WebSocketSettings:
    max_size: int
    max_queue: int
    ping_interval: float
    ping_timeout: float
    per_message_deflate: bool
    def __init__(
        self, *, max_size: int, max_queue: int, ping_interval: float, ping_timeout: float,
        per_message_deflate: bool,
    ) -> None: ...
    @classmethod
    def from_config(cls, config: Any) -> WebSocketSettings: ...

def h2_settings_from_config(config: Any) -> H2Settings: ...

class ConnectionSettings:
    http: HTTPLimits
    response: ResponseDefaults
    websocket: WebSocketSettings | None
    h2: H2Settings | None
    serves_http1: bool
    tls_server_cert: str | None
    timeout_keep_alive: float
    timeout_header_read: float
    root_path: str
    root_path_bytes: bytes
    proxy_headers: bool
    forwarded_allow_ips: tuple[str, ...]
    limit_concurrency: int
    max_requests: int
    access_log: bool
    access_log_format: str | None
    metrics: bool
    def __init__(
        self, *, http: HTTPLimits, response: ResponseDefaults,
        websocket: WebSocketSettings | None, h2: H2Settings | None, serves_http1: bool,
        tls_server_cert: str | None, timeout_keep_alive: float,
        timeout_header_read: float, root_path: str, proxy_headers: bool,
        forwarded_allow_ips: Any, limit_concurrency: int, max_requests: int, access_log: bool,
        access_log_format: str | None, metrics: bool = ...,
    ) -> None: ...
    @classmethod
    def from_config(cls, config: Any) -> ConnectionSettings: ...
