# cython: language_level=3
"""Interface of the chunked transfer-coding decoder (RFC 9112 §7.1), for its driver.

``step`` reads the unconsumed input from a pointer and says how to consume it: first ``consumed``
framing bytes, then ``data_len`` bytes of chunk data, which the caller hands out as a body piece
(the decoder has counted them as read already)."""

cdef enum ChunkedEvent:
    CHUNK_NEED_DATA = 0   # nothing more before further input; consume what step said
    CHUNK_DATA = 1        # data_len (> 0) bytes of chunk data follow the consumed framing
    CHUNK_END = 2         # the trailer section ended: the body is complete
    CHUNK_ERROR = 3       # error_kind and error_message say what was wrong


cdef enum ChunkedError:
    CHUNK_OK = 0
    CHUNK_INVALID = 1             # a syntax rule of §7.1 broken (a 400)
    CHUNK_SIZE_TOO_LONG = 2       # more significant hex digits than a 64-bit size holds (a 400)
    CHUNK_BODY_TOO_LARGE = 3      # the chunk sizes add up to more than max_body_size (a 413)
    CHUNK_TRAILERS_TOO_LARGE = 4  # the trailer section is over max_trailer_bytes (a 431)


cdef enum ChunkedPhase:
    PHASE_SIZE = 0        # chunk-size [ chunk-ext ] CRLF
    PHASE_DATA = 1        # chunk-data, _remaining bytes of it still to come
    PHASE_DATA_END = 2    # the CRLF after chunk-data
    PHASE_TRAILERS = 3    # trailer-section CRLF
    PHASE_DONE = 4        # the body is complete; start() re-arms the decoder
    PHASE_FAILED = 5


cdef class ChunkedDecoder:
    cdef readonly long long max_body_size         # 0 = no limit
    cdef readonly Py_ssize_t max_trailer_bytes
    cdef readonly int error_kind                  # a ChunkedError
    cdef readonly str error_message               # None until an error

    cdef ChunkedPhase _phase
    cdef long long _remaining                     # chunk-data bytes of this chunk still to come
    cdef long long _body_seen                     # sum of the chunk sizes read so far
    cdef Py_ssize_t _trailer_bytes

    cdef void start(self) noexcept

    cdef inline ChunkedEvent step(self, const unsigned char *s, Py_ssize_t avail,
                                  Py_ssize_t *consumed, Py_ssize_t *data_len) noexcept:
        # NOTE: inline, so the parser's call per chunk costs no call across modules; only the
        # size and trailer lines are read by the out-of-line methods below.
        cdef Py_ssize_t pos = 0, n
        cdef ChunkedEvent event = CHUNK_NEED_DATA
        data_len[0] = 0
        while True:
            if self._phase == PHASE_DATA:
                if pos < avail:
                    n = avail - pos if avail - pos < self._remaining else <Py_ssize_t>self._remaining
                    self._remaining -= n
                    if self._remaining == 0:
                        self._phase = PHASE_DATA_END
                    data_len[0] = n
                    event = CHUNK_DATA
                break
            if self._phase == PHASE_SIZE:
                n = self._size_line(s + pos, avail - pos)
            elif self._phase == PHASE_DATA_END:
                if avail - pos >= 1 and s[pos] != b'\r':
                    n = self._fail(CHUNK_INVALID, "missing CRLF after chunk data")
                elif avail - pos < 2:
                    n = -1
                elif s[pos + 1] != b'\n':
                    n = self._fail(CHUNK_INVALID, "missing CRLF after chunk data")
                else:
                    n = 2
                    self._phase = PHASE_SIZE
            elif self._phase == PHASE_TRAILERS:
                n = self._trailer_line(s + pos, avail - pos)
            elif self._phase == PHASE_DONE:
                event = CHUNK_END
                break
            else:
                n = -2
            if n == -1:
                break
            if n == -2:
                event = CHUNK_ERROR
                break
            pos += n
            if self._phase == PHASE_DONE:
                event = CHUNK_END
                break
        consumed[0] = pos
        return event

    # private: each reads one element at s, returns the bytes it consumed, -1 when more input
    # is needed, or -2 after an error
    cdef Py_ssize_t _size_line(self, const unsigned char *s, Py_ssize_t avail) noexcept
    cdef Py_ssize_t _chunk_ext(self, const unsigned char *s, Py_ssize_t i,
                               Py_ssize_t avail) noexcept
    cdef Py_ssize_t _trailer_line(self, const unsigned char *s, Py_ssize_t avail) noexcept
    cdef Py_ssize_t _fail(self, ChunkedError kind, str message) noexcept
