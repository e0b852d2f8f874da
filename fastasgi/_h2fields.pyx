# cython: language_level=3
"""What makes an HTTP/2 request's field section malformed (RFC 9113 §8.1.1, §8.2, §8.3).

The connection (``_h2connection.pyx``) asks these of every decoded field block, so that a
malformed request is a stream error the client provoked, counted against its reset bound.
"""

from fastasgi._chars cimport fill_token

# §8.2.2: fields that make a message malformed in HTTP/2
cdef frozenset _CONNECTION_FIELDS = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"))
cdef frozenset _REQUEST_PSEUDO = frozenset((b":method", b":scheme", b":path", b":authority"))
cdef unsigned char _TOKEN[256]      # tchar (RFC 9110 §5.6.2): what a method is made of
fill_token(_TOKEN)


cdef str malformed(list headers, bint trailers):
    """Why the field section breaks §8.2-8.3, or None."""
    cdef bint regular_seen = False
    cdef set pseudo = set()
    cdef bytes name, value
    for name, value in headers:
        if not name or name != name.lower():
            return "field name empty or not lowercase (§8.2.1)"
        if b"\0" in value or b"\r" in value or b"\n" in value:
            return "NUL, CR or LF in a field value (§8.2.1)"
        if name[0] == 0x3A:                              # ":"
            if trailers or regular_seen:
                return "pseudo-header after regular fields or in trailers (§8.3)"
            if name not in _REQUEST_PSEUDO or name in pseudo:
                return "unknown or repeated pseudo-header (§8.3.1)"
            pseudo.add(name)
        else:
            regular_seen = True
            if b":" in name or b" " in name:
                return "invalid field name (§8.2.1)"
            if name in _CONNECTION_FIELDS:
                return "connection-specific field (§8.2.2)"
            if name == b"te" and value != b"trailers":
                return "TE other than trailers (§8.2.2)"
    return None


cdef str invalid_request(list headers, bint end_stream):
    """Why a request other than CONNECT is malformed beyond the field rules (§8.1.1, §8.3.1),
    or None. Found here rather than by the caller, so that it counts as a stream error the
    client provoked (max_resets) before the connection reads on."""
    cdef bytes name, value
    cdef bint length_seen = False
    cdef unsigned char c
    for name, value in headers:
        if name == b":path":
            if value != b"*" and value[:1] != b"/":
                return ":path neither origin-form nor '*' (§8.3.1)"
        elif name == b":method":
            if not value:
                return "empty :method"
            for c in value:
                if not _TOKEN[c]:
                    return ":method is not a token (RFC 9110 §9.1)"
        elif name == b"content-length":
            # 18 digits: any length an int64 holds; a longer one is no real body
            if length_seen or not value.isdigit() or len(value) > 18:
                return "content-length invalid or repeated (§8.1.1)"
            length_seen = True
            if end_stream and value.strip(b"0"):
                return "content-length on a request that ends with its head (§8.1.1)"
    return None
