"""Types of permessage-deflate (fastasgi/_deflate.pyx); DeflateParams is also importable from
fastasgi._websocket, whose codec takes it."""

class DeflateParams:
    """permessage-deflate parameters agreed in the handshake (RFC 7692 §7.1), plus local
    compression settings. Defaults are what an offer without parameters means.

    Memory per connection follows zlib: the compressor keeps about
    2**(server_max_window_bits + 2) + 2**(mem_level + 9) bytes (256 KiB at 15 and 8) unless
    server_no_context_takeover, the inflater 2**client_max_window_bits (32 KiB at 15) plus
    about 7 KiB unless client_no_context_takeover; both are created on first use."""

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int  # 9..15: our compressor's window
    client_max_window_bits: int  # 8..15: the peer's compressor window (our inflater's)
    compress_level: int  # zlib level, -1..9
    mem_level: int  # zlib memLevel, 1..9
    def __init__(
        self,
        *,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int = 15,
        client_max_window_bits: int = 15,
        compress_level: int = 6,
        mem_level: int = 8,
    ) -> None: ...
