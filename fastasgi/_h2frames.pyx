# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Sans-I/O HTTP/2 frame layer (RFC 9113 §3.4, §4, §6): a frame reader and frame serializers.

The I/O layer feeds what the socket delivered (``FrameReader.feed``) and pulls frames
(``next_frame``, None when more bytes are needed). Each frame is a small object of a final
class per frame type, with typed fields; a connection dispatches on its class. The
``encode_*`` functions turn what the connection wants to send into bytes. Stream and
connection state (RFC 9113 §5) live in the connection, not here.

Invariants:
- Any split of the input yields the same frames: a frame is parsed only once all of it is
  buffered, and the client preface is matched octet by octet as it arrives.
- Every rule of §6 that one frame (or the order of frames, for the preface's SETTINGS and for
  CONTINUATION) can break is checked here, before the frame is returned. A violation raises
  ``H2ConnectionError`` (answer GOAWAY with ``code``; the reader is dead from then on and
  raises it again) or ``H2StreamError`` (answer RST_STREAM on ``stream_id``; the frame was
  consumed, is attached as ``frame`` when it carries a field block the HPACK decoder still
  has to see, and reading goes on).
- Bounds: a frame header announcing more than ``max_frame_size`` octets fails at once (§4.2),
  so once ``next_frame`` has returned None the reader holds less than one frame of
  ``max_frame_size + 9`` octets (the unconsumed tail is copied out of the fed chunk, which is
  not kept). Frames of unknown type are dropped (§4.1, §5.5).

Bounds and wraparound checks are off: every read is within a payload whose whole length was
checked to be buffered, and each frame type's fixed fields are checked against that length.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint32_t
from libc.string cimport memcpy

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"                       # §3.4
cdef const uint8_t *_PREFACE = <const uint8_t *>b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
cdef enum:
    PREFACE_SIZE = 24

# RFC 9113 deprecates priority signals but keeps their fields; the one rule about them that a
# frame alone can break is RFC 7540 §5.3.1's.
cdef str _SELF_DEPENDENCY = "stream depends on itself (RFC 7540 §5.3.1)"


class H2Error(Exception):
    """A peer broke RFC 9113; ``code`` is the ErrorCode to answer with."""

    def __init__(self, code, message, stream_id=0, frame=None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.stream_id = stream_id
        self.frame = frame

    def __str__(self):
        return f"{self.code.name}: {self.args[0]}"


class H2ConnectionError(H2Error):
    """A connection error (§5.4.1): send GOAWAY with ``code`` and close."""


class H2StreamError(H2Error):
    """A stream error (§5.4.2): send RST_STREAM with ``code`` on ``stream_id``. ``frame`` is
    the offending frame when the connection must still see it, else None: a HEADERS, whose
    field block must reach the HPACK decoder; a WINDOW_UPDATE, whose stream may be idle, where
    it is a connection error instead (§5.1)."""


# --- frames -----------------------------------------------------------------------------------

cdef str _describe(frame):
    fields = "".join(f", {name}={getattr(frame, name)!r}" for name in frame._FIELDS)
    return f"{type(frame).__name__}(stream_id={frame.stream_id}{fields})"


@cython.final
@cython.freelist(16)
cdef class DataFrame:
    _FIELDS = ("data", "end_stream", "flow_controlled_length")

    def __repr__(self):
        return _describe(self)


@cython.final
@cython.freelist(8)
cdef class HeadersFrame:
    _FIELDS = ("block", "end_stream", "end_headers")

    def __repr__(self):
        return _describe(self)


@cython.final
cdef class PriorityFrame:
    _FIELDS = ("depends_on", "weight", "exclusive")

    def __repr__(self):
        return _describe(self)


@cython.final
cdef class RstStreamFrame:
    _FIELDS = ("error_code",)

    def __repr__(self):
        return _describe(self)


@cython.final
cdef class SettingsFrame:
    _FIELDS = ("ack", "settings")

    def __repr__(self):
        return _describe(self)


@cython.final
cdef class PushPromiseFrame:
    _FIELDS = ("promised_stream_id", "block", "end_headers")

    def __repr__(self):
        return _describe(self)


@cython.final
cdef class PingFrame:
    _FIELDS = ("ack", "opaque_data")

    def __repr__(self):
        return _describe(self)


@cython.final
cdef class GoAwayFrame:
    _FIELDS = ("last_stream_id", "error_code", "debug_data")

    def __repr__(self):
        return _describe(self)


@cython.final
@cython.freelist(16)
cdef class WindowUpdateFrame:
    _FIELDS = ("increment",)

    def __repr__(self):
        return _describe(self)


@cython.final
@cython.freelist(4)
cdef class ContinuationFrame:
    _FIELDS = ("block", "end_headers")

    def __repr__(self):
        return _describe(self)


cdef inline uint32_t _u32(const uint8_t *p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef inline uint32_t _u31(const uint8_t *p) noexcept nogil:
    # The reserved high bit of stream identifiers and increments is ignored on receipt (§4.1).
    return _u32(p) & 0x7FFFFFFF


cdef inline bytes _bytes(const uint8_t *p, Py_ssize_t n):
    return PyBytes_FromStringAndSize(<const char *>p, n)


cdef inline bytearray _tail(const uint8_t *p, Py_ssize_t n):
    return PyByteArray_FromStringAndSize(<const char *>p, n)


# --- reader -----------------------------------------------------------------------------------

@cython.final
cdef class FrameReader:
    def __init__(self, uint32_t max_frame_size=MIN_MAX_FRAME_SIZE, *, bint expect_preface=True):
        """``expect_preface``: the peer is a client, whose bytes start with the connection
        preface and a SETTINGS frame (§3.4)."""
        self.set_max_frame_size(max_frame_size)
        self._buf = b""
        self._preface_seen = 0 if expect_preface else PREFACE_SIZE
        self._settings_due = expect_preface

    cpdef set_max_frame_size(self, uint32_t size):
        """Apply our SETTINGS_MAX_FRAME_SIZE (once the peer acknowledged it)."""
        if not MIN_MAX_FRAME_SIZE <= size <= MAX_MAX_FRAME_SIZE:
            raise ValueError("max_frame_size must be between 16384 and 16777215 (§6.5.2)")
        self.max_frame_size = size

    @property
    def buffered(self):
        """Octets fed but not consumed yet."""
        return self._end - self._pos

    cpdef feed(self, data):
        cdef Py_ssize_t n = len(data)
        if self._error is not None:
            raise self._error
        if n == 0:
            return None
        if self._pos == self._end:
            # NOTE: the common case, whole frames per read, parses straight from the caller's
            # bytes without copying them.
            self._buf = data if type(data) is bytes else bytes(data)
            self._data = <const uint8_t *>PyBytes_AS_STRING(self._buf)
            self._pos = 0
            self._end = n
            return None
        if type(self._buf) is bytearray:
            del self._buf[:self._pos]
            self._buf += data
        else:
            self._buf = _tail(self._data + self._pos, self._end - self._pos) + data
        self._data = <const uint8_t *>PyByteArray_AS_STRING(self._buf)
        self._pos = 0
        self._end = len(self._buf)

    cpdef object next_frame(self):
        """The next complete frame, or None until more bytes are fed."""
        cdef const uint8_t *h
        cdef Py_ssize_t length
        cdef uint8_t frame_type, flags
        cdef uint32_t stream_id
        cdef object frame
        if self._error is not None:
            raise self._error
        if self._preface_seen < PREFACE_SIZE:
            self._check_preface()
            if self._preface_seen < PREFACE_SIZE:
                return self._need_data()
        while self._end - self._pos >= FRAME_HEADER_SIZE:
            h = self._data + self._pos
            length = (<Py_ssize_t>h[0] << 16) | (h[1] << 8) | h[2]
            frame_type = h[3]
            flags = h[4]
            stream_id = _u31(h + 5)
            # What the header alone shows is checked before waiting for the payload.
            if length > self.max_frame_size:
                self._fail(FRAME_SIZE_ERROR, "frame larger than SETTINGS_MAX_FRAME_SIZE")
            if self._settings_due and (frame_type != SETTINGS or flags & FLAG_ACK):
                self._fail(PROTOCOL_ERROR, "the connection preface must end with SETTINGS")
            # §6.2, §6.10: a field block is a contiguous run of frames on one stream.
            if self._open_block_stream:
                if frame_type != CONTINUATION or stream_id != self._open_block_stream:
                    self._fail(PROTOCOL_ERROR, "field block interrupted before END_HEADERS")
            elif frame_type == CONTINUATION:
                self._fail(PROTOCOL_ERROR, "CONTINUATION without an open field block")
            if self._end - self._pos < FRAME_HEADER_SIZE + length:
                break
            self._pos += FRAME_HEADER_SIZE + length
            self._settings_due = False
            frame = self._parse(frame_type, flags, stream_id, h + FRAME_HEADER_SIZE, length)
            if frame is not None:
                return frame
        return self._need_data()

    cdef object _need_data(self):
        # Keep only the unconsumed tail, so that what stays buffered between reads is under
        # one frame even when the caller fed a large chunk. The next feed() would copy the tail
        # anyway; doing it here costs nothing more.
        if self._pos == self._end:
            self._buf = b""
            self._pos = self._end = 0
        elif self._pos:
            self._buf = _tail(self._data + self._pos, self._end - self._pos)
            self._data = <const uint8_t *>PyByteArray_AS_STRING(self._buf)
            self._end -= self._pos
            self._pos = 0
        return None

    cdef int _check_preface(self) except -1:
        cdef Py_ssize_t n = min(self._end - self._pos, PREFACE_SIZE - self._preface_seen)
        cdef Py_ssize_t i
        for i in range(n):
            if self._data[self._pos + i] != _PREFACE[self._preface_seen + i]:
                self._fail(PROTOCOL_ERROR, "invalid connection preface")
        self._preface_seen += n
        self._pos += n
        return 0

    cdef object _fail(self, ErrorCode code, str message):
        self._error = H2ConnectionError(code, message)
        raise self._error

    cdef object _parse(self, uint8_t frame_type, uint8_t flags, uint32_t stream_id,
                       const uint8_t *p, Py_ssize_t n):
        cdef Py_ssize_t body, fixed, offset = 1 if flags & FLAG_PADDED else 0
        cdef uint32_t dependency
        cdef DataFrame data
        cdef HeadersFrame headers
        cdef PriorityFrame priority
        cdef RstStreamFrame rst
        cdef PushPromiseFrame promise
        cdef PingFrame ping
        cdef GoAwayFrame goaway
        cdef WindowUpdateFrame update
        cdef ContinuationFrame continuation
        if frame_type > CONTINUATION:
            return None
        # §6.5, §6.7, §6.8 concern the connection; §6.1-§6.4, §6.6, §6.10 a stream; a
        # WINDOW_UPDATE either (§6.9).
        if frame_type in (SETTINGS, PING, GOAWAY):
            if stream_id:
                self._fail(PROTOCOL_ERROR, f"{FrameType(frame_type).name} on a stream")
        elif frame_type != WINDOW_UPDATE and not stream_id:
            self._fail(PROTOCOL_ERROR, f"{FrameType(frame_type).name} on stream 0")

        if frame_type == DATA:                                          # §6.1
            body = self._unpad(flags, p, n, 0)
            data = DataFrame.__new__(DataFrame)
            data.stream_id = stream_id
            data.data = _bytes(p + offset, body)
            data.end_stream = flags & FLAG_END_STREAM
            data.flow_controlled_length = n
            return data
        if frame_type == HEADERS:                                       # §6.2
            fixed = 5 if flags & FLAG_PRIORITY else 0
            body = self._unpad(flags, p, n, fixed)
            headers = HeadersFrame.__new__(HeadersFrame)
            headers.stream_id = stream_id
            headers.block = _bytes(p + offset + fixed, body)
            headers.end_stream = flags & FLAG_END_STREAM
            headers.end_headers = flags & FLAG_END_HEADERS
            if not headers.end_headers:
                self._open_block_stream = stream_id
            if fixed and _u31(p + offset) == stream_id:
                raise H2StreamError(PROTOCOL_ERROR, _SELF_DEPENDENCY, stream_id, headers)
            return headers
        if frame_type == PRIORITY:                                      # §6.3
            if n != 5:
                raise H2StreamError(FRAME_SIZE_ERROR, "PRIORITY length is not 5", stream_id)
            dependency = _u31(p)
            if dependency == stream_id:
                raise H2StreamError(PROTOCOL_ERROR, _SELF_DEPENDENCY, stream_id)
            priority = PriorityFrame.__new__(PriorityFrame)
            priority.stream_id = stream_id
            priority.depends_on = dependency
            priority.exclusive = p[0] >> 7
            priority.weight = p[4] + 1
            return priority
        if frame_type == RST_STREAM:                                    # §6.4
            if n != 4:
                self._fail(FRAME_SIZE_ERROR, "RST_STREAM length is not 4")
            rst = RstStreamFrame.__new__(RstStreamFrame)
            rst.stream_id = stream_id
            rst.error_code = _u32(p)
            return rst
        if frame_type == SETTINGS:
            return self._settings(flags, stream_id, p, n)
        if frame_type == PUSH_PROMISE:                                  # §6.6
            body = self._unpad(flags, p, n, 4)
            promise = PushPromiseFrame.__new__(PushPromiseFrame)
            promise.stream_id = stream_id
            promise.promised_stream_id = _u31(p + offset)
            promise.block = _bytes(p + offset + 4, body)
            promise.end_headers = flags & FLAG_END_HEADERS
            if not promise.end_headers:
                self._open_block_stream = stream_id
            return promise
        if frame_type == PING:                                          # §6.7
            if n != 8:
                self._fail(FRAME_SIZE_ERROR, "PING length is not 8")
            ping = PingFrame.__new__(PingFrame)
            ping.stream_id = 0
            ping.ack = flags & FLAG_ACK
            ping.opaque_data = _bytes(p, 8)
            return ping
        if frame_type == GOAWAY:                                        # §6.8
            if n < 8:
                self._fail(FRAME_SIZE_ERROR, "GOAWAY shorter than 8 octets")
            goaway = GoAwayFrame.__new__(GoAwayFrame)
            goaway.stream_id = 0
            goaway.last_stream_id = _u31(p)
            goaway.error_code = _u32(p + 4)
            goaway.debug_data = _bytes(p + 8, n - 8)
            return goaway
        if frame_type == WINDOW_UPDATE:                                 # §6.9
            if n != 4:
                self._fail(FRAME_SIZE_ERROR, "WINDOW_UPDATE length is not 4")
            update = WindowUpdateFrame.__new__(WindowUpdateFrame)
            update.stream_id = stream_id
            update.increment = _u31(p)
            if update.increment == 0:
                if not stream_id:
                    self._fail(PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection")
                raise H2StreamError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0", stream_id, update)
            return update
        # CONTINUATION (§6.10); its place in the sequence was checked by next_frame().
        continuation = ContinuationFrame.__new__(ContinuationFrame)
        continuation.stream_id = stream_id
        continuation.block = _bytes(p, n)
        continuation.end_headers = flags & FLAG_END_HEADERS
        if continuation.end_headers:
            self._open_block_stream = 0
        return continuation

    cdef Py_ssize_t _unpad(self, uint8_t flags, const uint8_t *p, Py_ssize_t n,
                           Py_ssize_t fixed) except -1:
        """The length of what remains of a payload of ``n`` octets once the Pad Length octet,
        ``fixed`` octets of other fields and the padding are taken away."""
        cdef Py_ssize_t pad = 0
        if flags & FLAG_PADDED:
            if n < 1:
                self._fail(FRAME_SIZE_ERROR, "padded frame without a Pad Length")
            pad = p[0]
            n -= 1
        if n < fixed:
            self._fail(FRAME_SIZE_ERROR, "frame too short for its fields")
        # §6.1, §6.2, §6.6: padding as long as the rest of the payload or longer.
        if pad > n - fixed:
            self._fail(PROTOCOL_ERROR, "padding exceeds the frame payload")
        return n - fixed - pad

    cdef object _settings(self, uint8_t flags, uint32_t stream_id, const uint8_t *p,
                          Py_ssize_t n):
        cdef Py_ssize_t i
        cdef uint32_t identifier, value
        cdef list settings = []
        cdef SettingsFrame frame
        if flags & FLAG_ACK:
            if n:
                self._fail(FRAME_SIZE_ERROR, "SETTINGS acknowledgement with a payload")
        elif n % 6:
            self._fail(FRAME_SIZE_ERROR, "SETTINGS length is not a multiple of 6")
        for i in range(0, n, 6):
            identifier = (p[i] << 8) | p[i + 1]
            value = _u32(p + i + 2)
            # §6.5.2 value ranges; RFC 8441 §3 and RFC 9218 §2.1 for the two boolean settings.
            if identifier in (ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL, NO_RFC7540_PRIORITIES):
                if value > 1:
                    self._fail(PROTOCOL_ERROR, f"{SettingCode(identifier).name} not 0 or 1")
            elif identifier == INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW_SIZE:
                    self._fail(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2**31-1")
            elif identifier == MAX_FRAME_SIZE:
                if not MIN_MAX_FRAME_SIZE <= value <= MAX_MAX_FRAME_SIZE:
                    self._fail(PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range")
            settings.append((identifier, value))
        frame = SettingsFrame.__new__(SettingsFrame)
        frame.stream_id = 0
        frame.ack = flags & FLAG_ACK
        frame.settings = settings
        return frame


# --- serializers ------------------------------------------------------------------------------

cdef inline void _put_header(uint8_t *p, Py_ssize_t length, uint8_t frame_type, uint8_t flags,
                             uint32_t stream_id) noexcept nogil:
    p[0] = <uint8_t>(length >> 16)
    p[1] = <uint8_t>(length >> 8)
    p[2] = <uint8_t>length
    p[3] = frame_type
    p[4] = flags
    _put_u32(p + 5, stream_id)


cdef inline void _put_u32(uint8_t *p, uint32_t value) noexcept nogil:
    p[0] = <uint8_t>(value >> 24)
    p[1] = <uint8_t>(value >> 16)
    p[2] = <uint8_t>(value >> 8)
    p[3] = <uint8_t>value


cdef inline bytes _frame(uint8_t frame_type, uint8_t flags, uint32_t stream_id,
                         const uint8_t *payload, Py_ssize_t n):
    cdef bytes out = PyBytes_FromStringAndSize(NULL, FRAME_HEADER_SIZE + n)
    cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(out)
    _put_header(p, n, frame_type, flags, stream_id)
    if n:
        memcpy(p + FRAME_HEADER_SIZE, payload, n)
    return out


cdef inline int _check_stream_id(uint32_t stream_id) except -1:
    if stream_id > 0x7FFFFFFF:
        raise ValueError("stream identifiers are 31 bits")
    return 0


cpdef bytes encode_settings(settings):
    """A SETTINGS frame carrying ``settings``, (identifier, value) pairs in order."""
    cdef list pairs = list(settings)
    cdef bytes payload = PyBytes_FromStringAndSize(NULL, 6 * len(pairs))
    cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(payload)
    cdef uint32_t identifier, value
    for identifier, value in pairs:
        if identifier > 0xFFFF:
            raise ValueError("setting identifiers are 16 bits")
        p[0] = <uint8_t>(identifier >> 8)
        p[1] = <uint8_t>identifier
        _put_u32(p + 2, value)
        p += 6
    return _frame(SETTINGS, 0, 0, <const uint8_t *>PyBytes_AS_STRING(payload), len(payload))


cpdef bytes encode_settings_ack():
    return _frame(SETTINGS, FLAG_ACK, 0, NULL, 0)


cpdef bytes encode_headers(uint32_t stream_id, bytes block, bint end_stream,
                           uint32_t max_frame_size):
    """A HEADERS frame, followed by as many CONTINUATION frames as ``block`` needs at the
    peer's ``max_frame_size`` (§6.2, §6.10); END_HEADERS is on the last of them."""
    _check_stream_id(stream_id)
    if not stream_id or not MIN_MAX_FRAME_SIZE <= max_frame_size <= MAX_MAX_FRAME_SIZE:
        raise ValueError("HEADERS needs a stream and a valid max_frame_size")
    cdef Py_ssize_t n = len(block)
    cdef Py_ssize_t frames = max(1, (n + max_frame_size - 1) // max_frame_size)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, frames * FRAME_HEADER_SIZE + n)
    cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(out)
    cdef const uint8_t *src = <const uint8_t *>PyBytes_AS_STRING(block)
    cdef Py_ssize_t chunk, done = 0
    cdef uint8_t frame_type = HEADERS
    cdef uint8_t flags = FLAG_END_STREAM if end_stream else 0
    while True:
        chunk = min(n - done, <Py_ssize_t>max_frame_size)
        if done + chunk == n:
            flags |= FLAG_END_HEADERS
        _put_header(p, chunk, frame_type, flags, stream_id)
        memcpy(p + FRAME_HEADER_SIZE, src + done, chunk)
        p += FRAME_HEADER_SIZE + chunk
        done += chunk
        if done == n:
            return out
        frame_type = CONTINUATION
        flags = 0


cpdef bytes encode_data(uint32_t stream_id, data, bint end_stream):
    """One DATA frame; the caller keeps ``data`` within the peer's max frame size and the
    flow-control windows."""
    if data is None:
        raise TypeError("DATA payload must be a bytes-like object, not None")
    # NOTE: the buffer protocol by hand, not a typed memoryview: the one memoryview in the
    # module pulled in Cython's memoryview support, which doubled the C and its compile time.
    cdef Py_buffer view
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        _check_stream_id(stream_id)
        if not stream_id or view.len > MAX_MAX_FRAME_SIZE:
            raise ValueError("DATA needs a stream and at most 16777215 octets")
        return _frame(DATA, FLAG_END_STREAM if end_stream else 0, stream_id,
                      <const uint8_t *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)


cpdef bytes encode_ping(bytes opaque_data):
    if len(opaque_data) != 8:
        raise ValueError("PING carries 8 octets")
    return _frame(PING, 0, 0, <const uint8_t *>PyBytes_AS_STRING(opaque_data), 8)


cpdef bytes encode_ping_ack(bytes opaque_data):
    """The answer to a PING: its 8 octets, echoed (§6.7)."""
    if len(opaque_data) != 8:
        raise ValueError("PING carries 8 octets")
    return _frame(PING, FLAG_ACK, 0, <const uint8_t *>PyBytes_AS_STRING(opaque_data), 8)


cpdef bytes encode_goaway(uint32_t last_stream_id, uint32_t error_code,
                          bytes debug_data=b""):
    _check_stream_id(last_stream_id)
    cdef Py_ssize_t n = len(debug_data)
    if n > MIN_MAX_FRAME_SIZE - 8:
        raise ValueError("GOAWAY debug data must fit the smallest max frame size")
    cdef bytes out = PyBytes_FromStringAndSize(NULL, FRAME_HEADER_SIZE + 8 + n)
    cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(out)
    _put_header(p, 8 + n, GOAWAY, 0, 0)
    _put_u32(p + 9, last_stream_id)
    _put_u32(p + 13, error_code)
    memcpy(p + 17, PyBytes_AS_STRING(debug_data), n)
    return out


cpdef bytes encode_rst_stream(uint32_t stream_id, uint32_t error_code):
    cdef uint8_t payload[4]
    _check_stream_id(stream_id)
    if not stream_id:
        raise ValueError("RST_STREAM needs a stream")
    _put_u32(payload, error_code)
    return _frame(RST_STREAM, 0, stream_id, payload, 4)


cpdef bytes encode_window_update(uint32_t stream_id, uint32_t increment):
    cdef uint8_t payload[4]
    _check_stream_id(stream_id)
    if not 1 <= increment <= MAX_WINDOW_SIZE:
        raise ValueError("a window increment is 1 to 2**31-1 (§6.9)")
    _put_u32(payload, increment)
    return _frame(WINDOW_UPDATE, 0, stream_id, payload, 4)
