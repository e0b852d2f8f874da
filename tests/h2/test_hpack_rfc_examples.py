"""RFC 7541 Appendix C: every example decodes to the RFC's header list and dynamic table."""

import pytest

from fastasgi._hpack import Decoder, Encoder


def block(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.replace(" ", ""))


def table_state(decoder: Decoder) -> list[tuple[bytes, bytes]]:
    return decoder.table.entries()


AUTHORITY = (b":authority", b"www.example.com")
NO_CACHE = (b"cache-control", b"no-cache")
CUSTOM = (b"custom-key", b"custom-value")
REQUEST_1 = [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"), AUTHORITY]
REQUEST_2 = [*REQUEST_1, NO_CACHE]
REQUEST_3 = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"),
             AUTHORITY, CUSTOM]

STATUS_302 = (b":status", b"302")
STATUS_307 = (b":status", b"307")
PRIVATE = (b"cache-control", b"private")
DATE_21 = (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT")
DATE_22 = (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT")
LOCATION = (b"location", b"https://www.example.com")
GZIP = (b"content-encoding", b"gzip")
COOKIE = (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
RESPONSE_1 = [STATUS_302, PRIVATE, DATE_21, LOCATION]
RESPONSE_2 = [STATUS_307, PRIVATE, DATE_21, LOCATION]
RESPONSE_3 = [(b":status", b"200"), PRIVATE, DATE_22, LOCATION, GZIP, COOKIE]

# (block, header list, table after it newest first, table size), one connection per list.
REQUESTS_PLAIN = [  # C.3
    ("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", REQUEST_1, [AUTHORITY], 57),
    ("8286 84be 5808 6e6f 2d63 6163 6865", REQUEST_2, [NO_CACHE, AUTHORITY], 110),
    ("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
     REQUEST_3, [CUSTOM, NO_CACHE, AUTHORITY], 164),
]
REQUESTS_HUFFMAN = [  # C.4
    ("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", REQUEST_1, [AUTHORITY], 57),
    ("8286 84be 5886 a8eb 1064 9cbf", REQUEST_2, [NO_CACHE, AUTHORITY], 110),
    ("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
     REQUEST_3, [CUSTOM, NO_CACHE, AUTHORITY], 164),
]
RESPONSES_PLAIN = [  # C.5, with a 256-octet table
    (("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
     "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
     "6c65 2e63 6f6d"), RESPONSE_1, [LOCATION, DATE_21, PRIVATE, STATUS_302], 222),
    ("4803 3330 37c1 c0bf", RESPONSE_2, [STATUS_307, LOCATION, DATE_21, PRIVATE], 222),
    (("88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
     "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
     "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
     "3d31"), RESPONSE_3, [COOKIE, GZIP, DATE_22], 215),
]
RESPONSES_HUFFMAN = [  # C.6, with a 256-octet table
    (("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
     "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"),
     RESPONSE_1, [LOCATION, DATE_21, PRIVATE, STATUS_302], 222),
    ("4883 640e ffc1 c0bf", RESPONSE_2, [STATUS_307, LOCATION, DATE_21, PRIVATE], 222),
    (("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
     "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
     "9587 3160 65c0 03ed 4ee5 b106 3d50 07"), RESPONSE_3, [COOKIE, GZIP, DATE_22], 215),
]


def test_literal_with_incremental_indexing_is_added_to_the_table():  # C.2.1
    decoder = Decoder(max_header_list_size=65536)
    data = block("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")
    assert decoder.decode(data) == [(b"custom-key", b"custom-header")]
    assert table_state(decoder) == [(b"custom-key", b"custom-header")]
    assert decoder.table.size == 55


def test_literal_without_indexing_leaves_the_table_empty():  # C.2.2
    decoder = Decoder(max_header_list_size=65536)
    data = block("040c 2f73 616d 706c 652f 7061 7468")
    assert decoder.decode(data) == [(b":path", b"/sample/path")]
    assert table_state(decoder) == []
    assert decoder.table.size == 0


def test_never_indexed_literal_leaves_the_table_empty():  # C.2.3
    decoder = Decoder(max_header_list_size=65536)
    data = block("1008 7061 7373 776f 7264 0673 6563 7265 74")
    assert decoder.decode(data) == [(b"password", b"secret")]
    assert table_state(decoder) == []


def test_indexed_field_comes_from_the_static_table():  # C.2.4
    decoder = Decoder(max_header_list_size=65536)
    assert decoder.decode(block("82")) == [(b":method", b"GET")]
    assert decoder.table.size == 0


@pytest.mark.parametrize(
    ("examples", "table_size"),
    [(REQUESTS_PLAIN, 4096), (REQUESTS_HUFFMAN, 4096),
     (RESPONSES_PLAIN, 256), (RESPONSES_HUFFMAN, 256)],
    ids=["C.3-requests", "C.4-requests-huffman", "C.5-responses", "C.6-responses-huffman"],
)
def test_rfc_example_sequences_decode_with_their_table_states(examples, table_size):
    decoder = Decoder(max_header_list_size=65536, max_table_size=table_size)
    for hex_text, headers, entries, size in examples:
        assert decoder.decode(block(hex_text)) == headers
        assert table_state(decoder) == entries
        assert decoder.table.size == size



def test_integer_examples_of_c1_as_table_size_updates():
    # C.1.1 and C.1.2 use a 5-bit prefix, which is the prefix of a size update (§6.3).
    for data, size in ((b"\x2a", 10), (b"\x3f\x9a\x0a", 1337)):
        decoder = Decoder(max_header_list_size=65536)
        assert decoder.decode(data) == []
        assert decoder.table.max_size == size
        encoder = Encoder()
        encoder.set_peer_table_size(size)
        assert encoder.encode([]) == data
