# cython: language_level=3
"""The WebSocket masking transform (RFC 6455 §5.3), inline for the codec's hot path.

Masking and unmasking are the same XOR with the 4-byte key, rotated by how many payload bytes
came before (``offset``), so a payload can be unmasked piece by piece as it arrives."""

from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy


cdef inline void unmask(uint8_t *dst, const uint8_t *src, Py_ssize_t n, const uint8_t *key,
                        Py_ssize_t offset) noexcept nogil:
    """dst[i] = src[i] ^ key[(offset + i) % 4] (RFC 6455 §5.3); dst may equal src."""
    cdef uint8_t k[8]
    cdef uint64_t m, w0, w1
    cdef Py_ssize_t i
    for i in range(8):
        k[i] = key[(offset + i) & 3]
    memcpy(&m, k, 8)
    i = 0
    # NOTE: memcpy of 8 bytes compiles to one unaligned load/store; two words per turn let the
    # CPU overlap them.
    while i + 16 <= n:
        memcpy(&w0, src + i, 8)
        memcpy(&w1, src + i + 8, 8)
        w0 ^= m
        w1 ^= m
        memcpy(dst + i, &w0, 8)
        memcpy(dst + i + 8, &w1, 8)
        i += 16
    if i + 8 <= n:
        memcpy(&w0, src + i, 8)
        w0 ^= m
        memcpy(dst + i, &w0, 8)
        i += 8
    while i < n:
        dst[i] = src[i] ^ k[i & 3]
        i += 1
