# cython: language_level=3
"""Interface of the HTTP/2 frame layer (RFC 9113 §4, §6), for Cython callers."""

from libc.stdint cimport uint8_t, uint32_t


cpdef enum FrameType:                       # §6, §11.2
    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9


cpdef enum ErrorCode:                       # §7
    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD


cpdef enum SettingCode:                     # §6.5.2, RFC 8441 §3, RFC 9218 §2.1
    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8
    NO_RFC7540_PRIORITIES = 0x9


cdef enum:
    FRAME_HEADER_SIZE = 9
    FLAG_END_STREAM = 0x1                   # DATA, HEADERS
    FLAG_ACK = 0x1                          # SETTINGS, PING
    FLAG_END_HEADERS = 0x4                  # HEADERS, PUSH_PROMISE, CONTINUATION
    FLAG_PADDED = 0x8                       # DATA, HEADERS, PUSH_PROMISE
    FLAG_PRIORITY = 0x20                    # HEADERS
    MIN_MAX_FRAME_SIZE = 16384              # §6.5.2 SETTINGS_MAX_FRAME_SIZE bounds
    MAX_MAX_FRAME_SIZE = 16777215
    MAX_WINDOW_SIZE = 0x7FFFFFFF


# The reader returns one of these final classes per frame. A connection dispatches with
# `type(frame) is DataFrame`, which Cython compiles to a pointer comparison. (A common base
# class would cost the freelists: Cython keeps them only on base types.)

cdef class DataFrame:
    cdef readonly uint32_t stream_id
    cdef readonly bytes data                # padding removed
    cdef readonly bint end_stream
    cdef readonly uint32_t flow_controlled_length   # the whole payload, padding included (§6.1)


cdef class HeadersFrame:
    cdef readonly uint32_t stream_id
    cdef readonly bytes block               # field block fragment; padding, priority removed
    cdef readonly bint end_stream
    cdef readonly bint end_headers


cdef class PriorityFrame:
    cdef readonly uint32_t stream_id
    cdef readonly uint32_t depends_on
    cdef readonly int weight                # 1..256 (the octet on the wire plus one)
    cdef readonly bint exclusive


cdef class RstStreamFrame:
    cdef readonly uint32_t stream_id
    cdef readonly uint32_t error_code       # any value: unknown codes are not errors (§7)


cdef class SettingsFrame:
    cdef readonly uint32_t stream_id
    cdef readonly bint ack
    cdef readonly list settings             # (identifier, value) pairs in wire order (§6.5.3)


cdef class PushPromiseFrame:
    cdef readonly uint32_t stream_id
    cdef readonly uint32_t promised_stream_id
    cdef readonly bytes block
    cdef readonly bint end_headers


cdef class PingFrame:
    cdef readonly uint32_t stream_id
    cdef readonly bint ack
    cdef readonly bytes opaque_data


cdef class GoAwayFrame:
    cdef readonly uint32_t stream_id
    cdef readonly uint32_t last_stream_id
    cdef readonly uint32_t error_code
    cdef readonly bytes debug_data


cdef class WindowUpdateFrame:
    cdef readonly uint32_t stream_id
    cdef readonly uint32_t increment


cdef class ContinuationFrame:
    cdef readonly uint32_t stream_id
    cdef readonly bytes block
    cdef readonly bint end_headers


cdef class FrameReader:
    cdef readonly uint32_t max_frame_size   # our SETTINGS_MAX_FRAME_SIZE

    # input: self._buf[self._pos:self._end] has not been consumed yet
    cdef object _buf                        # bytes as fed, or a bytearray holding leftovers
    cdef const uint8_t *_data
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _end

    cdef Py_ssize_t _preface_seen           # octets of the client preface matched so far
    cdef bint _settings_due                 # the preface's SETTINGS frame has not come yet
    cdef uint32_t _open_block_stream        # a field block awaits CONTINUATION on it, or 0
    cdef object _error                      # the H2ConnectionError raised, once failed

    cpdef feed(self, data)
    cpdef object next_frame(self)
    cpdef set_max_frame_size(self, uint32_t size)
    cdef int _check_preface(self) except -1
    cdef object _need_data(self)
    cdef object _fail(self, ErrorCode code, str message)
    cdef object _parse(self, uint8_t frame_type, uint8_t flags, uint32_t stream_id,
                       const uint8_t *p, Py_ssize_t n)
    cdef Py_ssize_t _unpad(self, uint8_t flags, const uint8_t *p, Py_ssize_t n,
                           Py_ssize_t fixed) except -1
    cdef object _settings(self, uint8_t flags, uint32_t stream_id, const uint8_t *p,
                          Py_ssize_t n)
