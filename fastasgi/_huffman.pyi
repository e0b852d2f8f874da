"""Types of the HPACK Huffman code (fastasgi/_huffman.pyx, RFC 7541 §5.2, Appendix B)."""

HUFFMAN_CODE: tuple[tuple[int, int], ...]
"""(code, length in bits) of each symbol 0..255 and of EOS (256)."""

def encode(data: bytes) -> bytes:
    """The Huffman code of ``data``, padded with one bits to a whole octet."""

def decode(data: bytes) -> bytes:
    """The string ``data`` encodes; ValueError if it contains EOS or its padding is longer
    than 7 bits or not all one bits."""
