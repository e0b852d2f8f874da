"""Hypothesis strategies that damage valid requests the way fuzzers and attackers do."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.parser.strategies import requests

# Bytes that change how a request is framed when they appear in the wrong place.
SPECIAL = [b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b";", b",", b"\x7f", b"\x0b",
           b"#", b"\r\n\r\n", b"0", b"a", b"\xff"]


@st.composite
def mutated(draw: st.DrawFn, wire: bytes) -> bytes:
    """wire with 1-3 byte flips, insertions, deletions or duplicated header lines.

    Half the edits land in the head, where they matter most; the rest anywhere."""
    data = bytearray(wire)
    for _ in range(draw(st.integers(1, 3))):
        head_end = data.find(b"\r\n\r\n")
        in_head = head_end > 0 and draw(st.booleans())
        end = head_end + 4 if in_head else len(data)
        pos = draw(st.integers(0, max(0, end - 1)))
        kind = draw(st.sampled_from(["flip", "special", "insert", "delete", "duplicate"]))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "special" and data:
            data[pos:pos + 1] = draw(st.sampled_from(SPECIAL))
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from(SPECIAL) | st.binary(min_size=1, max_size=2))
        elif kind == "delete" and data:
            del data[pos:pos + draw(st.integers(1, 3))]
        elif kind == "duplicate" and head_end > 0:
            lines = bytes(data[:head_end]).split(b"\r\n")
            if len(lines) > 1:
                i = draw(st.integers(1, len(lines) - 1))
                lines.insert(i, lines[i])
                data[:head_end] = b"\r\n".join(lines)
    return bytes(data)


@st.composite
def mutated_pipelines(draw: st.DrawFn) -> bytes:
    """One to three valid requests in a row, then damaged."""
    batch = draw(st.lists(requests(), min_size=1, max_size=3))
    return draw(mutated(b"".join(r.wire for r in batch)))
