# cython: language_level=3
"""Interface of the response field rules, for the serializer and the HTTP/1.1 protocol."""

cpdef bytes error_response(int status, str message)
cpdef bytes early_hints(object links)

# b"HTTP/1.1 <status> <reason>\r\n"; the caller has checked 100 <= status <= 999.
cdef bytes status_line(int status)
cdef bint is_field_value(const unsigned char *s, Py_ssize_t n) noexcept
# Raise HeaderTypeError / InvalidHeader unless name is a bytes token and value a bytes field
# value; ``role`` names the field in the message ("header", "trailer", "default header").
cdef int check_field(object name, object value, str role) except -1
cdef bytes checked_header_line(object name, object value, str role)
