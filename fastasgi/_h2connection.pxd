# cython: language_level=3
"""Interface of the sans-I/O HTTP/2 server connection (RFC 9113 §5, §6.5, §6.9, §8)."""

from fastasgi._h2frames cimport FrameReader
from fastasgi._hpack cimport Decoder, Encoder


cpdef enum StreamState:                     # §5.1; idle and closed streams are not stored
    OPEN = 1
    HALF_CLOSED_REMOTE = 2
    HALF_CLOSED_LOCAL = 3


cdef class H2Settings:
    cdef readonly unsigned int max_concurrent_streams
    cdef readonly unsigned int initial_window_size
    cdef readonly unsigned int max_frame_size
    cdef readonly unsigned int max_header_list_size
    cdef readonly unsigned int max_resets           # client RST_STREAMs (and stream errors) ...
    cdef readonly double reset_window               # ... allowed per this many seconds
    cdef readonly unsigned int max_control_frames   # SETTINGS/PING/PRIORITY/empty frames ...
    cdef readonly double control_window             # ... allowed per this many seconds


cdef class _RateLimit:
    # A sliding window: the times of the last `limit` hits, oldest at `_next`.
    cdef unsigned int _limit
    cdef double _window
    cdef list _times
    cdef Py_ssize_t _next

    cdef bint exceeded(self, double now)


cdef class _Stream:
    cdef StreamState state
    cdef long long outbound_window          # may go negative after a SETTINGS change (§6.9.2)
    cdef long long inbound_window
    cdef long long unacknowledged           # received, not yet given back by the application
    cdef bint request_seen                  # RequestReceived was emitted


cdef class H2Connection:
    cdef readonly H2Settings settings
    cdef readonly bint closed               # after a connection error or close(error)
    cdef readonly unsigned int last_stream_id
    cdef FrameReader _reader
    cdef Decoder _decoder
    cdef Encoder _encoder
    cdef object _clock
    cdef bytearray _out
    cdef list _events
    cdef dict _streams                      # stream id -> _Stream, open or half-closed
    cdef dict _reset_by_us                  # recent ids we reset: their late frames are ignored
    cdef bint _going_away                   # we sent GOAWAY: new streams are ignored
    cdef long long _outbound_window         # connection windows (§6.9.1)
    cdef long long _inbound_window
    cdef long long _unacknowledged
    cdef long long _peer_initial_window
    cdef long long _local_initial_window    # 65535 until our SETTINGS are acknowledged
    cdef unsigned int _peer_max_frame_size
    cdef unsigned int _settings_unacked
    # the field block being assembled from HEADERS + CONTINUATION
    cdef unsigned int _block_stream
    cdef list _block_parts
    cdef Py_ssize_t _block_len
    cdef bint _block_end_stream
    cdef bint _block_discard                # its stream was already reset: decode only
    cdef _RateLimit _resets
    cdef _RateLimit _control

    cdef int _handle(self, frame) except -1
    cdef int _on_headers(self, frame, bint discard=*) except -1
    cdef int _on_block(self) except -1
    cdef int _on_data(self, frame) except -1
    cdef int _on_settings(self, frame) except -1
    cdef int _apply_peer_settings(self, list pairs) except -1
    cdef int _on_window_update(self, frame) except -1
    cdef int _on_rst_stream(self, frame) except -1
    cdef int _stream_error(self, unsigned int stream_id, unsigned int code) except -1
    cdef int _on_stream_error(self, exc) except -1
    cdef int _respond_and_reset(self, unsigned int stream_id, bytes status,
                                bint request_ended) except -1
    cdef int _connection_error(self, unsigned int code, str message) except -1
    cdef int _check_calm(self, _RateLimit limit, str what) except -1
    cdef _Stream _stream(self, unsigned int stream_id)
    cdef int _close_remote(self, unsigned int stream_id, _Stream stream) except -1
    cdef int _close_local(self, unsigned int stream_id, _Stream stream) except -1
    cdef int _give_back_connection(self, long long length) except -1
    cdef int _acknowledge_connection(self, long long n) except -1
    cdef int _forget_reset(self, unsigned int stream_id) except -1
