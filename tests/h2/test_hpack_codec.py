"""HPACK decoder and encoder (RFC 7541): rejections, limits, encoder choices, round trips."""

import hpack
import pytest
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hypothesis import given, settings
from hypothesis import strategies as st

from fastasgi import _huffman
from fastasgi._hpack import Decoder, Encoder, HeaderListTooLarge, HPACKError

LIMIT = 65536


def decode(data: bytes, **kwargs) -> list[tuple[bytes, bytes]]:
    return Decoder(max_header_list_size=kwargs.pop("max_header_list_size", LIMIT),
                   **kwargs).decode(data)


# --- rejections -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x80", "index 0"),
        (b"\xbe", "index 62 with an empty dynamic table"),
        (b"\xff\x80\x80\x80\x80\x08", "index of 2**31 + 127 overflows"),
        (b"\xff\xff\xff\xff\xff\xff\xff\x7f", "integer with too many continuation bytes"),
        (b"\xff\x80\x00", "integer padded with a zero continuation byte"),
        (b"\xff", "integer truncated"),
        (b"\x00", "literal without its name"),
        (b"\x40\x0acustom", "name shorter than its length"),
        (b"\x00\x01a", "literal without its value"),
        (b"\x00\x84\xff\xff\xff\xff\x01a", "Huffman name containing EOS"),
        (b"\x00\x82\x1f\xff\x01a", "Huffman padding of 11 bits"),
        (b"\x00\x81\x18\x01a", "Huffman padding that is not all ones"),
        (b"\x3f\xe2\x1f", "size update to 4097 over a limit of 4096"),
        (b"\x82\x20", "size update after a header field"),
    ],
)
def test_malformed_blocks_are_rejected(data, why):
    with pytest.raises(HPACKError) as info:
        decode(data)
    assert type(info.value) is HPACKError, why


def test_size_update_up_to_the_limit_is_accepted_and_resizes_the_table():
    decoder = Decoder(max_header_list_size=LIMIT)
    assert decoder.decode(b"\x3f\xe1\x1f\x82") == [(b":method", b"GET")]  # 4096
    assert decoder.decode(b"\x3f\x11") == []                               # 48
    assert decoder.table.max_size == 48


def test_size_updates_may_repeat_at_the_block_start():
    decoder = Decoder(max_header_list_size=LIMIT)
    assert decoder.decode(b"\x20\x3f\x11\x82") == [(b":method", b"GET")]
    assert decoder.table.max_size == 48


def test_size_update_shrinks_the_table_and_evicts_oldest_entries():
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.decode(b"\x40\x01a\x01b" + b"\x40\x01c\x01d")       # two 34-octet entries
    decoder.decode(b"\x3f\x04")                                   # max size 35
    assert decoder.table.entries() == [(b"c", b"d")]
    assert decoder.table.size == 34


def test_lowered_setting_requires_a_size_update_in_the_next_block():
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.set_max_table_size(100)
    with pytest.raises(HPACKError):
        decoder.decode(b"\x82")
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.set_max_table_size(100)
    with pytest.raises(HPACKError):
        decoder.decode(b"\x3f\x46")                                # 101 > 100
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.set_max_table_size(100)
    assert decoder.decode(b"\x3f\x45\x82") == [(b":method", b"GET")]
    assert decoder.decode(b"\x82") == [(b":method", b"GET")]


def test_limit_lowered_then_raised_requires_the_lowest_size_first():
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.set_max_table_size(100)
    decoder.set_max_table_size(4096)
    with pytest.raises(HPACKError):
        decoder.decode(b"\x3f\xe1\x1f")                        # straight to 4096
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.set_max_table_size(100)
    decoder.set_max_table_size(4096)
    assert decoder.decode(b"\x3f\x45\x3f\xe1\x1f\x82") == [(b":method", b"GET")]
    assert decoder.table.max_size == 4096


def test_entry_larger_than_the_table_empties_it_without_error():
    decoder = Decoder(max_header_list_size=LIMIT, max_table_size=40)
    decoder.decode(b"\x40\x01a\x01b")
    assert decoder.decode(b"\x40\x01c\x0a0123456789") == [(b"c", b"0123456789")]  # 43 > 40
    assert decoder.table.count == 0
    assert decoder.table.size == 0


def test_header_list_over_the_limit_raises_after_updating_the_table():
    decoder = Decoder(max_header_list_size=100)
    data = b"\x40\x0acustom-key\x0ccustom-value" + b"\x00\x01x\x40" + b"v" * 64
    with pytest.raises(HeaderListTooLarge):
        decoder.decode(data)
    # the block was decoded to its end: its indexed entry is there for the next block
    assert decoder.decode(b"\xbe") == [(b"custom-key", b"custom-value")]


def test_header_list_size_counts_32_octets_per_field():
    two_fields = b"\x40\x01a\x01b" + b"\xbe"               # (1 + 1 + 32) * 2 = 68
    assert decode(two_fields, max_header_list_size=68) == [(b"a", b"b"), (b"a", b"b")]
    with pytest.raises(HeaderListTooLarge):
        decode(two_fields, max_header_list_size=67)


def test_static_fields_are_shared_objects():
    first = decode(b"\x82")[0]
    assert decode(b"\x82")[0] is first


# --- encoder --------------------------------------------------------------------------------

def test_encoder_uses_static_table_matches():
    encoder = Encoder()
    assert encoder.encode([(b":status", b"200"), (b":status", b"404")]) == b"\x88\x8d"


def test_encoder_indexes_common_response_headers():
    encoder = Encoder()
    headers = [(b":status", b"200"), (b"content-type", b"text/html; charset=utf-8"),
               (b"server", b"fastasgi")]
    first = encoder.encode(headers)
    assert first[1] == 0x40 | 31                        # content-type, incremental indexing
    assert encoder.encode(headers) == b"\x88\xbf\xbe"   # both now in the dynamic table


def test_encoder_never_indexes_credentials():
    encoder = Encoder()
    block = encoder.encode([(b"set-cookie", b"session=secret")])
    assert block[:2] == b"\x1f\x28"                     # §6.2.3, name index 55
    assert encoder.table.count == 0
    decoder = Decoder(max_header_list_size=LIMIT)
    assert decoder.decode(block) == [(b"set-cookie", b"session=secret")]


def test_encoder_does_not_index_per_response_values():
    encoder = Encoder()
    block = encoder.encode([(b"content-length", b"1234")])
    assert block[0] == 0x0f and block[1] == 28 - 15     # §6.2.2, name index 28
    assert encoder.table.count == 0


def test_encoder_uses_huffman_only_when_shorter():
    encoder = Encoder()
    text = encoder.encode([(b"x-text", b"aaaaaaaa")])
    assert text[-6] == 0x80 | 5                         # 8 x 5 bits -> 5 octets
    binary = encoder.encode([(b"x-binary", b"\xff\xfe\xfd")])
    assert binary[-4] == 3                              # raw, Huffman would be longer


def test_encoder_announces_a_smaller_peer_table_at_the_next_block():
    encoder = Encoder()
    encoder.encode([(b"server", b"fastasgi")])
    encoder.set_peer_table_size(0)
    assert encoder.table.count == 0
    block = encoder.encode([(b":status", b"200")])
    assert block == b"\x20\x88"
    assert encoder.encode([(b":status", b"200")]) == b"\x88"


def test_encoder_announces_the_smallest_size_then_the_final_one():
    encoder = Encoder()
    encoder.set_peer_table_size(0)
    encoder.set_peer_table_size(2048)
    block = encoder.encode([])
    assert block == b"\x20\x3f\xe1\x0f"                 # 0, then 2048
    decoder = Decoder(max_header_list_size=LIMIT)
    decoder.decode(block)
    assert decoder.table.max_size == 2048


def test_encoder_never_grows_past_its_own_maximum():
    encoder = Encoder(max_table_size=1024)
    assert encoder.encode([]) == b"\x3f\xe1\x07"        # 1024, announced once
    encoder.set_peer_table_size(65536)
    assert encoder.encode([]) == b""
    assert encoder.table.max_size == 1024


def test_encoder_takes_any_32_bit_peer_table_size():
    # RFC 9113 §6.5.2 sets no bound on SETTINGS_HEADER_TABLE_SIZE (found by fuzzing: a value
    # above 2**31-1 escaped the connection as ValueError).
    encoder = Encoder()
    encoder.set_peer_table_size(2**32 - 1)
    assert encoder.encode([]) == b""                    # still the default 4096: no update
    assert encoder.table.max_size == 4096


def test_encoder_skips_indexing_an_entry_that_would_flush_the_table():
    encoder = Encoder()
    encoder.encode([(b"x-big", b"v" * 4000)])
    assert encoder.table.count == 0


def test_encoder_eviction_keeps_lookups_consistent():
    encoder = Encoder(max_table_size=128)
    decoder = Decoder(max_header_list_size=LIMIT, max_table_size=128)
    for i in range(50):
        headers = [(b"x-n", str(i % 7).encode()), (b"x-m", str(i % 3).encode())]
        assert decoder.decode(encoder.encode(headers)) == headers
    assert decoder.table.entries() == encoder.table.entries()


# --- round trips and the hpack library as an oracle ------------------------------------------

NAMES = st.sampled_from([b":status", b"content-type", b"server", b"set-cookie", b"x-custom",
                         b"content-length", b"date", b"vary", b"x-long-header-name"])
FIELDS = st.tuples(st.one_of(NAMES, st.binary(min_size=1, max_size=40)),
                   st.binary(max_size=120))
BLOCKS = st.lists(st.lists(FIELDS, max_size=8), min_size=1, max_size=4)


@settings(max_examples=80, deadline=None)
@given(BLOCKS, st.sampled_from([0, 100, 256, 4096]))
def test_encode_decode_round_trip(blocks, table_size):
    encoder = Encoder()
    encoder.set_peer_table_size(table_size)
    decoder = Decoder(max_header_list_size=1 << 20)
    for headers in blocks:
        assert decoder.decode(encoder.encode(headers)) == headers
        assert decoder.table.entries() == encoder.table.entries()


@settings(max_examples=80, deadline=None)
@given(BLOCKS)
def test_hpack_library_decodes_our_blocks(blocks):
    encoder = Encoder()
    theirs = hpack.Decoder()
    theirs.max_header_list_size = 1 << 20
    for headers in blocks:
        assert theirs.decode(encoder.encode(headers), raw=True) == headers


@settings(max_examples=80, deadline=None)
@given(BLOCKS, st.booleans(), st.sampled_from([None, 0, 200, 4096]))
def test_we_decode_the_hpack_library_blocks(blocks, huffman, table_size):
    theirs = hpack.Encoder()
    ours = Decoder(max_header_list_size=1 << 20)
    if table_size is not None:
        theirs.header_table_size = table_size
    for headers in blocks:
        assert ours.decode(theirs.encode(headers, huffman=huffman)) == headers


def test_hpack_library_sensitive_fields_decode():
    theirs = hpack.Encoder()
    block = theirs.encode([hpack.NeverIndexedHeaderTuple(b"authorization", b"Bearer x")])
    assert decode(block) == [(b"authorization", b"Bearer x")]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_huffman_round_trip_on_arbitrary_bytes(data):
    code = _huffman.encode(data)
    assert code == HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode(data)
    assert _huffman.decode(code) == data


def test_huffman_rejects_eos_and_bad_padding():
    for bad in (b"\xff\xff\xff\xff", b"\x1f\xff", b"\x18"):
        with pytest.raises(ValueError):
            _huffman.decode(bad)
    assert _huffman.decode(b"\x1f") == b"a"
    assert _huffman.decode(b"") == b""


def test_huffman_code_table_matches_appendix_b_spot_checks():
    assert _huffman.HUFFMAN_CODE[ord("0")] == (0x0, 5)
    assert _huffman.HUFFMAN_CODE[ord("a")] == (0x3, 5)
    assert _huffman.HUFFMAN_CODE[256] == (0x3FFFFFFF, 30)
    assert _huffman.HUFFMAN_CODE[0] == (0x1FF8, 13)


def test_static_table_matches_the_hpack_library():
    from hpack.table import HeaderTable as TheirTable

    from fastasgi._hpack import STATIC_TABLE

    assert STATIC_TABLE == TheirTable.STATIC_TABLE


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), min_size=1, max_size=4), st.sampled_from([0, 64, 4096]))
def test_random_blocks_raise_only_hpack_errors(blocks, max_header_list_size):
    decoder = Decoder(max_header_list_size=max_header_list_size)
    # a populated dynamic table, so random indices can also land inside it
    try:
        decoder.decode(b"\x40\x01a\x01b" * 3)
    except HeaderListTooLarge:
        pass
    assert decoder.table.count == 3
    for data in blocks:
        try:
            headers = decoder.decode(data)
        except HPACKError:
            continue
        assert all(type(n) is bytes and type(v) is bytes for n, v in headers)
        assert decoder.table.size <= decoder.table.max_size <= 4096


def test_integer_with_many_zero_continuation_bytes_is_rejected():
    with pytest.raises(HPACKError):
        decode(b"\xff" + b"\x80" * 10 + b"\x01")


def test_dynamic_table_keeps_the_newest_entries_in_index_order():
    decoder = Decoder(max_header_list_size=1 << 20)
    names = [b"n%03d" % i for i in range(300)]
    decoder.decode(b"".join(b"\x40\x04" + name + b"\x00" for name in names))
    fitting = 4096 // (4 + 32)
    assert decoder.table.count == fitting
    assert decoder.table.entries() == [(name, b"") for name in reversed(names[-fitting:])]
    assert decoder.decode(bytes([0x80 | 62])) == [(names[-1], b"")]
    with pytest.raises(HPACKError):
        decoder.decode(bytes([0xFF, 62 + fitting - 127]))   # one past the oldest entry


def test_huffman_round_trip_of_every_octet():
    every = bytes(range(256))
    assert _huffman.decode(_huffman.encode(every)) == every


def test_encoder_refuses_a_bad_field_before_changing_its_table():
    encoder = Encoder()
    decoder = Decoder(max_header_list_size=LIMIT)
    for bad in (("x-text", b"2"), (b"x-none", None)):
        with pytest.raises(TypeError):
            encoder.encode([(b"x-first", b"1"), bad])
    assert encoder.table.count == 0
    headers = [(b"x-first", b"1")]
    assert decoder.decode(encoder.encode(headers)) == headers
    assert decoder.table.entries() == encoder.table.entries()
