# cython: language_level=3
"""Interface of the sans-I/O WebSocket codec (RFC 6455, RFC 7692), for Cython callers."""

from libc.stdint cimport uint8_t

from fastasgi._deflate cimport DeflateParams, MessageDeflate
from fastasgi._utf8 cimport Utf8State


cdef enum CodecState:
    STATE_HEADER = 0        # waiting for (the rest of) a frame header
    STATE_PAYLOAD = 1       # header parsed; payload bytes are being unmasked
    STATE_CLOSED = 2        # a close frame was received: input is ignored from now on
    STATE_FAILED = 3        # a ProtocolError was raised: it is raised again on every call


cdef class Ping:
    cdef readonly bytes payload


cdef class Pong:
    cdef readonly bytes payload


cdef class Close:
    cdef readonly int code
    cdef readonly str reason


cdef class WebSocketCodec:
    cdef readonly Py_ssize_t max_size
    cdef readonly DeflateParams deflate
    cdef readonly bint close_received
    cdef readonly bint close_sent

    # input: self._buf[self._pos:self._end] has not been consumed yet
    cdef object _buf                      # bytes as fed, or a bytearray once leftovers were joined
    cdef const uint8_t *_data
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _end

    cdef CodecState _state
    cdef object _error                    # the ProtocolError raised, once failed

    # the frame being read
    cdef int _opcode
    cdef bint _fin
    cdef unsigned long long _remaining    # payload bytes of this frame not read yet
    cdef uint8_t _mask[4]
    cdef Py_ssize_t _mask_offset          # payload bytes unmasked so far (key rotation)

    # the data message being assembled (across fragments and feeds)
    cdef int _msg_opcode                  # 0 when no message is open, else OP_TEXT / OP_BINARY
    cdef bint _msg_compressed
    cdef unsigned long long _msg_wire     # payload bytes received for it (compressed or not)
    cdef uint8_t *_msg                    # decoded bytes (malloc'd, grows up to max_size)
    cdef Py_ssize_t _msg_len
    cdef Py_ssize_t _msg_cap
    cdef Utf8State _utf8

    # the control frame being read (RFC 6455 §5.5: at most 125 payload bytes)
    cdef uint8_t _ctl[125]
    cdef Py_ssize_t _ctl_len

    cdef MessageDeflate _deflate_streams  # None unless permessage-deflate was agreed

    # replies the codec owes the peer, handed out by data_to_send()
    cdef bytes _pending_pong              # only the latest unanswered ping is answered (§5.5.3)
    cdef bytes _pending_close

    cpdef feed(self, data)
    cpdef object next_event(self)
    cpdef bytes data_to_send(self)
    cpdef bytes encode_text(self, str data)
    cpdef bytes encode_binary(self, data)
    cpdef bytes encode_ping(self, data=*)
    cpdef bytes encode_pong(self, data=*)
    cpdef bytes encode_close(self, int code=*, str reason=*)

    cdef object _fail(self, int code, str reason)
    cdef int _parse_header(self) except -1
    cdef object _read_payload(self)
    cdef object _read_whole_frame(self, Py_ssize_t n)
    cdef int _reserve(self, Py_ssize_t extra) except -1
    cdef int _append_plain(self, const uint8_t *src, Py_ssize_t n) except -1
    cdef int _append_compressed(self, const uint8_t *src, Py_ssize_t n, bint last) except -1
    cdef int _inflate(self, bytes chunk) except -1
    cdef int _check_text(self, const uint8_t *s, Py_ssize_t n) except -1
    cdef object _finish_message(self)
    cdef object _finish_control(self)
    cdef object _received_close(self)
    cdef int _release_message(self) except -1
    cdef int _check_can_send(self) except -1
    cdef bytes _frame(self, int first_byte, const uint8_t *payload, Py_ssize_t n)
    cdef bytes _control(self, int first_byte, data)
    cdef bytes _close_frame(self, int code, str reason)
    cdef bytes _compress(self, int first_byte, object payload)
