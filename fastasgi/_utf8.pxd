# cython: language_level=3
"""Incremental UTF-8 validation (RFC 3629), inline for the WebSocket codec's hot path.

A text message must be valid UTF-8 as a whole (RFC 6455 §8.1), and it is checked piece by piece
as fragments and reads arrive: ``Utf8State`` carries an unfinished sequence from one piece to the
next, so the first invalid byte is found as soon as it is here, whatever the split."""

from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy


cdef struct Utf8State:
    # Continuation bytes still owed by the current sequence and the range the next one must
    # fall in (narrower right after E0, ED, F0, F4).
    int need
    uint8_t lo
    uint8_t hi


cdef inline void utf8_reset(Utf8State *st) noexcept nogil:
    st.need = 0
    st.lo = 0x80
    st.hi = 0xBF


cdef inline Py_ssize_t utf8_scan(Utf8State *st, const uint8_t *s, Py_ssize_t n) noexcept nogil:
    """Carry ``st`` over ``s``: -1 if every byte is valid so far, else the offset of the first
    invalid one. The well-formed sequences are those of RFC 3629 §4 (no overlongs, surrogates
    or code points above U+10FFFF); a sequence may span calls, which is how fragments are
    checked as they arrive."""
    cdef Py_ssize_t i = 0
    cdef uint8_t b
    cdef uint64_t w
    cdef int need = st.need
    cdef uint8_t lo = st.lo
    cdef uint8_t hi = st.hi
    while i < n:
        if need == 0:
            # NOTE: ASCII runs, the common case, are checked a word at a time.
            while i + 8 <= n:
                memcpy(&w, s + i, 8)
                if w & 0x8080808080808080ULL:
                    break
                i += 8
            if i == n:
                break
            b = s[i]
            if b < 0x80:
                pass
            elif b < 0xC2:          # a continuation byte, or C0/C1 (overlong 2-byte forms)
                return i
            elif b < 0xE0:
                need = 1
            elif b < 0xF0:
                need = 2
                if b == 0xE0:       # overlong 3-byte forms
                    lo = 0xA0
                elif b == 0xED:     # UTF-16 surrogates D800..DFFF
                    hi = 0x9F
            elif b < 0xF5:
                need = 3
                if b == 0xF0:       # overlong 4-byte forms
                    lo = 0x90
                elif b == 0xF4:     # above U+10FFFF
                    hi = 0x8F
            else:
                return i
        else:
            b = s[i]
            if b < lo or b > hi:
                return i
            need -= 1
            lo = 0x80
            hi = 0xBF
        i += 1
    st.need = need
    st.lo = lo
    st.hi = hi
    return -1
