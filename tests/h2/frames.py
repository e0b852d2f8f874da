"""Helpers for the frame-layer tests: raw frames, and reading everything a reader yields."""

import struct

from fastasgi._h2frames import PREFACE, FrameReader, encode_settings


def raw_frame(frame_type: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """A frame as bytes, with no check of its contents: for frames our encoders refuse."""
    header = struct.pack(">I", len(payload))[1:] + bytes([frame_type, flags])
    return header + struct.pack(">I", stream_id) + payload


def fields(frame) -> tuple:
    """What a frame says, for comparing frames read from different splits."""
    return (type(frame), frame.stream_id, *(getattr(frame, name) for name in frame._FIELDS))


def read_all(reader: FrameReader, data: bytes) -> list:
    reader.feed(data)
    frames = []
    while (frame := reader.next_frame()) is not None:
        frames.append(frame)
    return frames


def read_split(data: bytes, cuts: list[int], **kwargs) -> list:
    """The frames a fresh reader yields when ``data`` arrives cut at ``cuts``."""
    reader = FrameReader(**kwargs)
    frames = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        frames += read_all(reader, data[start:cut])
        start = cut
    return frames


CLIENT_START = PREFACE + encode_settings([])
