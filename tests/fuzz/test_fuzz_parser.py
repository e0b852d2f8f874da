"""Bounded fuzzing for CI: arbitrary and damaged input, random limits, random splits.

The long-running, coverage-guided counterpart is ``tests/fuzz/fuzz.py parser`` (atheris).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.checks import Limits, check_input
from tests.parser.mutations import mutated_pipelines
from tests.parser.strategies import requests

limits = st.builds(
    Limits,
    max_request_line=st.integers(1, 120),
    max_header_bytes=st.integers(1, 400),
    max_headers=st.integers(1, 8),
    max_body_size=st.integers(0, 300),
)
any_limits = st.one_of(st.just(Limits()), limits)

# Bytes that look like HTTP often enough to get past the request line.
http_alphabet = st.sampled_from(
    [b"GET ", b"POST ", b"/", b"?", b"%41", b" HTTP/1.1", b" HTTP/1.0", b"\r\n", b"\r", b"\n",
     b"Host: h", b"Content-Length: ", b"Transfer-Encoding: chunked", b"Connection: upgrade",
     b"Upgrade: websocket", b": ", b"0", b"5", b"f", b";", b"=", b'"', b"\\", b"\x00", b" ",
     b"\t", b"a", b"\xff", b"\r\n\r\n"])
http_soup = st.lists(http_alphabet, max_size=40).map(b"".join)


@st.composite
def valid_then_garbage(draw: st.DrawFn) -> bytes:
    return draw(requests()).wire + draw(st.binary(max_size=40) | http_soup)


inputs = st.one_of(st.binary(max_size=300), http_soup, mutated_pipelines(), valid_then_garbage())


# A hang guard, not a speed limit: the 500 examples took 20 s alone and 51 s beside CI's other
# compute-bound steps on a shared 2-core machine.
@pytest.mark.timeout(240)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs, st.lists(st.integers(0, 2000), max_size=10), any_limits)
def test_any_input_gives_events_or_a_parse_error_with_bounded_buffering_whatever_the_split(
        data: bytes, cuts: list[int], chosen: Limits) -> None:
    check_input(data, cuts, chosen)


@pytest.mark.timeout(60)
@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(1, 40), any_limits)
def test_endless_input_is_stopped_by_a_limit_and_never_buffered_unboundedly(
        seed: bytes, repeats: int, chosen: Limits) -> None:
    """A long stream fed in many pieces: buffering stays bounded from first byte to last."""
    data = (b"GET / HTTP/1.1\r\nHost: h\r\n" + seed * repeats) * 3
    check_input(data, list(range(0, len(data), 17)), chosen)
