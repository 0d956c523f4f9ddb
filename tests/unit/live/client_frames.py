"""Frames as a browser sends them: masked with a random key (RFC 6455 §5.3)."""

from __future__ import annotations

import os
import struct


def client_frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask: bytes | None = None
) -> bytes:
    """One masked client frame; `rsv` is OR-ed into the first byte (0x40, 0x20, 0x10)."""
    key = os.urandom(4) if mask is None else mask
    first = (0x80 if fin else 0) | rsv | opcode
    length = len(payload)
    if length < 126:
        header = bytes((first, 0x80 | length))
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + key + masked


def unmasked_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A frame without a mask, which a server must refuse from a client."""
    assert len(payload) < 126
    return bytes(((0x80 if fin else 0) | opcode, len(payload))) + payload


def server_frames(data: bytes) -> list[tuple[bool, int, bytes]]:
    """Split what a server wrote into (fin, opcode, payload); server frames are unmasked."""
    frames = []
    pos = 0
    while pos < len(data):
        first, second = data[pos], data[pos + 1]
        assert not second & 0x80, "server frames must not be masked"
        assert not first & 0x70, "no extension was negotiated"
        length, pos = second & 0x7F, pos + 2
        if length == 126:
            length, pos = struct.unpack_from("!H", data, pos)[0], pos + 2
        elif length == 127:
            length, pos = struct.unpack_from("!Q", data, pos)[0], pos + 8
        assert pos + length <= len(data), "truncated frame"
        frames.append((bool(first & 0x80), first & 0x0F, data[pos : pos + length]))
        pos += length
    return frames
