# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Sans-I/O WebSocket codec, server side (RFC 6455, RFC 7692 permessage-deflate).

The I/O layer feeds what the socket delivered (``feed``) and pulls events (``next_event``): a
complete text message as ``str``, a binary message as ``bytes``, ``Ping``, ``Pong``, ``Close``, or
``NEED_DATA``. Bytes the protocol itself owes the peer (the pong to a ping, the close reply, the
close frame of a failed connection) collect in ``data_to_send()``. Messages the application sends
become one ``bytes`` each (``encode_text`` ...). Nothing here touches a socket or a clock.

Invariants:
- Any split of the input yields the same events: a frame header is parsed only once complete,
  and payload bytes are unmasked as they arrive into the message buffer (never re-read).
- Every violation is a ``ProtocolError`` carrying the close code to answer with (1002, 1007,
  1009). It is detected as early as the bytes allow: the checks that need only the first two
  header bytes run before the length arrives, a message that will be too big fails at its frame
  header, text is checked for UTF-8 as each piece arrives. After an error the codec is dead:
  every call raises the same error, and the close frame for it is in ``data_to_send()``.
- Bounds: between calls the codec holds the unconsumed input (under 14 bytes, a partial frame
  header, once ``next_event`` has returned ``NEED_DATA``), the message being assembled (at most
  ``max_size`` bytes, counted after decompression and, for compressed messages, also on the
  wire), 125 bytes of control payload and at most one pong and one close frame to send. A caller
  that stops pulling events (back-pressure) keeps what it fed; ``buffered`` says how much.
"""

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_DecodeUTF8
from libc.stdint cimport uint8_t
from libc.string cimport memcpy

from fastasgi._deflate cimport DeflateParams, MessageDeflate
from fastasgi._masking cimport unmask      # inline, like the UTF-8 check: no cross-module call
from fastasgi._utf8 cimport Utf8State, utf8_reset, utf8_scan

import zlib

import fastasgi._deflate
from fastasgi._marker import Marker

# NOTE: a cimported type is no module attribute; DeflateParams stays importable from here.
globals()["DeflateParams"] = fastasgi._deflate.DeflateParams


cdef enum:
    OP_CONTINUATION = 0x0
    OP_TEXT = 0x1
    OP_BINARY = 0x2
    OP_CLOSE = 0x8
    OP_PING = 0x9
    OP_PONG = 0xA
    FIN = 0x80
    RSV1 = 0x40
    MAX_CONTROL_PAYLOAD = 125
    # A message buffer larger than this is freed once its message is out, so an idle connection
    # does not keep the memory of its largest message.
    KEEP_MESSAGE_CAPACITY = 65536


# --- errors and events ------------------------------------------------------------------------

class ProtocolError(Exception):
    """The peer broke RFC 6455/7692 or a limit; close the connection with ``code``."""

    def __init__(self, int code, str reason):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self):
        return f"{self.code} {self.reason}"


class WebSocketClosed(Exception):
    """A frame was to be encoded after the close frame was sent (RFC 6455 §5.5.1)."""


NEED_DATA = Marker("NEED_DATA", __name__)


@cython.final
@cython.freelist(8)
cdef class Ping:
    def __init__(self, bytes payload):
        self.payload = payload

    def __repr__(self):
        return f"Ping({self.payload!r})"

    def __eq__(self, other):
        return type(other) is Ping and (<Ping>other).payload == self.payload

    __hash__ = None


@cython.final
@cython.freelist(8)
cdef class Pong:
    def __init__(self, bytes payload):
        self.payload = payload

    def __repr__(self):
        return f"Pong({self.payload!r})"

    def __eq__(self, other):
        return type(other) is Pong and (<Pong>other).payload == self.payload

    __hash__ = None


@cython.final
cdef class Close:
    def __init__(self, int code, str reason):
        self.code = code
        self.reason = reason

    def __repr__(self):
        return f"Close({self.code}, {self.reason!r})"

    def __eq__(self, other):
        return (type(other) is Close and (<Close>other).code == self.code
                and (<Close>other).reason == self.reason)

    __hash__ = None


# --- close codes ------------------------------------------------------------------------------

cdef inline bint close_code_allowed(int code) noexcept nogil:
    # RFC 6455 §7.4.1 and the IANA registry: 1004-1006 and 1015 must never be on the wire;
    # 1012-1014 are registered (restart, try again later, bad gateway); 3000-4999 are for
    # libraries and applications; everything else is reserved.
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


# --- the codec --------------------------------------------------------------------------------

@cython.final
cdef class WebSocketCodec:
    """One WebSocket connection, server side, after the opening handshake."""

    def __init__(self, *, Py_ssize_t max_size=16 * 1024 * 1024, DeflateParams deflate=None):
        if max_size < 1:
            raise ValueError("max_size must be positive")
        self.max_size = max_size
        self.deflate = deflate
        self._deflate_streams = MessageDeflate(deflate) if deflate is not None else None
        self._buf = None
        self._pos = 0
        self._end = 0
        self._state = STATE_HEADER
        utf8_reset(&self._utf8)

    def __dealloc__(self):
        PyMem_Free(self._msg)

    @property
    def buffered(self):
        """Input bytes fed but not consumed by next_event() yet."""
        return self._end - self._pos

    # --- input --------------------------------------------------------------------------------

    cpdef feed(self, data):
        """Append bytes received from the peer. Ignored once a close frame was received."""
        cdef Py_ssize_t n
        if self._state == STATE_FAILED:
            raise self._error
        if self._state == STATE_CLOSED:
            return
        if type(data) is not bytes:
            data = bytes(data)
        n = PyBytes_GET_SIZE(data)
        if n == 0:
            return
        if self._pos == self._end:
            # NOTE: the common case: nothing left over, parse straight from the caller's bytes.
            self._buf = data
            self._pos = 0
            self._end = n
            self._data = <const uint8_t *>PyBytes_AS_STRING(data)
            return
        if type(self._buf) is not bytearray:
            self._buf = PyByteArray_FromStringAndSize(
                <char *>self._data + self._pos, self._end - self._pos)
        elif self._pos:
            del self._buf[:self._pos]
        self._buf += data
        self._pos = 0
        self._end = len(self._buf)
        self._data = <const uint8_t *>PyByteArray_AS_STRING(self._buf)

    cpdef object next_event(self):
        """The next event: str (text message), bytes (binary message), Ping, Pong, Close or
        NEED_DATA. Raises ProtocolError (and keeps raising it) on a protocol violation."""
        cdef object event
        while True:
            if self._state == STATE_HEADER:
                if not self._parse_header():
                    return NEED_DATA
            elif self._state == STATE_PAYLOAD:
                event = self._read_payload()
                if event is not None:
                    return event
            elif self._state == STATE_CLOSED:
                return NEED_DATA
            else:
                raise self._error

    cpdef bytes data_to_send(self):
        """Bytes the codec owes the peer (a pong, then the close frame), b"" if none; taking
        them clears them."""
        cdef bytes out
        if self._pending_pong is None:
            if self._pending_close is None:
                return b""
            out = self._pending_close
        elif self._pending_close is None:
            out = self._pending_pong
        else:
            out = self._pending_pong + self._pending_close
        self._pending_pong = None
        self._pending_close = None
        return out

    cdef object _fail(self, int code, str reason):
        err = ProtocolError(code, reason)
        self._error = err
        self._state = STATE_FAILED
        self._buf = None
        self._pos = self._end = 0
        self._release_message()
        # A pong not taken yet is dropped: the connection failed, only the close frame is owed.
        self._pending_pong = None
        if not self.close_sent:
            self._pending_close = self._close_frame(code, reason)
            self.close_sent = True
        raise err

    cdef int _parse_header(self) except -1:
        """Parse the next frame header (RFC 6455 §5.2): 1 once done, 0 if bytes are missing."""
        cdef Py_ssize_t avail = self._end - self._pos
        cdef const uint8_t *p = self._data + self._pos
        cdef int opcode, rsv, len7, header_len, i
        cdef unsigned long long length
        if avail < 2:
            return 0
        opcode = p[0] & 0x0F
        rsv = p[0] & 0x70
        len7 = p[1] & 0x7F
        # Everything the first two bytes can tell is checked before waiting for the rest.
        if not p[1] & 0x80:
            self._fail(1002, "client frame is not masked")
        if opcode >= OP_CLOSE:
            if opcode > OP_PONG:
                self._fail(1002, "unknown opcode")
            if rsv:
                self._fail(1002, "reserved bit set on a control frame")
            if not p[0] & FIN:
                self._fail(1002, "fragmented control frame")
            if len7 > MAX_CONTROL_PAYLOAD:
                self._fail(1002, "control frame payload over 125 bytes")
        else:
            if opcode > OP_BINARY:
                self._fail(1002, "unknown opcode")
            if rsv & 0x30:
                self._fail(1002, "reserved bit RSV2 or RSV3 set")
            if opcode == OP_CONTINUATION:
                if self._msg_opcode == 0:
                    self._fail(1002, "continuation frame without a message to continue")
                if rsv:
                    self._fail(1002, "RSV1 set on a continuation frame")
            else:
                if self._msg_opcode != 0:
                    self._fail(1002, "new data frame inside a fragmented message")
                if rsv and self.deflate is None:
                    self._fail(1002, "RSV1 set but permessage-deflate was not negotiated")
        if len7 < 126:
            header_len = 6
            length = len7
        else:
            header_len = 8 if len7 == 126 else 14
            if avail < header_len - 4:
                return 0
            length = 0
            for i in range(2, header_len - 4):
                length = (length << 8) | p[i]
            if length >> 63:
                self._fail(1002, "frame length has its most significant bit set")
        # Both terms are below 2**63, so the sum cannot wrap; an idle message has _msg_wire 0.
        if opcode < OP_CLOSE and self._msg_wire + length > <unsigned long long>self.max_size:
            self._fail(1009, "message too big")
        if avail < header_len:
            return 0
        if opcode < OP_CLOSE:
            if opcode != OP_CONTINUATION:
                self._msg_opcode = opcode
                self._msg_compressed = rsv != 0
                self._msg_len = 0
                utf8_reset(&self._utf8)
            self._msg_wire += length
        else:
            self._ctl_len = 0
        memcpy(self._mask, p + header_len - 4, 4)
        self._pos += header_len
        self._opcode = opcode
        self._fin = (p[0] & FIN) != 0
        self._remaining = length
        self._mask_offset = 0
        self._state = STATE_PAYLOAD
        return 1

    cdef object _read_payload(self):
        """Consume payload bytes: an event once the frame completes one, NEED_DATA when bytes
        are missing, None when a frame completed without an event (a non-final fragment)."""
        cdef Py_ssize_t avail = self._end - self._pos
        cdef Py_ssize_t take
        cdef const uint8_t *src = self._data + self._pos
        if self._remaining <= <unsigned long long>avail:
            take = <Py_ssize_t>self._remaining
            if (self._mask_offset == 0 and self._fin and self._opcode != OP_CONTINUATION
                    and self._opcode < OP_CLOSE and not self._msg_compressed):
                return self._read_whole_frame(take)
        else:
            take = avail
        if self._opcode >= OP_CLOSE:
            unmask(self._ctl + self._ctl_len, src, take, self._mask, self._mask_offset)
            self._ctl_len += take
        elif self._msg_compressed:
            self._append_compressed(
                src, take, self._fin and <unsigned long long>take == self._remaining)
        else:
            self._append_plain(src, take)
        self._pos += take
        self._remaining -= take
        self._mask_offset += take
        if self._remaining:
            return NEED_DATA
        self._state = STATE_HEADER
        if self._opcode >= OP_CLOSE:
            return self._finish_control()
        if self._fin:
            return self._finish_message()
        return None

    cdef object _read_whole_frame(self, Py_ssize_t n):
        """The fast path: an unfragmented, uncompressed message whose payload is all here."""
        cdef const uint8_t *src = self._data + self._pos
        cdef object result
        if self._opcode == OP_BINARY:
            result = PyBytes_FromStringAndSize(NULL, n)
            unmask(<uint8_t *>PyBytes_AS_STRING(result), src, n, self._mask, 0)
        else:
            self._reserve(n)
            unmask(self._msg, src, n, self._mask, 0)
            if utf8_scan(&self._utf8, self._msg, n) >= 0 or self._utf8.need:
                self._fail(1007, "invalid UTF-8 in a text message")
            result = PyUnicode_DecodeUTF8(<char *>self._msg, n, NULL)
        self._pos += n
        self._state = STATE_HEADER
        self._release_message()
        return result

    cdef int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need = self._msg_len + extra
        cdef Py_ssize_t cap
        cdef uint8_t *grown
        if need <= self._msg_cap:
            return 0
        cap = self._msg_cap * 2 if self._msg_cap else 1024
        if cap > self.max_size:
            cap = self.max_size
        if cap < need:
            cap = need
        grown = <uint8_t *>PyMem_Realloc(self._msg, cap)
        if grown == NULL:
            raise MemoryError()
        self._msg = grown
        self._msg_cap = cap
        return 0

    cdef int _append_plain(self, const uint8_t *src, Py_ssize_t n) except -1:
        cdef uint8_t *dst
        self._reserve(n)
        dst = self._msg + self._msg_len
        unmask(dst, src, n, self._mask, self._mask_offset)
        if self._msg_opcode == OP_TEXT:
            self._check_text(dst, n)
        self._msg_len += n
        return 0

    cdef int _append_compressed(self, const uint8_t *src, Py_ssize_t n, bint last) except -1:
        """Unmask a piece of compressed payload and inflate it; the last piece of the message
        gets the 00 00 ff ff the sender stripped (RFC 7692 §7.2.2) in the same call."""
        cdef bytes chunk
        cdef uint8_t *dst
        if n == 0 and not last:
            return 0
        chunk = PyBytes_FromStringAndSize(NULL, n + 4 if last else n)
        dst = <uint8_t *>PyBytes_AS_STRING(chunk)
        unmask(dst, src, n, self._mask, self._mask_offset)
        if last:
            memcpy(dst + n, b"\x00\x00\xff\xff", 4)
        return self._inflate(chunk)

    cdef int _inflate(self, bytes chunk) except -1:
        """Inflate a piece of the compressed message into the message buffer, never producing
        more than max_size bytes in all: a small message cannot expand past the limit."""
        cdef Py_ssize_t room = self.max_size - self._msg_len
        cdef Py_ssize_t n
        cdef bytes out
        try:
            # Asking for one byte more than fits tells "exactly full" from "too big".
            out = self._deflate_streams.inflate(chunk, room + 1)
        except zlib.error:
            self._fail(1007, "invalid compressed data")
        n = PyBytes_GET_SIZE(out)
        if n > room:
            self._fail(1009, "message too big")
        if n:
            self._reserve(n)
            memcpy(self._msg + self._msg_len, PyBytes_AS_STRING(out), n)
            if self._msg_opcode == OP_TEXT:
                self._check_text(self._msg + self._msg_len, n)
            self._msg_len += n
        return 0

    cdef int _check_text(self, const uint8_t *s, Py_ssize_t n) except -1:
        if utf8_scan(&self._utf8, s, n) >= 0:
            self._fail(1007, "invalid UTF-8 in a text message")
        return 0

    cdef object _finish_message(self):
        cdef object result
        if self._msg_compressed:
            self._deflate_streams.end_message()
        if self._msg_opcode == OP_TEXT:
            if self._utf8.need:
                self._fail(1007, "text message ends inside a UTF-8 sequence")
            result = PyUnicode_DecodeUTF8(<char *>self._msg, self._msg_len, NULL)
        else:
            result = PyBytes_FromStringAndSize(<char *>self._msg, self._msg_len)
        self._release_message()
        return result

    cdef int _release_message(self) except -1:
        self._msg_opcode = 0
        self._msg_compressed = False
        self._msg_wire = 0
        self._msg_len = 0
        if self._msg_cap > KEEP_MESSAGE_CAPACITY:
            PyMem_Free(self._msg)
            self._msg = NULL
            self._msg_cap = 0
        return 0

    cdef object _finish_control(self):
        cdef bytes payload
        if self._opcode == OP_CLOSE:
            return self._received_close()
        payload = PyBytes_FromStringAndSize(<char *>self._ctl, self._ctl_len)
        if self._opcode == OP_PONG:
            return Pong(payload)
        if not self.close_sent:
            self._pending_pong = self._frame(FIN | OP_PONG, self._ctl, self._ctl_len)
        return Ping(payload)

    cdef object _received_close(self):
        """RFC 6455 §5.5.1, §7.4: check the close payload, answer it, stop reading."""
        cdef Py_ssize_t n = self._ctl_len
        cdef int code = 1005                # §7.1.5: "no status code was actually present"
        cdef str reason = ""
        cdef Utf8State st
        if n == 1:
            self._fail(1002, "close frame payload of one byte")
        if n >= 2:
            code = (self._ctl[0] << 8) | self._ctl[1]
            if not close_code_allowed(code):
                self._fail(1002, "invalid close code")
            utf8_reset(&st)
            if utf8_scan(&st, self._ctl + 2, n - 2) >= 0 or st.need:
                self._fail(1007, "invalid UTF-8 in the close reason")
            reason = PyUnicode_DecodeUTF8(<char *>self._ctl + 2, n - 2, NULL)
        self.close_received = True
        if not self.close_sent:
            # Echo the code, not the reason; an empty close is answered with an empty one.
            self._pending_close = self._frame(FIN | OP_CLOSE, self._ctl, 2 if n else 0)
            self.close_sent = True
        self._state = STATE_CLOSED
        self._buf = None
        self._pos = self._end = 0
        self._release_message()
        return Close(code, reason)

    # --- output -------------------------------------------------------------------------------

    cdef int _check_can_send(self) except -1:
        if self.close_sent:
            raise WebSocketClosed("the close frame was already sent")
        return 0

    cpdef bytes encode_text(self, str data):
        """One text message as one frame: header and payload in one bytes object."""
        cdef Py_ssize_t n
        cdef const char *s
        self._check_can_send()
        if self.deflate is not None:
            return self._compress(FIN | RSV1 | OP_TEXT, data.encode("utf-8"))
        # NOTE: for an ASCII str this is a pointer to its own storage, no copy; any other str
        # keeps the UTF-8 copy CPython caches on it until the str is freed.
        s = PyUnicode_AsUTF8AndSize(data, &n)
        return self._frame(FIN | OP_TEXT, <const uint8_t *>s, n)

    cpdef bytes encode_binary(self, data):
        """One binary message (any bytes-like object) as one frame."""
        self._check_can_send()
        if type(data) is not bytes:
            data = bytes(data)
        if self.deflate is not None:
            return self._compress(FIN | RSV1 | OP_BINARY, data)
        return self._frame(FIN | OP_BINARY, <const uint8_t *>PyBytes_AS_STRING(data),
                           PyBytes_GET_SIZE(data))

    cpdef bytes encode_ping(self, data=b""):
        return self._control(FIN | OP_PING, data)

    cpdef bytes encode_pong(self, data=b""):
        return self._control(FIN | OP_PONG, data)

    cdef bytes _control(self, int first_byte, data):
        self._check_can_send()
        if type(data) is not bytes:
            data = bytes(data)
        if PyBytes_GET_SIZE(data) > MAX_CONTROL_PAYLOAD:
            raise ValueError("a control frame carries at most 125 bytes")
        return self._frame(first_byte, <const uint8_t *>PyBytes_AS_STRING(data),
                           PyBytes_GET_SIZE(data))

    cpdef bytes encode_close(self, int code=1000, str reason=""):
        """The close frame; nothing may be encoded after it. A pong not yet taken from
        data_to_send() is dropped, since it would follow the close."""
        self._check_can_send()
        if not close_code_allowed(code):
            raise ValueError(f"close code {code} may not be sent")
        frame = self._close_frame(code, reason)
        self._pending_pong = None
        self.close_sent = True
        return frame

    cdef bytes _close_frame(self, int code, str reason):
        cdef bytes encoded = reason.encode("utf-8")
        cdef uint8_t payload[MAX_CONTROL_PAYLOAD]
        cdef Py_ssize_t n = PyBytes_GET_SIZE(encoded)
        if n > MAX_CONTROL_PAYLOAD - 2:
            raise ValueError("a close reason is at most 123 bytes of UTF-8")
        payload[0] = code >> 8
        payload[1] = code & 0xFF
        memcpy(payload + 2, PyBytes_AS_STRING(encoded), n)
        return self._frame(FIN | OP_CLOSE, payload, n + 2)

    cdef bytes _compress(self, int first_byte, object payload):
        """RFC 7692 §7.2.1: deflate, sync-flush, and drop the 00 00 ff ff the flush ends with."""
        cdef bytes head = self._deflate_streams.compress(payload)
        cdef bytes tail = self._deflate_streams.flush()
        cdef bytes out
        cdef Py_ssize_t n_head, n_tail
        n_head = PyBytes_GET_SIZE(head)
        n_tail = PyBytes_GET_SIZE(tail) - 4
        if n_head == 0:
            return self._frame(first_byte, <const uint8_t *>PyBytes_AS_STRING(tail), n_tail)
        # NOTE: both pieces go straight into the frame, without joining them first.
        out = self._frame(first_byte, NULL, n_head + n_tail)
        memcpy(PyBytes_AS_STRING(out) + PyBytes_GET_SIZE(out) - n_head - n_tail,
               PyBytes_AS_STRING(head), n_head)
        memcpy(PyBytes_AS_STRING(out) + PyBytes_GET_SIZE(out) - n_tail,
               PyBytes_AS_STRING(tail), n_tail)
        return out

    cdef bytes _frame(self, int first_byte, const uint8_t *payload, Py_ssize_t n):
        """Header and payload in one new bytes object; server frames are not masked. A NULL
        payload leaves the payload bytes for the caller to fill."""
        cdef Py_ssize_t header_len = 2 if n < 126 else (4 if n < 65536 else 10)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, header_len + n)
        cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(out)
        cdef int i
        p[0] = first_byte
        if n < 126:
            p[1] = n
        elif n < 65536:
            p[1] = 126
            p[2] = n >> 8
            p[3] = n & 0xFF
        else:
            p[1] = 127
            for i in range(8):
                p[9 - i] = (n >> (8 * i)) & 0xFF
        if payload != NULL:
            memcpy(p + header_len, payload, n)
        return out
