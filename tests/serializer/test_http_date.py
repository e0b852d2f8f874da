"""The Date header's value (RFC 9110 §5.6.7 IMF-fixdate), against the standard library's."""

from __future__ import annotations

from email.utils import formatdate

from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi.http_grammar import imf_fixdate


@settings(deadline=None)
@given(st.floats(min_value=0, max_value=2**33, allow_nan=False))
def test_imf_fixdate_is_what_email_utils_formats(timestamp: float) -> None:
    assert imf_fixdate(timestamp) == formatdate(timestamp, usegmt=True).encode("ascii")


def test_rfc_example() -> None:
    assert imf_fixdate(784111777) == b"Sun, 06 Nov 1994 08:49:37 GMT"
