"""The requests the parser benchmarks feed, with what every parser must make of them.

Each input is one whole request as it arrives in one socket read. ``headers`` is the header list
a parser must produce (lowercased names, values without surrounding whitespace, in order) and
``body`` the body bytes after de-chunking; every benchmark checks its parser against them before
timing it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInput:
    name: str
    description: str
    raw: bytes
    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _request(
    request_line: bytes, headers: list[tuple[bytes, bytes]], framed_body: bytes = b""
) -> bytes:
    fields = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return request_line + b"\r\n" + fields + b"\r\n" + framed_body


def _lowered(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower(), value) for name, value in headers]


# What Chrome sends for a top-level navigation (client hints trimmed), cookie included.
_BROWSER_HEADERS = [
    (b"Host", b"www.example.com"),
    (b"Connection", b"keep-alive"),
    (b"sec-ch-ua", b'"Chromium";v="124", "Not-A.Brand";v="99"'),
    (b"sec-ch-ua-mobile", b"?0"),
    (b"Upgrade-Insecure-Requests", b"1"),
    (
        b"User-Agent",
        (
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            b"Chrome/124.0.0.0 Safari/537.36"
        ),
    ),
    (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"Sec-Fetch-Site", b"none"),
    (b"Sec-Fetch-Mode", b"navigate"),
    (b"Accept-Encoding", b"gzip, deflate, br"),
    (b"Accept-Language", b"en-US,en;q=0.9"),
    (b"Cookie", b"sessionid=6f1c2a9e4b7d4c0a; theme=dark"),
]

BROWSER_GET = RequestInput(
    name="get",
    description="browser GET, 12 Chrome headers with a cookie",
    raw=_request(b"GET /articles/42?ref=home HTTP/1.1", _BROWSER_HEADERS),
    method=b"GET",
    target=b"/articles/42?ref=home",
    headers=_lowered(_BROWSER_HEADERS),
    body=b"",
)

_POST_BODY = b'{"data": "' + b"x" * 1012 + b'"}'  # 1024 bytes
_POST_HEADERS = [
    (b"Host", b"api.example.com"),
    (b"User-Agent", b"python-httpx/0.27.0"),
    (b"Accept", b"*/*"),
    (b"Content-Type", b"application/json"),
    (b"Content-Length", str(len(_POST_BODY)).encode()),
]

SMALL_POST = RequestInput(
    name="post",
    description="POST, 1 KiB JSON body framed by Content-Length",
    raw=_request(b"POST /api/items HTTP/1.1", _POST_HEADERS, _POST_BODY),
    method=b"POST",
    target=b"/api/items",
    headers=_lowered(_POST_HEADERS),
    body=_POST_BODY,
)

_CHUNK_COUNT = 16
_CHUNK_SIZE = 4096
_CHUNKS = [bytes([0x61 + i]) * _CHUNK_SIZE for i in range(_CHUNK_COUNT)]
_UPLOAD_HEADERS = [
    (b"Host", b"upload.example.com"),
    (b"User-Agent", b"curl/8.5.0"),
    (b"Accept", b"*/*"),
    (b"Content-Type", b"application/octet-stream"),
    (b"Transfer-Encoding", b"chunked"),
]

CHUNKED_UPLOAD = RequestInput(
    name="chunked",
    description=f"chunked upload, {_CHUNK_COUNT} chunks of {_CHUNK_SIZE // 1024} KiB",
    raw=_request(
        b"PUT /files/blob HTTP/1.1",
        _UPLOAD_HEADERS,
        b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in _CHUNKS) + b"0\r\n\r\n",
    ),
    method=b"PUT",
    target=b"/files/blob",
    headers=_lowered(_UPLOAD_HEADERS),
    body=b"".join(_CHUNKS),
)

INPUTS = {i.name: i for i in (BROWSER_GET, SMALL_POST, CHUNKED_UPLOAD)}
