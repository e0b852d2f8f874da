# cython: language_level=3
"""Interface of the HPACK codec (RFC 7541), for Cython callers."""

from libc.stdint cimport uint8_t


cdef class HeaderTable:
    # The dynamic table (RFC 7541 §2.3.2, §4): entries are (name, value) tuples in a ring,
    # newest last; `size` counts name + value + 32 octets per entry (§4.1).
    cdef readonly Py_ssize_t size
    cdef readonly Py_ssize_t max_size
    cdef readonly Py_ssize_t count
    cdef readonly unsigned long long inserted     # entries ever added: numbers them for lookups
    cdef list _ring                               # capacity a power of two, None where free
    cdef Py_ssize_t _oldest                       # ring position of the oldest entry

    cdef tuple get(self, Py_ssize_t i)            # i = 0 is the newest entry
    cdef tuple pop_oldest(self)
    cdef int push(self, tuple entry, Py_ssize_t entry_size) except -1


cdef class Decoder:
    cdef readonly Py_ssize_t max_header_list_size
    cdef readonly Py_ssize_t max_table_size       # our acknowledged SETTINGS_HEADER_TABLE_SIZE
    cdef readonly HeaderTable table
    cdef Py_ssize_t _update_bound                 # -1, or the most the next block's first
                                                  # size update may say (the limit shrank)

    cpdef list decode(self, bytes data)
    cpdef set_max_table_size(self, Py_ssize_t size)
    cdef tuple _field(self, Py_ssize_t index)
    cdef bytes _string(self, const uint8_t *p, Py_ssize_t n, Py_ssize_t *pos)
    cdef int _add(self, tuple entry) except -1
    cdef int _resize(self, Py_ssize_t size) except -1


cdef class Encoder:
    cdef readonly Py_ssize_t max_table_size       # the most we use, whatever the peer allows
    cdef readonly HeaderTable table
    cdef dict _field_seq                          # (name, value) -> `inserted` number of entry
    cdef dict _name_seq                           # name -> `inserted` number of newest entry
    cdef Py_ssize_t _smallest_pending             # -1, or the table size to announce first
    cdef Py_ssize_t _final_pending                # -1, or the table size to announce last
    cdef uint8_t *_out
    cdef Py_ssize_t _out_len
    cdef Py_ssize_t _out_cap

    cpdef bytes encode(self, headers)
    cpdef set_peer_table_size(self, Py_ssize_t size)
    cdef Py_ssize_t _dynamic_index(self, dict seqs, object key)
    cdef int _add(self, tuple entry) except -1
    cdef int _resize(self, Py_ssize_t size) except -1
    cdef int _forget_oldest(self) except -1
    cdef int _reserve(self, Py_ssize_t extra) except -1
    cdef int _put_int(self, uint8_t first, int prefix_bits, Py_ssize_t value) except -1
    cdef int _put_string(self, bytes s) except -1
