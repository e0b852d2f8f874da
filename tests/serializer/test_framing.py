from __future__ import annotations

import pytest

from fastasgi._serializer import BodyLengthError, InvalidHeader, ResponseEncoder
from fastasgi.protocols.write_budget import LARGE_WRITE
from tests.serializer.wire import field_values, read_with_h11, split_response
from tests.support.settings import response_defaults


def test_first_body_returns_head_and_body_in_one_bytes(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"content-type", b"text/plain")])
    raw = encoder.body(b"hello")
    assert type(raw) is bytes
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw.endswith(b"\r\n\r\nhello")


def test_single_final_body_gets_its_content_length(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    _, fields, body = split_response(encoder.body(b"hello"))
    assert field_values(fields, b"content-length") == [b"5"]
    assert field_values(fields, b"transfer-encoding") == []
    assert body == b"hello"
    assert encoder.keep_alive


def test_empty_single_final_body_gets_content_length_zero(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    _, fields, body = split_response(encoder.body(b""))
    assert field_values(fields, b"content-length") == [b"0"]
    assert body == b""


def test_apps_content_length_is_honoured_and_not_repeated(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"Content-Length", b"10")])
    first = encoder.body(b"hello", more_body=True)
    _, fields, body = split_response(first)
    assert field_values(fields, b"content-length") == [b"10"]
    assert body == b"hello"
    assert encoder.body(b"world") == b"world"
    assert encoder.complete and encoder.keep_alive


def test_later_body_with_content_length_is_the_apps_bytes_unchanged(
    encoder: ResponseEncoder,
) -> None:
    data = b"x" * 1000
    encoder.start(200, [(b"content-length", b"1000")])
    encoder.body(b"", more_body=True)
    assert encoder.body(data) is data


@pytest.mark.parametrize(
    "value", [b"abc", b"-1", b"+5", b"1.0", b"", b"5, 5", b"0x10", b"1" * 19, b"\xd9\xa3"]
)
def test_content_length_that_is_not_all_digits_is_refused(
    encoder: ResponseEncoder, value: bytes
) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"content-length", value)])
    assert not encoder.started


def test_content_length_given_twice_is_refused(encoder: ResponseEncoder) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"content-length", b"5"), (b"Content-Length", b"5")])


def test_content_length_with_transfer_encoding_is_refused(encoder: ResponseEncoder) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"transfer-encoding", b"chunked"), (b"content-length", b"5")])
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")])


@pytest.mark.parametrize(
    "value", [b"gzip", b"identity", b"gzip, chunked", b"chunked, gzip", b"chunked,chunked", b""]
)
def test_transfer_encoding_other_than_chunked_is_refused(
    encoder: ResponseEncoder, value: bytes
) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"transfer-encoding", value)])


def test_apps_chunked_transfer_encoding_is_honoured_once(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"Transfer-Encoding", b"Chunked")])
    raw = encoder.body(b"abc")
    _, fields, body = split_response(raw)
    assert field_values(fields, b"transfer-encoding") == [b"Chunked"]
    assert field_values(fields, b"content-length") == []
    assert body == b"3\r\nabc\r\n0\r\n\r\n"


def test_streamed_body_on_http11_is_chunked(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    _, fields, first = split_response(encoder.body(b"hello ", more_body=True))
    assert field_values(fields, b"transfer-encoding") == [b"chunked"]
    assert field_values(fields, b"content-length") == []
    assert first == b"6\r\nhello \r\n"
    assert encoder.body(b"world", more_body=True) == b"5\r\nworld\r\n"
    assert encoder.body(b"") == b"0\r\n\r\n"
    assert encoder.keep_alive


def test_chunk_size_is_lowercase_hex(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    encoder.body(b"", more_body=True)
    assert encoder.body(b"z" * 255, more_body=True) == b"ff\r\n" + b"z" * 255 + b"\r\n"
    assert encoder.body(b"z" * 4096, more_body=True).startswith(b"1000\r\n")


def test_empty_non_final_chunk_writes_nothing(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    _, _, first = split_response(encoder.body(b"", more_body=True))
    assert first == b""
    assert encoder.body(b"", more_body=True) == b""
    assert encoder.body(b"") == b"0\r\n\r\n"


def test_final_chunk_with_data_carries_the_terminator(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    encoder.body(b"a", more_body=True)
    assert encoder.body(b"end") == b"3\r\nend\r\n0\r\n\r\n"
    assert encoder.complete


def test_streamed_body_on_http10_is_close_delimited(encoder: ResponseEncoder) -> None:
    encoder.start(200, [], http11=False, keep_alive=True)
    _, fields, first = split_response(encoder.body(b"hello ", more_body=True))
    assert field_values(fields, b"transfer-encoding") == []
    assert field_values(fields, b"content-length") == []
    assert field_values(fields, b"connection") == [b"close"]
    assert first == b"hello "
    assert encoder.body(b"world") == b"world"
    assert not encoder.keep_alive


def test_apps_chunked_is_not_sent_to_http10_and_length_is_used(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"transfer-encoding", b"chunked")], http11=False, keep_alive=True)
    _, fields, body = split_response(encoder.body(b"abc"))
    assert field_values(fields, b"transfer-encoding") == []
    assert field_values(fields, b"content-length") == [b"3"]
    assert body == b"abc"
    assert encoder.keep_alive


def test_apps_chunked_streamed_to_http10_is_close_delimited(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"transfer-encoding", b"chunked")], http11=False, keep_alive=True)
    _, fields, body = split_response(encoder.body(b"abc", more_body=True))
    assert field_values(fields, b"transfer-encoding") == []
    assert body == b"abc"
    assert not encoder.keep_alive


def test_body_longer_than_content_length_is_refused_and_nothing_written(
    encoder: ResponseEncoder,
) -> None:
    encoder.start(200, [(b"content-length", b"3")])
    with pytest.raises(BodyLengthError):
        encoder.body(b"toolong")
    assert not encoder.complete
    assert encoder.bytes_sent == 0
    # The refused call wrote nothing: the head is still pending and goes out with the next call.
    _, fields, body = split_response(encoder.body(b"abc"))
    assert field_values(fields, b"content-length") == [b"3"]
    assert body == b"abc"


def test_later_body_past_content_length_is_refused(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"content-length", b"5")])
    encoder.body(b"abc", more_body=True)
    with pytest.raises(BodyLengthError):
        encoder.body(b"def", more_body=True)
    assert encoder.bytes_sent == 3
    assert encoder.body(b"de") == b"de"


def test_final_body_short_of_content_length_is_refused_and_closes(
    encoder: ResponseEncoder,
) -> None:
    encoder.start(200, [(b"content-length", b"10")])
    encoder.body(b"abc", more_body=True)
    with pytest.raises(BodyLengthError):
        encoder.body(b"de")
    assert not encoder.keep_alive
    assert not encoder.complete


def test_bytes_sent_counts_body_bytes_without_chunk_framing(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    encoder.body(b"abc", more_body=True)
    encoder.body(b"defgh", more_body=True)
    encoder.body(b"")
    assert encoder.bytes_sent == 8


@pytest.mark.parametrize("data", ["text", bytearray(b"ba"), memoryview(b"mv"), None, 1])
def test_body_that_is_not_bytes_is_a_type_error(encoder: ResponseEncoder, data: object) -> None:
    encoder.start(200, [])
    with pytest.raises(TypeError):
        encoder.body(data)  # type: ignore[arg-type]
    assert encoder.body(b"ok").endswith(b"\r\n\r\nok")


def test_large_head_is_written_whole(encoder: ResponseEncoder) -> None:
    app_headers = [(b"x-h%d" % i, b"v" * 500) for i in range(300)]
    encoder.start(200, app_headers)
    _, fields, body = split_response(encoder.body(b"end"))
    assert fields[:300] == app_headers
    assert body == b"end"


def test_heads_built_at_once_by_several_encoders_stay_apart() -> None:
    # Each encoder holds a head buffer from start() until its head goes out, taken from a pool
    # the encoders share: heads begun before another's is done must not share one.
    encoders = [ResponseEncoder(response_defaults()) for _ in range(3)]
    for i, encoder in enumerate(encoders):
        encoder.start(200 + i, [(b"x-encoder", b"%d" % i)])
    for i, encoder in reversed(list(enumerate(encoders))):
        status_line, fields, body = split_response(encoder.body(b"body %d" % i))
        assert status_line.startswith(b"HTTP/1.1 %d " % (200 + i))
        assert fields[0] == (b"x-encoder", b"%d" % i)
        assert body == b"body %d" % i


def test_a_large_head_then_small_ones_on_every_encoder(encoder: ResponseEncoder) -> None:
    # The buffer a large head grew goes back to the allocator, not to the pool of usual ones.
    other = ResponseEncoder(response_defaults())
    large = [(b"x-h%d" % i, b"v" * 100) for i in range(50)]
    encoder.start(200, large)
    assert split_response(encoder.body(b"a"))[1][:50] == large
    for each in (encoder, other, encoder):
        each.reset()
        each.start(204, [(b"x-small", b"1")])
        assert split_response(each.body(b""))[1][0] == (b"x-small", b"1")


def test_a_refused_start_leaves_the_encoder_ready_for_the_next(encoder: ResponseEncoder) -> None:
    with pytest.raises(InvalidHeader):
        encoder.start(200, [(b"x-fine", b"1"), (b"content-length", b"twelve")])
    encoder.reset()
    encoder.start(200, [(b"x-next", b"2")])
    _, fields, body = split_response(encoder.body(b"ok"))
    assert fields[0] == (b"x-next", b"2") and (b"x-fine", b"1") not in fields
    assert body == b"ok"


def test_chunked_response_reads_back_with_h11(encoder: ResponseEncoder) -> None:
    encoder.start(200, [(b"content-type", b"text/plain")])
    raw = b"".join(
        [
            encoder.body(b"one ", True),
            encoder.body(b"", True),
            encoder.body(b"two", True),
            encoder.body(b""),
        ]
    )
    reading = read_with_h11(raw)
    assert reading.body == b"one two"


# The encoder's COPY_LIMIT, which the write budget exports: pieces this large are handed back,
# not copied.
LARGE = LARGE_WRITE


@pytest.mark.parametrize("headers", [[], [(b"content-length", b"65536")]])
def test_a_large_body_is_handed_back_behind_its_head_not_copied(
        encoder: ResponseEncoder, headers: list[tuple[bytes, bytes]]) -> None:
    body = b"x" * 65536
    encoder.start(200, headers)
    pieces = encoder.body_pieces(body)
    assert type(pieces) is tuple and len(pieces) == 2
    assert pieces[1] is body
    reading = read_with_h11(b"".join(pieces))
    assert reading.body == body and encoder.complete and encoder.keep_alive


def test_large_chunks_are_framed_around_the_piece_not_copied(encoder: ResponseEncoder) -> None:
    first, second = b"a" * LARGE, b"b" * (LARGE + 1)
    encoder.start(200, [])
    head = encoder.body_pieces(first, more_body=True)
    last = encoder.body_pieces(second)
    assert type(head) is tuple and head[1] is first and head[0].endswith(b"\r\n\r\n8000\r\n")
    assert last == (b"8001\r\n", second, b"\r\n0\r\n\r\n")
    reading = read_with_h11(b"".join(head + last))
    assert reading.body == first + second


def test_a_body_under_the_limit_still_goes_out_with_its_head(encoder: ResponseEncoder) -> None:
    encoder.start(200, [])
    out = encoder.body_pieces(b"x" * (LARGE - 1))
    assert type(out) is bytes and out.endswith(b"\r\n\r\n" + b"x" * (LARGE - 1))


def test_a_large_body_after_the_head_is_returned_as_given(encoder: ResponseEncoder) -> None:
    body = b"y" * 65536
    encoder.start(200, [(b"content-length", b"65537")])
    encoder.body(b"x", more_body=True)
    assert encoder.body_pieces(body) is body
