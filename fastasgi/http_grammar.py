"""RFC 9110 grammar shared by the Python layer (settings, the WebSocket handshake, the Date header).

The Cython parser and serializer have their own byte tables for the same rules; this is for text
checked once, off the hot path."""

import re
import time

# RFC 9110 §5.6.2: token = 1*tchar. A field name, a method, an upgrade protocol are tokens.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# RFC 9110 §5.6.7: IMF-fixdate, the form of the Date header, always in English and GMT.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imf_fixdate(timestamp: float | None = None) -> bytes:
    """``timestamp`` (now, by default) as an HTTP date, e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``.

    NOTE: written out here rather than with email.utils.formatdate, whose import (the email
    package, datetime, calendar, random) is close to 1 MB of every worker's memory."""
    t = time.gmtime(timestamp)
    return (f"{DAY_NAMES[t.tm_wday]}, {t.tm_mday:02d} {MONTH_NAMES[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT").encode("ascii")
