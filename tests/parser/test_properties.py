"""Property: any valid request stream, cut anywhere, parses to exactly the requests generated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi._parser import RequestParser
from tests.parser.events import feed_pieces, head_fields, messages, split_at
from tests.parser.strategies import GeneratedRequest, pipelines, requests
from tests.support.settings import http_limits


def _check(batch: list[GeneratedRequest], pieces: list[bytes]) -> None:
    parser = RequestParser(http_limits())
    found = messages(feed_pieces(parser, pieces))
    assert len(found) == len(batch)
    for message, request in zip(found, batch):
        assert head_fields(message.head) == request.expected
        assert message.body == request.body
        assert message.complete
    assert parser.buffered == 0
    assert not parser.in_body


@settings(max_examples=200, deadline=None)
@given(pipelines())
def test_generated_pipelines_split_at_random_points_parse_to_the_model(
        case: tuple[list[GeneratedRequest], list[int]]) -> None:
    batch, cuts = case
    _check(batch, split_at(b"".join(r.wire for r in batch), cuts))


@settings(max_examples=60, deadline=None)
@given(requests())
def test_generated_request_fed_one_byte_at_a_time_parses_to_the_model(
        request: GeneratedRequest) -> None:
    wire = request.wire
    _check([request], [wire[i:i + 1] for i in range(len(wire))])


@settings(max_examples=100, deadline=None)
@given(requests(), st.data())
def test_generated_request_body_bytes_are_handed_out_as_soon_as_fed(
        request: GeneratedRequest, data: st.DataObject) -> None:
    """After each feed the body handed out so far is exactly the body bytes fed so far."""
    parser = RequestParser(http_limits())
    cuts = data.draw(st.lists(st.integers(0, len(request.wire)), max_size=8))
    delivered = b""
    fed = 0
    for piece in split_at(request.wire, cuts):
        events = feed_pieces(parser, [piece])
        fed += len(piece)
        delivered += b"".join(e for e in events if isinstance(e, bytes))
        assert delivered == request.body[:sum(1 for o in request.body_offsets if o < fed)]
    assert delivered == request.body
