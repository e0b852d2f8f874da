"""RFC 9110 grammar shared by the Python layer (settings, the WebSocket handshake).

The Cython parser and serializer have their own byte tables for the same rules; this is for text
checked once, off the hot path."""

import re

# RFC 9110 §5.6.2: token = 1*tchar. A field name, a method, an upgrade protocol are tokens.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
