# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""HPACK, header compression for HTTP/2 (RFC 7541): a ``Decoder`` and an ``Encoder``.

One of each lives per connection: the decoder for the header blocks the client sends, the
encoder for ours. Both hold a dynamic table whose contents must stay in step with the peer's, so
every block has to be decoded (or encoded) in the order it is sent, even one whose stream is
being refused.

Invariants:
- Every malformed block raises ``HPACKError`` (the connection answers COMPRESSION_ERROR, RFC 9113
  §4.3). A block whose fields add up to more than ``max_header_list_size`` (RFC 9113 §6.5.2:
  name + value + 32 per field) raises ``HeaderListTooLarge`` only after the whole block was
  decoded, so the dynamic table is still in step and the connection can refuse just that
  stream (a 431); the oversized list itself is never held.
- Bounds: the dynamic table holds at most ``max_size`` octets counted as in §4.1, and its
  ``max_size`` never exceeds the limit we announced (§4.2, §6.3). Integers larger than 2**31 - 1
  or with redundant continuation bytes are rejected, so no length or index can overflow.
- Names and values are ``bytes``; the static table's are built once, so a field taken from it
  allocates nothing.

Bounds and wraparound checks are off: ring positions are masked by the ring's capacity and
static indices are checked against 1..61 before use.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.tuple cimport PyTuple_GET_ITEM
from libc.stdint cimport uint8_t
from libc.string cimport memcpy

from fastasgi._huffman cimport huffman_decode, huffman_encode, huffman_encoded_length


cdef enum:
    ENTRY_OVERHEAD = 32             # §4.1
    STATIC_ENTRIES = 61
    MAX_INTEGER = 0x7FFFFFFF
    DEFAULT_TABLE_SIZE = 4096       # SETTINGS_HEADER_TABLE_SIZE before any SETTINGS (RFC 9113)


class HPACKError(Exception):
    """The header block is not valid HPACK: a connection error of type COMPRESSION_ERROR."""


class HeaderListTooLarge(HPACKError):
    """The decoded header list is larger than ``max_header_list_size``. The block was decoded
    to its end, so the connection stays usable: refuse the stream (431), not the connection."""


# Appendix A. The order is the index: entry i is STATIC_TABLE[i - 1].
STATIC_TABLE = (
    (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"),
    (b":path", b"/index.html"), (b":scheme", b"http"), (b":scheme", b"https"),
    (b":status", b"200"), (b":status", b"204"), (b":status", b"206"), (b":status", b"304"),
    (b":status", b"400"), (b":status", b"404"), (b":status", b"500"),
    (b"accept-charset", b""), (b"accept-encoding", b"gzip, deflate"), (b"accept-language", b""),
    (b"accept-ranges", b""), (b"accept", b""), (b"access-control-allow-origin", b""),
    (b"age", b""), (b"allow", b""), (b"authorization", b""), (b"cache-control", b""),
    (b"content-disposition", b""), (b"content-encoding", b""), (b"content-language", b""),
    (b"content-length", b""), (b"content-location", b""), (b"content-range", b""),
    (b"content-type", b""), (b"cookie", b""), (b"date", b""), (b"etag", b""), (b"expect", b""),
    (b"expires", b""), (b"from", b""), (b"host", b""), (b"if-match", b""),
    (b"if-modified-since", b""), (b"if-none-match", b""), (b"if-range", b""),
    (b"if-unmodified-since", b""), (b"last-modified", b""), (b"link", b""), (b"location", b""),
    (b"max-forwards", b""), (b"proxy-authenticate", b""), (b"proxy-authorization", b""),
    (b"range", b""), (b"referer", b""), (b"refresh", b""), (b"retry-after", b""),
    (b"server", b""), (b"set-cookie", b""), (b"strict-transport-security", b""),
    (b"transfer-encoding", b""), (b"user-agent", b""), (b"vary", b""), (b"via", b""),
    (b"www-authenticate", b""),
)
assert len(STATIC_TABLE) == STATIC_ENTRIES

# Encoder lookups: a field's index, and a name's lowest index.
cdef dict _STATIC_FIELD_INDEX = {field: i for i, field in enumerate(STATIC_TABLE, 1)}
cdef dict _STATIC_NAME_INDEX = {}
for _index in range(STATIC_ENTRIES, 0, -1):
    _STATIC_NAME_INDEX[STATIC_TABLE[_index - 1][0]] = _index
del _index

# Encoder policy (§7.1.3): fields that carry credentials are sent "never indexed", so no
# intermediary re-compresses them where a guessing attack could probe them.
cdef frozenset _NEVER_INDEXED = frozenset(
    [b"authorization", b"proxy-authorization", b"cookie", b"set-cookie"])
# Values that differ on nearly every response would only push useful entries out of the table.
cdef frozenset _NOT_INDEXED = frozenset(
    [b":path", b"content-length", b"content-range", b"etag", b"last-modified", b"location",
     b"age", b"expires", b"content-disposition", b"x-request-id"])


@cython.final
cdef class HeaderTable:
    def __init__(self, Py_ssize_t max_size):
        self.max_size = max_size
        self._ring = [None] * 8
        self._oldest = 0

    cdef tuple get(self, Py_ssize_t i):
        return <tuple>self._ring[(self._oldest + self.count - 1 - i) & (len(self._ring) - 1)]

    cdef tuple pop_oldest(self):
        cdef tuple entry = <tuple>self._ring[self._oldest]
        self._ring[self._oldest] = None
        self._oldest = (self._oldest + 1) & (len(self._ring) - 1)
        self.count -= 1
        self.size -= _entry_size(entry)
        return entry

    cdef int push(self, tuple entry, Py_ssize_t entry_size) except -1:
        cdef Py_ssize_t cap = len(self._ring)
        cdef list grown
        if self.count == cap:
            # NOTE: the ring only grows while entries fit in max_size, so its capacity stays
            # under twice max_size / 32.
            grown = [self.get(i) for i in range(self.count - 1, -1, -1)]
            grown.extend([None] * cap)
            self._ring = grown
            self._oldest = 0
            cap *= 2
        self._ring[(self._oldest + self.count) & (cap - 1)] = entry
        self.count += 1
        self.size += entry_size
        self.inserted += 1
        return 0

    def entries(self):
        """(name, value) pairs, newest first: the order of indices 62, 63, ..."""
        return [self.get(i) for i in range(self.count)]


cdef inline Py_ssize_t _entry_size(tuple entry):
    return (PyBytes_GET_SIZE(<bytes>PyTuple_GET_ITEM(entry, 0))
            + PyBytes_GET_SIZE(<bytes>PyTuple_GET_ITEM(entry, 1)) + ENTRY_OVERHEAD)


cdef Py_ssize_t _read_int(const uint8_t *p, Py_ssize_t n, Py_ssize_t *pos,
                          int prefix_bits) except -1:
    """The integer at p[pos[0]] with an N-bit prefix (§5.1); advances pos[0] past it."""
    cdef Py_ssize_t i = pos[0]
    cdef Py_ssize_t limit = (1 << prefix_bits) - 1
    cdef Py_ssize_t value = p[i] & limit
    cdef int shift = 0
    cdef uint8_t b
    i += 1
    if value == limit:
        while True:
            if i >= n:
                raise HPACKError("header block truncated inside an integer")
            b = p[i]
            i += 1
            if shift and b == 0:
                # A final continuation byte of zero adds nothing: the encoding is padded.
                raise HPACKError("integer encoded with redundant bytes")
            if shift > 28:
                # Five continuation bytes already carry 35 bits; more can only overflow.
                raise HPACKError("integer too large")
            value += <Py_ssize_t>(b & 0x7F) << shift
            if value > MAX_INTEGER:
                raise HPACKError("integer too large")
            if not b & 0x80:
                break
            shift += 7
    pos[0] = i
    return value


@cython.final
cdef class Decoder:
    def __init__(self, Py_ssize_t max_header_list_size, Py_ssize_t max_table_size=4096):
        if max_header_list_size < 0 or not 0 <= max_table_size <= MAX_INTEGER:
            raise ValueError("sizes must be non-negative")
        self.max_header_list_size = max_header_list_size
        self.max_table_size = max_table_size
        self.table = HeaderTable(max_table_size)
        self._update_bound = -1

    cpdef set_max_table_size(self, Py_ssize_t size):
        """Apply our SETTINGS_HEADER_TABLE_SIZE once the peer acknowledged it. A limit below
        the table's current size obliges the peer to open its next block with a size update
        down to it, or down to the smallest limit set since its last block (§4.2)."""
        if not 0 <= size <= MAX_INTEGER:
            raise ValueError("table size out of range")
        self.max_table_size = size
        if size < self.table.max_size and (self._update_bound < 0 or size < self._update_bound):
            self._update_bound = size

    cpdef list decode(self, bytes data):
        """The header list of one complete header block (HEADERS + CONTINUATION payloads)."""
        if data is None:
            raise TypeError("a header block is bytes, not None")
        cdef const uint8_t *p = <const uint8_t *>PyBytes_AS_STRING(data)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t index, size
        cdef Py_ssize_t list_size = 0
        cdef bint fields_seen = False
        cdef list headers = []
        cdef tuple field
        cdef bytes name
        cdef uint8_t b
        while pos < n:
            b = p[pos]
            if (b & 0xE0) == 0x20:
                # §4.2, §6.3: size updates may only come first in a block.
                if fields_seen:
                    raise HPACKError("dynamic table size update after a header field")
                size = _read_int(p, n, &pos, 5)
                if size > self.max_table_size:
                    raise HPACKError("dynamic table size update above the SETTINGS limit")
                if self._update_bound >= 0:
                    if size > self._update_bound:
                        raise HPACKError("first size update above the smallest limit set")
                    self._update_bound = -1
                self._resize(size)
                continue
            if self._update_bound >= 0:
                raise HPACKError("expected a dynamic table size update after the limit shrank")
            fields_seen = True
            if b & 0x80:                                        # §6.1 indexed field
                field = self._field(_read_int(p, n, &pos, 7))
            else:
                # §6.2.1 (01, 6-bit prefix) with incremental indexing; §6.2.2 (0000) without
                # and §6.2.3 (0001) never indexed, both with a 4-bit prefix.
                index = _read_int(p, n, &pos, 6 if b & 0x40 else 4)
                if index:
                    name = <bytes>PyTuple_GET_ITEM(self._field(index), 0)
                else:
                    name = self._string(p, n, &pos)
                field = (name, self._string(p, n, &pos))
                if b & 0x40:
                    self._add(field)
            list_size += _entry_size(field)
            if list_size <= self.max_header_list_size:
                headers.append(field)
        if self._update_bound >= 0:
            raise HPACKError("expected a dynamic table size update after the limit shrank")
        if list_size > self.max_header_list_size:
            raise HeaderListTooLarge(
                f"header list of {list_size} octets exceeds {self.max_header_list_size}")
        return headers

    cdef tuple _field(self, Py_ssize_t index):
        if index == 0:
            raise HPACKError("index 0 is not a header field")          # §6.1
        if index <= STATIC_ENTRIES:
            return <tuple>STATIC_TABLE[index - 1]
        index -= STATIC_ENTRIES + 1
        if index >= self.table.count:
            raise HPACKError("index past the end of the dynamic table")  # §2.3.3
        return self.table.get(index)

    cdef bytes _string(self, const uint8_t *p, Py_ssize_t n, Py_ssize_t *pos):
        """The string literal at p[pos[0]] (§5.2); advances pos[0] past it."""
        if pos[0] >= n:
            raise HPACKError("header block truncated before a string")
        cdef bint huffman = p[pos[0]] & 0x80
        cdef Py_ssize_t length = _read_int(p, n, pos, 7)
        cdef Py_ssize_t start = pos[0]
        cdef Py_ssize_t decoded
        cdef uint8_t *buf
        if length > n - start:
            raise HPACKError("header block truncated inside a string")
        pos[0] = start + length
        if not huffman:
            return PyBytes_FromStringAndSize(<const char *>p + start, length)
        buf = <uint8_t *>PyMem_Malloc(length * 8 // 5 + 1)
        if buf == NULL:
            raise MemoryError()
        try:
            decoded = huffman_decode(p + start, length, buf)
            if decoded < 0:
                raise HPACKError("invalid Huffman string: EOS, or padding not 0-7 one bits")
            return PyBytes_FromStringAndSize(<char *>buf, decoded)
        finally:
            PyMem_Free(buf)

    cdef int _add(self, tuple entry) except -1:
        # §4.4: an entry larger than the whole table empties it and is not added; not an error.
        cdef Py_ssize_t size = _entry_size(entry)
        while self.table.count and self.table.size + size > self.table.max_size:
            self.table.pop_oldest()
        if size <= self.table.max_size:
            self.table.push(entry, size)
        return 0

    cdef int _resize(self, Py_ssize_t size) except -1:
        self.table.max_size = size
        while self.table.size > size:                                 # §4.3
            self.table.pop_oldest()
        return 0


@cython.final
cdef class Encoder:
    def __init__(self, Py_ssize_t max_table_size=4096):
        if not 0 <= max_table_size <= MAX_INTEGER:
            raise ValueError("table size out of range")
        self.max_table_size = max_table_size
        # The peer's decoder starts at the protocol default (RFC 9113 §6.5.2), whatever we
        # intend to use; a smaller table of ours is announced in the first block.
        self.table = HeaderTable(DEFAULT_TABLE_SIZE)
        self._field_seq = {}
        self._name_seq = {}
        self._smallest_pending = self._final_pending = -1
        self.set_peer_table_size(DEFAULT_TABLE_SIZE)

    def __dealloc__(self):
        PyMem_Free(self._out)

    cpdef set_peer_table_size(self, Py_ssize_t size):
        """Apply the peer's SETTINGS_HEADER_TABLE_SIZE. The table becomes the smaller of it
        and ``max_table_size``; the change is announced at the start of the next block, with
        the smallest size reached in between announced first (§4.2). Any 32-bit value is a
        valid setting (RFC 9113 §6.5.2); beyond ``max_table_size`` it changes nothing."""
        if size < 0:
            raise ValueError("table size out of range")
        size = min(size, self.max_table_size)
        if self._final_pending < 0 and size == self.table.max_size:
            return None
        if self._smallest_pending < 0 or size < self._smallest_pending:
            self._smallest_pending = size
        self._final_pending = size
        # Entries that no longer fit must go now: the peer's decoder evicts them on the update.
        self._resize(size)

    cpdef bytes encode(self, headers):
        """One header block for ``headers``, an iterable of (name, value) ``bytes`` pairs with
        lowercase names (RFC 9113 §8.2.1), pseudo-header fields first."""
        cdef bytes name, value
        cdef tuple key
        cdef list fields = []
        cdef Py_ssize_t index, name_index
        # Every field is checked before the table changes: a block that fails half-way is
        # never sent, and a table holding part of it would no longer match the peer's.
        for name, value in headers:
            if name is None or value is None:
                raise TypeError("header names and values are bytes, not None")
            fields.append((name, value))
        self._out_len = 0
        if self._final_pending >= 0:
            if self._smallest_pending < self._final_pending:
                self._put_int(0x20, 5, self._smallest_pending)
            self._put_int(0x20, 5, self._final_pending)
            self._smallest_pending = self._final_pending = -1
        for key in fields:
            name = <bytes>PyTuple_GET_ITEM(key, 0)
            value = <bytes>PyTuple_GET_ITEM(key, 1)
            index = _STATIC_FIELD_INDEX.get(key, 0)
            if not index:
                index = self._dynamic_index(self._field_seq, key)
            if index:
                self._put_int(0x80, 7, index)                          # §6.1
                continue
            name_index = _STATIC_NAME_INDEX.get(name, 0)
            if not name_index:
                name_index = self._dynamic_index(self._name_seq, name)
            if name in _NEVER_INDEXED:
                self._put_int(0x10, 4, name_index)                     # §6.2.3
            elif (name in _NOT_INDEXED
                  or _entry_size(key) > self.table.max_size * 3 // 4):
                # NOTE: an entry that fills most of the table would evict everything else.
                self._put_int(0x00, 4, name_index)                     # §6.2.2
            else:
                self._put_int(0x40, 6, name_index)                     # §6.2.1
                self._add(key)
            if not name_index:
                self._put_string(name)
            self._put_string(value)
        return PyBytes_FromStringAndSize(<char *>self._out, self._out_len)

    cdef Py_ssize_t _dynamic_index(self, dict seqs, object key):
        cdef object seq = seqs.get(key)
        cdef unsigned long long age
        if seq is None:
            return 0
        age = self.table.inserted - 1 - <unsigned long long>seq
        if age >= <unsigned long long>self.table.count:
            return 0                                       # evicted since
        return STATIC_ENTRIES + 1 + <Py_ssize_t>age

    cdef int _add(self, tuple entry) except -1:
        cdef Py_ssize_t size = _entry_size(entry)
        while self.table.count and self.table.size + size > self.table.max_size:
            self._forget_oldest()
        if size <= self.table.max_size:
            self._field_seq[entry] = self.table.inserted
            self._name_seq[<bytes>PyTuple_GET_ITEM(entry, 0)] = self.table.inserted
            self.table.push(entry, size)
        return 0

    cdef int _resize(self, Py_ssize_t size) except -1:
        self.table.max_size = size
        while self.table.size > size:
            self._forget_oldest()
        return 0

    cdef int _forget_oldest(self) except -1:
        # Drop the lookups that point at the evicted entry, so they stay bounded by the table;
        # a newer entry with the same field or name keeps its own.
        cdef object seq = self.table.inserted - <unsigned long long>self.table.count
        cdef tuple entry = self.table.pop_oldest()
        if self._field_seq.get(entry) == seq:
            del self._field_seq[entry]
        if self._name_seq.get(entry[0]) == seq:
            del self._name_seq[entry[0]]
        return 0

    cdef int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t cap = self._out_cap
        cdef uint8_t *grown
        if self._out_len + extra <= cap:
            return 0
        cap = max(cap * 2, self._out_len + extra, 256)
        grown = <uint8_t *>PyMem_Realloc(self._out, cap)
        if grown == NULL:
            raise MemoryError()
        self._out = grown
        self._out_cap = cap
        return 0

    cdef int _put_int(self, uint8_t first, int prefix_bits, Py_ssize_t value) except -1:
        cdef Py_ssize_t limit = (1 << prefix_bits) - 1
        self._reserve(11)                                  # 1 + ceil(63 / 7) octets
        if value < limit:                                  # §5.1
            self._out[self._out_len] = first | <uint8_t>value
            self._out_len += 1
            return 0
        self._out[self._out_len] = first | <uint8_t>limit
        self._out_len += 1
        value -= limit
        while value >= 0x80:
            self._out[self._out_len] = <uint8_t>((value & 0x7F) | 0x80)
            self._out_len += 1
            value >>= 7
        self._out[self._out_len] = <uint8_t>value
        self._out_len += 1
        return 0

    cdef int _put_string(self, bytes s) except -1:
        cdef const uint8_t *src = <const uint8_t *>PyBytes_AS_STRING(s)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(s)
        cdef Py_ssize_t coded = huffman_encoded_length(src, n)
        if coded < n:                                      # §5.2: Huffman only when shorter
            self._put_int(0x80, 7, coded)
            self._reserve(coded)
            huffman_encode(src, n, self._out + self._out_len)
            self._out_len += coded
        else:
            self._put_int(0x00, 7, n)
            self._reserve(n)
            memcpy(self._out + self._out_len, src, n)
            self._out_len += n
        return 0
