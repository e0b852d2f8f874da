"""The access line: uvicorn's by default, or gunicorn-style atoms under --access-log-format.

Every access record carries uvicorn's attributes (``client_addr``, ``request_line``,
``status_code`` with its reason phrase), so formatter strings written for uvicorn work with any
formatter class. A format is parsed once at startup; what it names decides what the request
cycle measures (``needs_timing``), so a server that logs no duration reads no clock per request.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

__all__ = ["AccessLogFormat", "status_text"]

_STATUS_TEXT = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}

# %(x)s and %({name}x)s, the forms gunicorn's access_log_format takes.
_ATOM = re.compile(r"%\((\{[^}]*\}[io]|[A-Za-z]+)\)")
_TIMED_ATOMS = frozenset("TMDL")


def status_text(status: int) -> str:
    """``200 OK`` as uvicorn logs it; a status HTTPStatus does not know is the number alone;
    0 (no response went out) is ``-``."""
    if not status:
        return "-"
    return _STATUS_TEXT.get(status) or str(status)


class AccessLogFormat:
    """A gunicorn-style access format, e.g. ``%(h)s "%(r)s" %(s)s %(b)s %(M)sms``.

    Unknown atoms render as ``-`` like gunicorn's; a format that is not a valid %-format at all
    is refused at startup rather than on the first request."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self.atoms = frozenset(_ATOM.findall(fmt))
        self.needs_timing = bool(self.atoms & _TIMED_ATOMS)
        self.request_headers = [a[1:-2].lower().encode("latin-1")
                                for a in self.atoms if a.endswith("}i")]
        self.response_headers = [a[1:-2].lower().encode("latin-1")
                                 for a in self.atoms if a.endswith("}o")]
        try:
            fmt % _Missing({})
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a %-style format ({exc})") from None

    def render(
        self, remote: str, head: Any, request_line: str, status: int,
        bytes_sent: int, response_headers: Any, duration: float | None,
    ) -> dict[str, Any]:
        """The atoms this format names, for one request; ``duration`` is None when unmeasured."""
        atoms = self.atoms
        values: dict[str, Any] = {}
        if "h" in atoms:
            values["h"] = remote
        for name in ("l", "u"):
            if name in atoms:
                values[name] = "-"
        if "t" in atoms:
            values["t"] = time.strftime("[%d/%b/%Y:%H:%M:%S %z]")
        if "r" in atoms:
            values["r"] = request_line
        if "m" in atoms:
            values["m"] = head.method
        if "U" in atoms:
            values["U"] = head.raw_path.decode("ascii", "replace")
        if "q" in atoms:
            values["q"] = head.query_string.decode("ascii", "replace")
        if "H" in atoms:
            values["H"] = f"HTTP/{head.http_version}"
        if "s" in atoms:
            values["s"] = str(status) if status else "-"
        if "b" in atoms:
            values["b"] = str(bytes_sent) if status else "-"
        if "B" in atoms:
            values["B"] = bytes_sent if status else "-"
        if "p" in atoms:
            values["p"] = f"<{os.getpid()}>"
        if duration is not None:
            values["T"] = int(duration)
            values["M"] = int(duration * 1_000)
            values["D"] = int(duration * 1_000_000)
            values["L"] = f"{duration:.6f}"
        if "a" in atoms or "f" in atoms or self.request_headers:
            request = _collect(head.headers, (b"user-agent", b"referer", *self.request_headers))
            values["a"] = request.get(b"user-agent", "-")
            values["f"] = request.get(b"referer", "-")
            for atom in atoms:
                if atom.endswith("}i"):
                    values[atom] = request.get(atom[1:-2].lower().encode("latin-1"), "-")
        if self.response_headers:
            response = _collect(response_headers or (), self.response_headers)
            for atom in atoms:
                if atom.endswith("}o"):
                    values[atom] = response.get(atom[1:-2].lower().encode("latin-1"), "-")
        return _Missing(values)


def _collect(headers: Iterable[Any], wanted: Iterable[bytes]) -> dict[bytes, str]:
    """The values of the wanted headers, repeated ones joined with ", " (RFC 9110 §5.3)."""
    names = set(wanted)
    found: dict[bytes, str] = {}
    for name, value in headers:
        key = bytes(name).lower()
        if key in names:
            text = bytes(value).decode("latin-1")
            found[key] = f"{found[key]}, {text}" if key in found else text
    return found


class _Missing(dict):  # type: ignore[type-arg]
    """An atom the request cannot fill (or no atom at all) renders as ``-``."""

    def __missing__(self, key: str) -> str:
        return "-"
