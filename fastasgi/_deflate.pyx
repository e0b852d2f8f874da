# cython: language_level=3
"""permessage-deflate (RFC 7692): the agreed parameters and the zlib streams of one connection.

Invariants:
- Raw DEFLATE both ways (negative wbits): the extension frames no zlib header or checksum.
- With context takeover (the default) one stream serves every message in a direction, so a
  message may refer back to earlier ones; a ``*_no_context_takeover`` parameter gives each
  message a fresh stream instead. A received message that ended its stream with a final block
  (§7.2.3.4) also starts the next one afresh.
- The WebSocket codec frames, limits and checks the messages; nothing here knows of frames.
"""

cimport cython

import zlib


cdef int Z_SYNC_FLUSH = zlib.Z_SYNC_FLUSH


@cython.final
cdef class DeflateParams:
    """Agreed permessage-deflate parameters (RFC 7692 §7.1) plus local compression settings.

    ``server_max_window_bits`` is 9..15: zlib cannot produce raw DEFLATE with a 256-byte window,
    so an offer that insists on 8 has to be declined during negotiation."""

    def __init__(self, *, bint server_no_context_takeover=False,
                 bint client_no_context_takeover=False, int server_max_window_bits=15,
                 int client_max_window_bits=15, int compress_level=6, int mem_level=8):
        if not 9 <= server_max_window_bits <= 15:
            raise ValueError("server_max_window_bits must be between 9 and 15")
        if not 8 <= client_max_window_bits <= 15:
            raise ValueError("client_max_window_bits must be between 8 and 15")
        if not -1 <= compress_level <= 9:
            raise ValueError("compress_level must be between -1 and 9")
        if not 1 <= mem_level <= 9:
            raise ValueError("mem_level must be between 1 and 9")
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.compress_level = compress_level
        self.mem_level = mem_level

    def _key(self):
        return (self.server_no_context_takeover, self.client_no_context_takeover,
                self.server_max_window_bits, self.client_max_window_bits,
                self.compress_level, self.mem_level)

    def __eq__(self, other):
        return type(other) is DeflateParams and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return ("DeflateParams(server_no_context_takeover={}, client_no_context_takeover={}, "
                "server_max_window_bits={}, client_max_window_bits={}, compress_level={}, "
                "mem_level={})".format(*self._key()))


@cython.final
cdef class MessageDeflate:
    """The compressor of the messages we send and the decompressor of those we receive."""

    def __cinit__(self, DeflateParams params not None):
        self.params = params

    cdef bytes compress(self, object payload):
        """Deflate one message (RFC 7692 §7.2.1); flush() gives the rest of its bytes."""
        cdef DeflateParams params = self.params
        if self._deflater is None:
            self._deflater = zlib.compressobj(params.compress_level, zlib.DEFLATED,
                                              -params.server_max_window_bits, params.mem_level)
        return self._deflater.compress(payload)

    cdef bytes flush(self):
        """The end of the message compress() began, sync-flushed: it still ends with the
        flush's 00 00 ff ff, which the sender drops."""
        cdef bytes tail = self._deflater.flush(Z_SYNC_FLUSH)
        if self.params.server_no_context_takeover:
            self._deflater = None
        return tail

    cdef bytes inflate(self, bytes chunk, Py_ssize_t max_length):
        """Decompress a piece of a received message, at most max_length bytes of it; raises
        zlib.error on invalid data."""
        if self._inflater is None:
            self._inflater = zlib.decompressobj(wbits=-self.params.client_max_window_bits)
        return self._inflater.decompress(chunk, max_length)

    cdef int end_message(self) except -1:
        """A received message is complete. Bytes after a final DEFLATE block (RFC 7692
        §7.2.3.4) land in unused_data and are dropped; the stream is over, so the next message
        needs a fresh inflater."""
        if self.params.client_no_context_takeover or self._inflater.eof:
            self._inflater = None
        return 0
