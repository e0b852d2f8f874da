# cython: language_level=3
"""Sans-I/O HTTP/2 connection, server side (RFC 9113 §5, §6.5, §6.9, §8).

The I/O layer passes what the socket delivered to ``receive_data`` and gets a list of events
(``RequestReceived``, ``DataReceived``, ``StreamReset``, ...); what the protocol owes the peer
collects in ``data_to_send()``. The application's responses go through ``send_headers`` and
``send_data``. Nothing here touches a socket; the only clock is the one passed in, read for
the flood bounds.

Invariants:
- Any split of the input gives the same events: frames are handled only once complete, and a
  field block only once its END_HEADERS arrives.
- Idle and closed streams are not stored: a client stream id at or below ``last_stream_id``
  that is not in the table is closed (client ids only grow, §5.1.1).
- A connection error sends GOAWAY, emits ConnectionTerminated(remote=False) and leaves the
  connection ``closed``: later input is dropped. A stream error sends RST_STREAM, emits
  StreamReset(remote=False) if the application knew the stream, and reading goes on.
- Bounds: at most max_concurrent_streams streams; a field block of at most
  max_header_list_size octets (a larger compressed block cannot decode to an allowed list:
  every field counts 32 octets beyond its name and value, RFC 7541 §4.1); inbound DATA never
  beyond the window we advertised, which only grows as the application acknowledges data;
  the ids of the last max_concurrent_streams streams we reset; and the flood limits' windows.
"""

cimport cython

import time

from fastasgi._h2frames cimport (
    CANCEL, COMPRESSION_ERROR, ENABLE_PUSH, ENHANCE_YOUR_CALM, FLOW_CONTROL_ERROR,
    HEADER_TABLE_SIZE, INITIAL_WINDOW_SIZE, MAX_CONCURRENT_STREAMS, MAX_FRAME_SIZE,
    MAX_HEADER_LIST_SIZE, MAX_WINDOW_SIZE, NO_ERROR, PROTOCOL_ERROR, REFUSED_STREAM,
    STREAM_CLOSED, ContinuationFrame, DataFrame, FrameReader, GoAwayFrame, HeadersFrame,
    PingFrame, PriorityFrame, PushPromiseFrame, RstStreamFrame, SettingsFrame,
    WindowUpdateFrame,
)
from fastasgi._h2events cimport (
    ConnectionTerminated, DataReceived, PingAcked, RequestReceived,
    SettingsAcked, StreamReset, TrailersReceived, WindowUpdated,
)
from fastasgi._h2fields cimport invalid_request, malformed
from fastasgi._hpack cimport Decoder, Encoder

from fastasgi._h2frames import (
    H2ConnectionError, H2StreamError, encode_data, encode_goaway, encode_headers,
    encode_ping_ack, encode_rst_stream, encode_settings, encode_settings_ack,
    encode_window_update,
)
from fastasgi._hpack import HeaderListTooLarge, HPACKError

# Documented defaults, for the caller building H2Settings (the connection keeps none).
DEFAULT_MAX_CONCURRENT_STREAMS = 100
DEFAULT_INITIAL_WINDOW_SIZE = 65535
DEFAULT_MAX_FRAME_SIZE = 16384
DEFAULT_MAX_HEADER_LIST_SIZE = 65536
DEFAULT_MAX_RESETS = 200            # per DEFAULT_RESET_WINDOW seconds (CVE-2023-44487)
DEFAULT_RESET_WINDOW = 10.0
DEFAULT_MAX_CONTROL_FRAMES = 1000   # per DEFAULT_CONTROL_WINDOW seconds
DEFAULT_CONTROL_WINDOW = 10.0

cdef long long _SPEC_INITIAL_WINDOW = 65535      # §6.5.2, §6.9.2: before SETTINGS apply


@cython.final
cdef class H2Settings:
    def __init__(self, *, unsigned int max_concurrent_streams, unsigned int initial_window_size,
                 unsigned int max_frame_size, unsigned int max_header_list_size,
                 unsigned int max_resets, double reset_window, unsigned int max_control_frames,
                 double control_window):
        if initial_window_size > MAX_WINDOW_SIZE:
            raise ValueError("initial_window_size above 2**31-1")
        if not 16384 <= max_frame_size <= 16777215:
            raise ValueError("max_frame_size outside 16384..16777215")
        if max_resets < 1 or max_control_frames < 1:
            raise ValueError("flood limits must be at least 1")
        self.max_concurrent_streams = max_concurrent_streams
        self.initial_window_size = initial_window_size
        self.max_frame_size = max_frame_size
        self.max_header_list_size = max_header_list_size
        self.max_resets = max_resets
        self.reset_window = reset_window
        self.max_control_frames = max_control_frames
        self.control_window = control_window


# --- connection -------------------------------------------------------------------------------

@cython.final
cdef class _RateLimit:
    def __init__(self, unsigned int limit, double window):
        self._limit = limit
        self._window = window
        self._times = []
        self._next = 0

    cdef bint exceeded(self, double now):
        if <unsigned int>len(self._times) < self._limit:
            self._times.append(now)
            return False
        if now - <double>self._times[self._next] < self._window:
            return True
        self._times[self._next] = now
        self._next = (self._next + 1) % self._limit
        return False


@cython.final
@cython.freelist(16)
cdef class _Stream:
    pass


@cython.final
cdef class H2Connection:
    def __init__(self, H2Settings settings not None, *, clock=time.monotonic):
        self.settings = settings
        self._clock = clock
        self._reader = FrameReader(16384)           # ours applies once acknowledged
        self._decoder = Decoder(settings.max_header_list_size)
        self._encoder = Encoder()
        self._out = bytearray()
        self._events = []
        self._streams = {}
        self._reset_by_us = {}
        self._outbound_window = _SPEC_INITIAL_WINDOW
        self._inbound_window = _SPEC_INITIAL_WINDOW
        self._peer_initial_window = _SPEC_INITIAL_WINDOW
        self._local_initial_window = _SPEC_INITIAL_WINDOW
        self._peer_max_frame_size = 16384
        self._block_parts = []
        self._resets = _RateLimit(settings.max_resets, settings.reset_window)
        self._control = _RateLimit(settings.max_control_frames, settings.control_window)

    def initiate(self):
        """Queue our SETTINGS: the first frame of the server preface (§3.4)."""
        s = self.settings
        self._out += encode_settings([
            (ENABLE_PUSH, 0),
            (MAX_CONCURRENT_STREAMS, s.max_concurrent_streams),
            (INITIAL_WINDOW_SIZE, s.initial_window_size),
            (MAX_FRAME_SIZE, s.max_frame_size),
            (MAX_HEADER_LIST_SIZE, s.max_header_list_size),
        ])
        self._settings_unacked += 1
        if s.initial_window_size > _SPEC_INITIAL_WINDOW:      # the connection window too
            self._out += encode_window_update(0, s.initial_window_size - _SPEC_INITIAL_WINDOW)
            self._inbound_window = s.initial_window_size

    def data_to_send(self):
        cdef bytes out = bytes(self._out)
        self._out.clear()
        return out

    def receive_data(self, data):
        """Handle the bytes the peer sent; return the events they complete."""
        if self.closed:
            return []
        self._reader.feed(data)
        try:
            while not self.closed:
                try:
                    frame = self._reader.next_frame()
                except H2StreamError as exc:
                    self._on_stream_error(exc)
                    continue
                if frame is None:
                    break
                self._handle(frame)
        except H2ConnectionError as exc:
            self._connection_error(exc.code, str(exc.args[0]))
        events = self._events
        self._events = []
        return events

    cdef int _on_stream_error(self, exc) except -1:
        """A stream error the reader found. RST_STREAM never goes to an idle stream (§5.1):
        an even id is one no client opens, and a WINDOW_UPDATE on an idle stream is a
        connection error whatever its increment."""
        cdef unsigned int stream_id = exc.stream_id
        if stream_id % 2 == 0:
            raise H2ConnectionError(exc.code, f"{exc.args[0]} on an even stream id (§5.1.1)")
        if type(exc.frame) is WindowUpdateFrame:
            if stream_id not in self._reset_by_us:
                self._stream(stream_id)             # idle: connection error
        elif exc.frame is not None:                 # its field block must still reach HPACK
            self._on_headers(exc.frame, True)
        if stream_id > self.last_stream_id:         # reset now: later frames find it closed
            self.last_stream_id = stream_id
        return self._stream_error(stream_id, exc.code)

    cdef int _handle(self, frame) except -1:
        cdef type kind = type(frame)
        if kind is DataFrame:
            self._on_data(frame)
        elif kind is HeadersFrame or kind is ContinuationFrame:
            self._on_headers(frame)
        elif kind is SettingsFrame:
            self._on_settings(frame)
        elif kind is WindowUpdateFrame:
            self._on_window_update(frame)
        elif kind is RstStreamFrame:
            self._on_rst_stream(frame)
        elif kind is PingFrame:
            if (<PingFrame>frame).ack:
                self._events.append(PingAcked((<PingFrame>frame).opaque_data))
            else:
                self._check_calm(self._control, "PING flood")
                self._out += encode_ping_ack((<PingFrame>frame).opaque_data)
        elif kind is PriorityFrame:
            self._check_calm(self._control, "PRIORITY flood")
        elif kind is GoAwayFrame:
            self._events.append(ConnectionTerminated(
                (<GoAwayFrame>frame).error_code, (<GoAwayFrame>frame).last_stream_id, True))
        elif kind is PushPromiseFrame:
            raise H2ConnectionError(PROTOCOL_ERROR, "PUSH_PROMISE from a client (§8.4)")
        return 0

    cdef int _check_calm(self, _RateLimit limit, str what) except -1:
        if limit.exceeded(self._clock()):
            raise H2ConnectionError(ENHANCE_YOUR_CALM, what)
        return 0

    cdef _Stream _stream(self, unsigned int stream_id):
        """The open or half-closed stream, None if closed; idle is a connection error."""
        cdef _Stream stream = self._streams.get(stream_id)
        if stream is None and (stream_id > self.last_stream_id or stream_id % 2 == 0):
            raise H2ConnectionError(PROTOCOL_ERROR, "frame on an idle stream (§5.1)")
        return stream

    # --- field blocks ---

    cdef int _on_headers(self, frame, bint discard=False) except -1:
        cdef bytes block
        cdef bint end_headers
        if type(frame) is HeadersFrame:
            block = (<HeadersFrame>frame).block
            end_headers = (<HeadersFrame>frame).end_headers
            self._block_stream = (<HeadersFrame>frame).stream_id
            self._block_end_stream = (<HeadersFrame>frame).end_stream
            self._block_discard = discard
            self._block_parts = [block]
            self._block_len = len(block)
        else:                                       # the reader checked the sequence
            block = (<ContinuationFrame>frame).block
            end_headers = (<ContinuationFrame>frame).end_headers
            self._block_parts.append(block)
            self._block_len += len(block)
        if not end_headers and not block:
            self._check_calm(self._control, "empty field block fragments")
        if self._block_len > self.settings.max_header_list_size:
            # CONTINUATION flood: the block cannot decode to an allowed list, and dropping
            # it would leave the HPACK table out of step with the client's.
            raise H2ConnectionError(ENHANCE_YOUR_CALM, "field block too large")
        if end_headers:
            self._on_block()
        return 0

    cdef int _on_block(self) except -1:
        cdef unsigned int stream_id = self._block_stream
        cdef bint end_stream = self._block_end_stream
        cdef bytes block = b"".join(self._block_parts)
        cdef _Stream stream
        cdef str problem
        cdef bint too_large = False
        cdef list headers = None
        self._block_parts = []
        self._block_len = 0
        try:
            headers = self._decoder.decode(block)
        except HeaderListTooLarge:
            too_large = True
        except HPACKError as exc:
            raise H2ConnectionError(COMPRESSION_ERROR, str(exc))
        if self._block_discard or stream_id in self._reset_by_us:
            return 0                                # decoded for HPACK's sake only
        if stream_id <= self.last_stream_id:        # trailers, or a closed stream
            stream = self._stream(stream_id)
            if stream is None:
                raise H2ConnectionError(STREAM_CLOSED, "HEADERS on a closed stream")
            if stream.state == HALF_CLOSED_REMOTE:
                return self._stream_error(stream_id, STREAM_CLOSED)
            if not end_stream or too_large or malformed(headers, True) is not None:
                return self._stream_error(stream_id, PROTOCOL_ERROR)
            self._events.append(TrailersReceived(stream_id, headers))
            self._close_remote(stream_id, stream)
            return 0
        if stream_id % 2 == 0:
            raise H2ConnectionError(PROTOCOL_ERROR, "even client stream id (§5.1.1)")
        if self._going_away:                        # after our GOAWAY: ignored (§6.8)
            return self._forget_reset(stream_id)
        self.last_stream_id = stream_id
        if <unsigned int>len(self._streams) >= self.settings.max_concurrent_streams:
            return self._stream_error(stream_id, REFUSED_STREAM)    # §5.1.2
        stream = _Stream()
        stream.state = HALF_CLOSED_REMOTE if end_stream else OPEN
        stream.outbound_window = self._peer_initial_window
        stream.inbound_window = self._local_initial_window
        self._streams[stream_id] = stream
        if too_large:
            return self._respond_and_reset(stream_id, b"431", end_stream)
        problem = malformed(headers, False)
        if problem is not None:
            return self._stream_error(stream_id, PROTOCOL_ERROR)
        method = None
        pseudo = set()
        for name, value in headers:
            if name == b":method":
                method = value
            if name[0] == 0x3A:
                pseudo.add(name)
        if method == b"CONNECT":                    # §8.5: we do not tunnel
            return self._respond_and_reset(stream_id, b"501", end_stream)
        if b":method" not in pseudo or b":scheme" not in pseudo or b":path" not in pseudo:
            return self._stream_error(stream_id, PROTOCOL_ERROR)
        if invalid_request(headers, end_stream) is not None:
            return self._stream_error(stream_id, PROTOCOL_ERROR)
        stream.request_seen = True
        self._events.append(RequestReceived(stream_id, headers, end_stream))
        return 0

    cdef int _close_remote(self, unsigned int stream_id, _Stream stream) except -1:
        if stream.state == HALF_CLOSED_LOCAL:
            del self._streams[stream_id]
        else:
            stream.state = HALF_CLOSED_REMOTE
        return 0

    cdef int _respond_and_reset(self, unsigned int stream_id, bytes status,
                                bint request_ended) except -1:
        # Answer without the application; a request still sending is then reset (§8.1).
        self._out += encode_headers(stream_id, self._encoder.encode([(b":status", status)]),
                                    True, self._peer_max_frame_size)
        if request_ended:
            del self._streams[stream_id]
        else:
            self._stream_error(stream_id, NO_ERROR)
        return 0

    # --- DATA and flow control ---

    cdef int _on_data(self, frame) except -1:
        cdef DataFrame data = <DataFrame>frame
        cdef unsigned int stream_id = data.stream_id
        cdef long long length = data.flow_controlled_length
        cdef _Stream stream
        if length > self._inbound_window:
            raise H2ConnectionError(FLOW_CONTROL_ERROR, "DATA beyond the window")
        self._inbound_window -= length
        if length == 0 and not data.end_stream:
            self._check_calm(self._control, "empty DATA flood")
        stream = self._streams.get(stream_id) if stream_id not in self._reset_by_us else None
        if stream is None or stream.state == HALF_CLOSED_REMOTE:
            self._give_back_connection(length)      # nobody will acknowledge it
            if stream_id in self._reset_by_us:
                return 0                            # in flight when we reset (§5.1)
            if stream is None:
                self._stream(stream_id)             # idle: connection error
            return self._stream_error(stream_id, STREAM_CLOSED)
        if length > stream.inbound_window:
            self._give_back_connection(length)
            return self._stream_error(stream_id, FLOW_CONTROL_ERROR)
        stream.inbound_window -= length
        stream.unacknowledged += length
        self._unacknowledged += length
        self._events.append(DataReceived(stream_id, data.data, data.end_stream, length))
        if data.end_stream:
            self._close_remote(stream_id, stream)
        return 0

    cdef int _give_back_connection(self, long long length) except -1:
        self._unacknowledged += length
        self._acknowledge_connection(length)
        return 0

    cdef int _acknowledge_connection(self, long long n) except -1:
        cdef long long target = self.settings.initial_window_size
        target = max(target, _SPEC_INITIAL_WINDOW)
        n = min(n, self._unacknowledged)
        self._unacknowledged -= n
        if target - self._inbound_window - self._unacknowledged >= target // 2:
            increment = target - self._inbound_window - self._unacknowledged
            self._inbound_window += increment
            self._out += encode_window_update(0, increment)
        return 0

    def acknowledge_received_data(self, unsigned int stream_id, long long n):
        """The application consumed ``n`` octets of DataReceived.flow_controlled_length on
        ``stream_id``. The windows reopen once half of them has been consumed."""
        cdef _Stream stream = self._streams.get(stream_id)
        cdef long long reopen
        if self.closed or n <= 0:
            return
        self._acknowledge_connection(n)
        if stream is None:
            return
        n = min(n, stream.unacknowledged)
        stream.unacknowledged -= n
        if stream.state != OPEN:
            return                                  # the client sends no more DATA
        reopen = self._local_initial_window - stream.inbound_window
        reopen -= stream.unacknowledged
        if reopen > 0 and reopen >= self._local_initial_window // 2:
            stream.inbound_window += reopen
            self._out += encode_window_update(stream_id, reopen)

    cdef int _on_window_update(self, frame) except -1:
        cdef unsigned int stream_id = (<WindowUpdateFrame>frame).stream_id
        cdef long long increment = (<WindowUpdateFrame>frame).increment
        cdef _Stream stream
        cdef list events
        if stream_id == 0:
            if self._outbound_window + increment > MAX_WINDOW_SIZE:
                raise H2ConnectionError(FLOW_CONTROL_ERROR, "window above 2**31-1")
            self._outbound_window += increment
        else:
            if stream_id in self._reset_by_us:
                return 0
            stream = self._stream(stream_id)
            if stream is None:
                return 0                            # closed by END_STREAM: may be in flight
            if stream.outbound_window + increment > MAX_WINDOW_SIZE:
                return self._stream_error(stream_id, FLOW_CONTROL_ERROR)
            stream.outbound_window += increment
        # NOTE: updates of one window in a row make one event: whoever acts on it reads the
        # window as it is now. A flood of them, which no bound counts, then costs an event per
        # read instead of one per frame.
        events = self._events
        if (events and type(events[-1]) is WindowUpdated
                and (<WindowUpdated>events[-1]).stream_id == stream_id):
            return 0
        events.append(WindowUpdated(stream_id))
        return 0

    def outbound_window(self, unsigned int stream_id):
        """How many DATA octets ``stream_id`` may send now (0 if it cannot send)."""
        cdef _Stream stream = self._streams.get(stream_id)
        if stream is None or stream.state == HALF_CLOSED_LOCAL or self.closed:
            return 0
        return max(0, min(self._outbound_window, stream.outbound_window))

    # --- SETTINGS, RST_STREAM ---

    cdef int _on_settings(self, frame) except -1:
        cdef SettingsFrame settings = <SettingsFrame>frame
        cdef long long delta
        cdef _Stream stream
        if settings.ack:
            if self._settings_unacked == 0:
                return 0
            self._settings_unacked -= 1
            delta = self.settings.initial_window_size - self._local_initial_window
            self._local_initial_window = self.settings.initial_window_size
            for stream in self._streams.values():
                stream.inbound_window += delta
            self._reader.set_max_frame_size(self.settings.max_frame_size)
            self._events.append(SettingsAcked())
            return 0
        self._check_calm(self._control, "SETTINGS flood")
        self._apply_peer_settings(settings.settings)
        self._out += encode_settings_ack()
        return 0

    cdef int _apply_peer_settings(self, list pairs) except -1:
        cdef long long delta
        cdef _Stream stream
        for code, value in pairs:                 # range checks were the reader's (§6.5.2)
            if code == HEADER_TABLE_SIZE:
                self._encoder.set_peer_table_size(value)
            elif code == INITIAL_WINDOW_SIZE:
                delta = <long long>value - self._peer_initial_window
                self._peer_initial_window = value
                for stream_id, stream in self._streams.items():   # §6.9.2
                    if stream.outbound_window + delta > MAX_WINDOW_SIZE:
                        raise H2ConnectionError(FLOW_CONTROL_ERROR,
                                                "stream window above 2**31-1")
                    stream.outbound_window += delta
                    if delta > 0:
                        self._events.append(WindowUpdated(stream_id))
            elif code == MAX_FRAME_SIZE:
                self._peer_max_frame_size = value
        return 0

    def upgrade(self, settings_payload):
        """Take over a request that asked to upgrade with ``Upgrade: h2c`` (RFC 7540 §3.2):
        apply the client's HTTP2-Settings (the payload of a SETTINGS frame, acknowledged by
        the 101 itself) and open stream 1, half-closed (remote), for the response to that
        request. Call before ``initiate``; H2ConnectionError if the settings are invalid."""
        cdef _Stream stream
        if self.last_stream_id or self._streams:
            raise ValueError("upgrade() comes before any stream")
        reader = FrameReader(16384, expect_preface=False)
        reader.feed(len(settings_payload).to_bytes(3, "big") + b"\x04\x00\x00\x00\x00\x00"
                    + bytes(settings_payload))
        frame = reader.next_frame()
        if type(frame) is not SettingsFrame or (<SettingsFrame>frame).ack:
            raise H2ConnectionError(PROTOCOL_ERROR, "HTTP2-Settings is not a SETTINGS payload")
        self._apply_peer_settings((<SettingsFrame>frame).settings)
        stream = _Stream()
        stream.state = HALF_CLOSED_REMOTE
        stream.outbound_window = self._peer_initial_window
        stream.inbound_window = self._local_initial_window
        stream.request_seen = True
        self._streams[1] = stream
        self.last_stream_id = 1

    cdef int _on_rst_stream(self, frame) except -1:
        cdef unsigned int stream_id = (<RstStreamFrame>frame).stream_id
        self._check_calm(self._resets, "too many stream resets (CVE-2023-44487)")
        if stream_id in self._reset_by_us:
            return 0
        cdef _Stream stream = self._stream(stream_id)
        if stream is None:
            return 0
        del self._streams[stream_id]
        self._events.append(StreamReset(stream_id, (<RstStreamFrame>frame).error_code, True))
        return 0

    # --- errors, sending ---

    cdef int _stream_error(self, unsigned int stream_id, unsigned int code) except -1:
        cdef _Stream stream = self._streams.pop(stream_id, None)
        self._out += encode_rst_stream(stream_id, code)
        if stream is not None and stream.request_seen:
            self._events.append(StreamReset(stream_id, code, False))
        self._forget_reset(stream_id)
        if code != NO_ERROR:              # the peer provoked it: counts as a reset
            self._check_calm(self._resets, "too many stream errors")
        return 0

    cdef int _forget_reset(self, unsigned int stream_id) except -1:
        """Remember that we reset ``stream_id``, forgetting the oldest beyond the bound."""
        self._reset_by_us[stream_id] = None
        if <unsigned int>len(self._reset_by_us) > max(self.settings.max_concurrent_streams, 16):
            del self._reset_by_us[next(iter(self._reset_by_us))]
        return 0

    cdef int _connection_error(self, unsigned int code, str message) except -1:
        self._out += encode_goaway(self.last_stream_id, code, message.encode()[:256])
        self.closed = True
        self._streams.clear()
        self._events.append(ConnectionTerminated(code, self.last_stream_id, False))
        return 0

    def send_headers(self, unsigned int stream_id, headers, bint end_stream=False):
        cdef _Stream stream = self._streams.get(stream_id)
        if stream is None or stream.state == HALF_CLOSED_LOCAL or self.closed:
            raise ValueError(f"stream {stream_id} cannot send")
        self._out += encode_headers(stream_id, self._encoder.encode(headers), end_stream,
                                    self._peer_max_frame_size)
        if end_stream:
            self._close_local(stream_id, stream)

    cdef int _close_local(self, unsigned int stream_id, _Stream stream) except -1:
        if stream.state == HALF_CLOSED_REMOTE:
            del self._streams[stream_id]
        else:
            stream.state = HALF_CLOSED_LOCAL
        return 0

    def send_data(self, unsigned int stream_id, data, bint end_stream=False):
        """Send as much of ``data`` as the windows allow; return how many octets were taken.
        END_STREAM goes out only with the last octet."""
        cdef long long allowed = self.outbound_window(stream_id)
        cdef Py_ssize_t n = min(<Py_ssize_t>allowed, len(data))
        cdef Py_ssize_t pos = 0, chunk
        cdef _Stream stream = self._streams.get(stream_id)
        if stream is None or stream.state == HALF_CLOSED_LOCAL or self.closed:
            raise ValueError(f"stream {stream_id} cannot send")
        if n == 0 and (len(data) > 0 or not end_stream):
            return 0                                # wait for WindowUpdated
        view = memoryview(data)
        while True:
            chunk = min(n - pos, <Py_ssize_t>self._peer_max_frame_size)
            last = pos + chunk == n
            self._out += encode_data(stream_id, view[pos:pos + chunk],
                                     end_stream and last and n == len(data))
            pos += chunk
            if last:
                break
        self._outbound_window -= n
        stream.outbound_window -= n
        if end_stream and n == len(data):
            self._close_local(stream_id, stream)
        return n

    def reset_stream(self, unsigned int stream_id, unsigned int error_code=CANCEL):
        if stream_id in self._streams and not self.closed:
            del self._streams[stream_id]
            self._out += encode_rst_stream(stream_id, error_code)
            self._forget_reset(stream_id)

    def close(self, unsigned int error_code=NO_ERROR):
        """GOAWAY naming the last stream we processed. NO_ERROR lets open streams finish."""
        if self.closed:
            return
        self._out += encode_goaway(self.last_stream_id, error_code)
        self._going_away = True
        if error_code != NO_ERROR:
            self.closed = True
            self._streams.clear()
