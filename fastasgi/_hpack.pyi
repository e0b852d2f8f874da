"""Types of the HPACK codec (fastasgi/_hpack.pyx, RFC 7541).

Use, per HTTP/2 connection:

    decoder = Decoder(max_header_list_size=settings.max_header_list_size)
    try:
        headers = decoder.decode(block)  # HEADERS + CONTINUATION fragments, joined
    except HeaderListTooLarge:
        ...  # refuse this stream (431); the connection is fine
    except HPACKError:
        ...  # connection error COMPRESSION_ERROR
    # once the peer acknowledged our SETTINGS_HEADER_TABLE_SIZE:
    decoder.set_max_table_size(size)

    encoder = Encoder()
    encoder.set_peer_table_size(size)  # on each SETTINGS_HEADER_TABLE_SIZE from the peer
    block = encoder.encode([(b":status", b"200"), (b"content-type", b"text/plain")])
"""

from collections.abc import Iterable

class HPACKError(Exception):
    """The header block is not valid HPACK: a connection error COMPRESSION_ERROR."""

class HeaderListTooLarge(HPACKError):
    """The decoded list exceeds max_header_list_size. The whole block was decoded, so the
    dynamic table is in step: refuse the stream, keep the connection."""

STATIC_TABLE: tuple[tuple[bytes, bytes], ...]
"""RFC 7541 Appendix A; entry i is STATIC_TABLE[i - 1]."""

class HeaderTable:
    """A dynamic table (§2.3.2). ``size`` counts name + value + 32 octets per entry."""

    size: int
    max_size: int
    count: int
    inserted: int
    def __init__(self, max_size: int) -> None: ...
    def entries(self) -> list[tuple[bytes, bytes]]:
        """Entries newest first: the fields of indices 62, 63, ..."""

class Decoder:
    max_header_list_size: int
    max_table_size: int
    table: HeaderTable
    def __init__(self, max_header_list_size: int, max_table_size: int = 4096) -> None: ...
    def decode(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """The header list of one complete header block."""
    def set_max_table_size(self, size: int) -> None:
        """Our acknowledged SETTINGS_HEADER_TABLE_SIZE. A limit below the current table size
        requires the next block to start with a size update no larger than the smallest
        limit set since the peer's last block."""

class Encoder:
    max_table_size: int
    table: HeaderTable
    def __init__(self, max_table_size: int = 4096) -> None: ...
    def encode(self, headers: Iterable[tuple[bytes, bytes]]) -> bytes:
        """One header block; names must be lowercase, pseudo-header fields first."""
    def set_peer_table_size(self, size: int) -> None:
        """The peer's SETTINGS_HEADER_TABLE_SIZE; the resulting size update opens the next
        block."""
