# cython: language_level=3
"""Interface of the HPACK Huffman code (RFC 7541 §5.2, Appendix B), for Cython callers."""

from libc.stdint cimport uint8_t


cdef struct NibbleStep:
    # One step of the decoding automaton: from a state (an inner node of the code tree), four
    # input bits lead to `next_state` and emit at most one symbol (every code is 5 bits or more).
    uint8_t next_state
    uint8_t symbol
    uint8_t flags           # STEP_EMITS | STEP_FAILS | STEP_ACCEPTS


cdef enum:
    STEP_EMITS = 1          # `symbol` was completed by these four bits
    STEP_FAILS = 2          # the bits spelled EOS, which must never appear in a string (§5.2)
    STEP_ACCEPTS = 4        # input may end here: what follows the last symbol is 0-7 one bits


cdef Py_ssize_t huffman_encoded_length(const uint8_t *src, Py_ssize_t n) noexcept nogil
cdef Py_ssize_t huffman_encode(const uint8_t *src, Py_ssize_t n, uint8_t *dst) noexcept nogil
cdef Py_ssize_t huffman_decode(const uint8_t *src, Py_ssize_t n, uint8_t *dst) noexcept nogil
