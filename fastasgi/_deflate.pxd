# cython: language_level=3
"""Interface of permessage-deflate (RFC 7692) for the WebSocket codec."""

cdef class DeflateParams:
    cdef readonly bint server_no_context_takeover
    cdef readonly bint client_no_context_takeover
    cdef readonly int server_max_window_bits
    cdef readonly int client_max_window_bits
    cdef readonly int compress_level
    cdef readonly int mem_level


cdef class MessageDeflate:
    cdef readonly DeflateParams params
    cdef object _inflater                 # zlib decompress object, None until needed
    cdef object _deflater                 # zlib compress object, None until needed

    cdef bytes compress(self, object payload)
    cdef bytes flush(self)
    cdef bytes inflate(self, bytes chunk, Py_ssize_t max_length)
    cdef int end_message(self) except -1
