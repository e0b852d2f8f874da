# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The static Huffman code of HPACK (RFC 7541 §5.2, Appendix B): encoding and decoding.

Invariants:
- Decoding is table-driven, four input bits per step. The automaton's states are the 256 inner
  nodes of the code tree (257 symbols, EOS included); ``_STEPS`` is built once at import from the
  code table below, which is the one fact taken from the RFC.
- A decoded string is rejected (``huffman_decode`` returns -1) when it contains EOS, or when
  its padding is longer than 7 bits or is not a prefix of EOS, i.e. not all one bits (§5.2).
- Output bounds: every code is at least 5 bits long, so ``n`` input bytes decode to at most
  ``n * 8 // 5`` bytes; encoding writes exactly ``huffman_encoded_length`` bytes.
The C functions never raise; ``encode``/``decode`` are Python wrappers for tests and tools.
Bounds checks are off: every table index is a 4-bit nibble plus a state below 256, and every
symbol below 257.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport int16_t, uint8_t, uint32_t, uint64_t

# Appendix B, symbol by symbol (0..255, then EOS = 256): (code, length in bits).
HUFFMAN_CODE = (
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28), (0xfffffe4, 28),  # 0
    (0xfffffe5, 28), (0xfffffe6, 28), (0xfffffe7, 28), (0xfffffe8, 28), (0xffffea, 24),  # 5
    (0x3ffffffc, 30), (0xfffffe9, 28), (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28),  # 10
    (0xfffffec, 28), (0xfffffed, 28), (0xfffffee, 28), (0xfffffef, 28), (0xffffff0, 28),  # 15
    (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28), (0xffffff4, 28),  # 20
    (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28), (0xffffff8, 28), (0xffffff9, 28),  # 25
    (0xffffffa, 28), (0xffffffb, 28), (0x14, 6), (0x3f8, 10), (0x3f9, 10),  # 30
    (0xffa, 12), (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11),  # 35
    (0x3fa, 10), (0x3fb, 10), (0xf9, 8), (0x7fb, 11), (0xfa, 8),  # 40
    (0x16, 6), (0x17, 6), (0x18, 6), (0x0, 5), (0x1, 5),  # 45
    (0x2, 5), (0x19, 6), (0x1a, 6), (0x1b, 6), (0x1c, 6),  # 50
    (0x1d, 6), (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),  # 55
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10), (0x1ffa, 13),  # 60
    (0x21, 6), (0x5d, 7), (0x5e, 7), (0x5f, 7), (0x60, 7),  # 65
    (0x61, 7), (0x62, 7), (0x63, 7), (0x64, 7), (0x65, 7),  # 70
    (0x66, 7), (0x67, 7), (0x68, 7), (0x69, 7), (0x6a, 7),  # 75
    (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7), (0x6f, 7),  # 80
    (0x70, 7), (0x71, 7), (0x72, 7), (0xfc, 8), (0x73, 7),  # 85
    (0xfd, 8), (0x1ffb, 13), (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14),  # 90
    (0x22, 6), (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5),  # 95
    (0x24, 6), (0x5, 5), (0x25, 6), (0x26, 6), (0x27, 6),  # 100
    (0x6, 5), (0x74, 7), (0x75, 7), (0x28, 6), (0x29, 6),  # 105
    (0x2a, 6), (0x7, 5), (0x2b, 6), (0x76, 7), (0x2c, 6),  # 110
    (0x8, 5), (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),  # 115
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15), (0x7fc, 11),  # 120
    (0x3ffd, 14), (0x1ffd, 13), (0xffffffc, 28), (0xfffe6, 20), (0x3fffd2, 22),  # 125
    (0xfffe7, 20), (0xfffe8, 20), (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22),  # 130
    (0x7fffd9, 23), (0x3fffd6, 22), (0x7fffda, 23), (0x7fffdb, 23), (0x7fffdc, 23),  # 135
    (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23), (0xffffec, 24),  # 140
    (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23), (0xffffee, 24), (0x7fffe1, 23),  # 145
    (0x7fffe2, 23), (0x7fffe3, 23), (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22),  # 150
    (0x7fffe5, 23), (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24),  # 155
    (0x3fffda, 22), (0x1fffdd, 21), (0xfffe9, 20), (0x3fffdb, 22), (0x3fffdc, 22),  # 160
    (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21), (0x7fffea, 23), (0x3fffdd, 22),  # 165
    (0x3fffde, 22), (0xfffff0, 24), (0x1fffdf, 21), (0x3fffdf, 22), (0x7fffeb, 23),  # 170
    (0x7fffec, 23), (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),  # 175
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23), (0xfffea, 20),  # 180
    (0x3fffe2, 22), (0x3fffe3, 22), (0x3fffe4, 22), (0x7ffff0, 23), (0x3fffe5, 22),  # 185
    (0x3fffe6, 22), (0x7ffff1, 23), (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20),  # 190
    (0x7fff1, 19), (0x3fffe7, 22), (0x7ffff2, 23), (0x3fffe8, 22), (0x1ffffec, 25),  # 195
    (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27), (0x7ffffdf, 27),  # 200
    (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25), (0x7fff2, 19), (0x1fffe3, 21),  # 205
    (0x3ffffe6, 26), (0x7ffffe0, 27), (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27),  # 210
    (0xfffff2, 24), (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26),  # 215
    (0xffffffd, 28), (0x7ffffe3, 27), (0x7ffffe4, 27), (0x7ffffe5, 27), (0xfffec, 20),  # 220
    (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21), (0x3fffe9, 22), (0x1fffe7, 21),  # 225
    (0x1fffe8, 21), (0x7ffff3, 23), (0x3fffea, 22), (0x3fffeb, 22), (0x1ffffee, 25),  # 230
    (0x1ffffef, 25), (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),  # 235
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26), (0x7ffffe7, 27),  # 240
    (0x7ffffe8, 27), (0x7ffffe9, 27), (0x7ffffea, 27), (0x7ffffeb, 27), (0xffffffe, 28),  # 245
    (0x7ffffec, 27), (0x7ffffed, 27), (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27),  # 250
    (0x3ffffee, 26), (0x3fffffff, 30),  # 255
)

cdef enum:
    EOS = 256
    INNER_NODES = 256

cdef uint32_t _CODES[257]
cdef uint8_t _LENGTHS[257]
cdef NibbleStep _STEPS[INNER_NODES * 16]


cdef Py_ssize_t huffman_encoded_length(const uint8_t *src, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t bits = 0
    cdef Py_ssize_t i
    for i in range(n):
        bits += _LENGTHS[src[i]]
    return (bits + 7) >> 3


cdef Py_ssize_t huffman_encode(const uint8_t *src, Py_ssize_t n, uint8_t *dst) noexcept nogil:
    """Write the code of src[:n] to dst; return the number of bytes written."""
    # NOTE: fewer than 8 bits stay pending between symbols and a code has at most 30, so the
    # 64-bit accumulator never overflows.
    cdef uint64_t acc = 0
    cdef int pending = 0
    cdef Py_ssize_t i, out = 0
    cdef uint8_t sym
    for i in range(n):
        sym = src[i]
        acc = (acc << _LENGTHS[sym]) | _CODES[sym]
        pending += _LENGTHS[sym]
        while pending >= 8:
            pending -= 8
            dst[out] = <uint8_t>(acc >> pending)
            out += 1
    if pending:
        # §5.2: pad with the most significant bits of EOS, which are all ones.
        dst[out] = <uint8_t>((acc << (8 - pending)) | (0xFF >> pending))
        out += 1
    return out


cdef Py_ssize_t huffman_decode(const uint8_t *src, Py_ssize_t n, uint8_t *dst) noexcept nogil:
    """Decode src[:n] into dst (room for n * 8 // 5 bytes); return its length, or -1 if the
    input is not a valid Huffman string (§5.2)."""
    cdef Py_ssize_t i, out = 0
    cdef int state = 0
    cdef int flags = STEP_ACCEPTS
    cdef const NibbleStep *step
    for i in range(n):
        step = &_STEPS[(state << 4) | (src[i] >> 4)]
        if step.flags & STEP_FAILS:
            return -1
        if step.flags & STEP_EMITS:
            dst[out] = step.symbol
            out += 1
        step = &_STEPS[(step.next_state << 4) | (src[i] & 0x0F)]
        if step.flags & STEP_FAILS:
            return -1
        if step.flags & STEP_EMITS:
            dst[out] = step.symbol
            out += 1
        state = step.next_state
        flags = step.flags
    return out if flags & STEP_ACCEPTS else -1


def encode(data: bytes) -> bytes:
    """The Huffman code of ``data``."""
    cdef Py_ssize_t n = len(data)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, huffman_encoded_length(
        <const uint8_t *>PyBytes_AS_STRING(data), n))
    huffman_encode(<const uint8_t *>PyBytes_AS_STRING(data), n,
                   <uint8_t *>PyBytes_AS_STRING(out))
    return out


def decode(data: bytes) -> bytes:
    """The string whose Huffman code is ``data``; ValueError if it is not one (§5.2)."""
    cdef Py_ssize_t n = len(data)
    cdef uint8_t *buf = <uint8_t *>PyMem_Malloc(n * 8 // 5 + 1)
    cdef Py_ssize_t length
    if buf == NULL:
        raise MemoryError()
    try:
        length = huffman_decode(<const uint8_t *>PyBytes_AS_STRING(data), n, buf)
        if length < 0:
            raise ValueError("invalid Huffman-encoded string (EOS or bad padding)")
        return PyBytes_FromStringAndSize(<char *>buf, length)
    finally:
        PyMem_Free(buf)


cdef int _build_tables() except -1:
    # The code tree: inner node k has children _tree[k][0] (bit 0) and _tree[k][1] (bit 1); a
    # child >= 0 is an inner node, a child < 0 is the leaf of symbol -child - 1.
    cdef int16_t tree[INNER_NODES][2]
    cdef bint accepting[INNER_NODES]
    cdef int nodes = 1, node, child, sym, bit, state, nibble, emitted, flags
    cdef uint32_t code
    cdef int length
    tree[0][0] = tree[0][1] = 0
    for sym in range(257):
        code, length = HUFFMAN_CODE[sym]
        if not 5 <= length <= 30:
            raise AssertionError("bad Huffman code table")
        _CODES[sym] = code
        _LENGTHS[sym] = length
        node = 0
        for bit in range(length - 1, 0, -1):
            child = tree[node][(code >> bit) & 1]
            if child == 0:
                child = nodes
                nodes += 1
                tree[child][0] = tree[child][1] = 0
                tree[node][(code >> bit) & 1] = child
            node = child
        tree[node][code & 1] = -sym - 1
    if nodes != INNER_NODES:
        raise AssertionError("bad Huffman code table")
    # §5.2: padding is a prefix of EOS (all ones) of at most 7 bits, so decoding may stop at
    # the root or at the inner nodes 1..7 ones deep.
    for node in range(INNER_NODES):
        accepting[node] = False
    node = 0
    for bit in range(8):
        accepting[node] = True
        node = tree[node][1]
    for state in range(INNER_NODES):
        for nibble in range(16):
            node = state
            emitted = -1
            flags = 0
            for bit in range(3, -1, -1):
                child = tree[node][(nibble >> bit) & 1]
                if child >= 0:
                    node = child
                    continue
                if -child - 1 == EOS:
                    flags = STEP_FAILS
                    break
                emitted = -child - 1
                node = 0
            if emitted >= 0:
                flags |= STEP_EMITS
            if not flags & STEP_FAILS and accepting[node]:
                flags |= STEP_ACCEPTS
            _STEPS[state * 16 + nibble].next_state = node
            _STEPS[state * 16 + nibble].symbol = emitted if emitted >= 0 else 0
            _STEPS[state * 16 + nibble].flags = flags
    return 0


_build_tables()
