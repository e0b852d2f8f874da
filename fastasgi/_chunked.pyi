"""Types of the chunked transfer-coding decoder (fastasgi/_chunked.pyx)."""

from typing import Final

# decode() events
NEED_DATA: Final[int]
DATA: Final[int]
END: Final[int]
ERROR: Final[int]
# error kinds
INVALID: Final[int]  # a syntax rule of RFC 9112 §7.1 broken
SIZE_TOO_LONG: Final[int]  # more than 15 significant hex digits
BODY_TOO_LARGE: Final[int]  # the chunk sizes add up to more than max_body_size
TRAILERS_TOO_LARGE: Final[int]  # the trailer section is over max_trailer_bytes

class ChunkedDecoder:
    max_body_size: int  # 0 = no limit
    max_trailer_bytes: int
    error_kind: int  # 0 until an error, then one of the error kinds
    error_message: str | None
    def __init__(self, max_body_size: int, max_trailer_bytes: int) -> None: ...
    def decode(self, data: bytes | bytearray | memoryview) -> tuple[int, int, int]:
        """(event, consumed, data_len) for the unconsumed input: consume ``consumed`` framing
        bytes, then ``data_len`` bytes of chunk data (DATA only)."""
