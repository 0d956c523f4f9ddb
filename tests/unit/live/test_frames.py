"""RFC 6455 framing: server frames out, masked client frames in, and the errors a server owes."""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Generator

import pytest
from websockets.frames import Close, Frame, Opcode

from imagechat.live.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    Message,
    ProtocolError,
    close_frame,
    encode_frame,
    parse_close,
    text_frame,
    unmask,
)
from tests.unit.live.client_frames import client_frame, unmasked_frame

MAX = 16 * 1024


def ws_parse(data: bytes, *, mask: bool = False) -> Frame:
    """Parse one frame with the `websockets` library (as a client would read ours)."""
    consumed = 0

    def read_exact(n: int) -> Generator[None, None, bytes]:
        nonlocal consumed
        assert consumed + n <= len(data), "websockets wanted more bytes than the frame has"
        chunk = data[consumed : consumed + n]
        consumed += n
        return chunk
        yield  # a generator, as websockets expects

    parser = Frame.parse(read_exact, mask=mask, max_size=None)
    with pytest.raises(StopIteration) as done:
        next(parser)
    assert consumed == len(data), "the frame is longer than its header says"
    return done.value.value  # type: ignore[no-any-return]


def error_of(data: bytes, max_size: int = MAX) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        FrameReader(max_size).feed(data)
    return info.value


# --- encoding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "length_byte", "header_len"),
    [(0, 0, 2), (125, 125, 2), (126, 126, 4), (65535, 126, 4), (65536, 127, 10)],
)
def test_encode_frame_length_encodings(size: int, length_byte: int, header_len: int) -> None:
    payload = os.urandom(size)
    frame = encode_frame(OP_BINARY, payload)
    assert frame[0] == 0x80 | OP_BINARY  # FIN, no RSV bits
    assert frame[1] == length_byte  # mask bit clear: server frames are never masked
    assert len(frame) == header_len + size
    if header_len == 4:
        assert struct.unpack("!H", frame[2:4])[0] == size
    elif header_len == 10:
        assert struct.unpack("!Q", frame[2:10])[0] == size
    assert frame[header_len:] == payload


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_encoded_frames_parse_identically_with_websockets(size: int) -> None:
    payload = os.urandom(size)
    parsed = ws_parse(encode_frame(OP_BINARY, payload))
    assert parsed.opcode is Opcode.BINARY
    assert parsed.fin is True
    assert parsed.data == payload


def test_encode_frame_without_fin() -> None:
    frame = encode_frame(OP_TEXT, b"part", fin=False)
    assert frame[0] == OP_TEXT
    parsed = ws_parse(frame)
    assert parsed.fin is False
    assert parsed.opcode is Opcode.TEXT


def test_text_frame_sets_the_text_opcode_and_is_unmasked() -> None:
    frame = text_frame(b'{"type":"new-vote"}')
    assert frame == b"\x81\x13" + b'{"type":"new-vote"}'
    assert ws_parse(frame).data == b'{"type":"new-vote"}'


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 17, 1000])
def test_unmask_matches_websockets_apply_mask(size: int) -> None:
    from websockets.frames import apply_mask

    payload, key = os.urandom(size), os.urandom(4)
    assert unmask(payload, key) == apply_mask(payload, key)
    assert unmask(unmask(payload, key), key) == payload


# --- close frames --------------------------------------------------------------------


def test_close_frame_carries_code_and_reason() -> None:
    frame = close_frame(4001, "Too far behind")
    assert frame[0] == 0x80 | OP_CLOSE
    assert frame[2:] == struct.pack("!H", 4001) + b"Too far behind"
    close = Close.parse(ws_parse(frame).data)
    assert (close.code, close.reason) == (4001, "Too far behind")


def test_close_frame_truncates_long_reasons_to_125_bytes() -> None:
    frame = close_frame(1000, "x" * 500)
    assert frame[1] == 125
    assert len(frame) == 2 + 125
    assert frame[4:] == b"x" * 123


def test_close_frame_truncation_keeps_the_reason_valid_utf8() -> None:
    # Reasons embed client input (e.g. an unknown tenant id); cutting a multi-byte
    # character in half makes the close frame invalid, and browsers then fail with 1006.
    reason = "No site with tenant id '" + "é" * 100 + "'."  # 24 ASCII bytes, then 2-byte chars
    frame = close_frame(4404, reason)
    assert len(frame) <= 2 + 125
    sent = frame[4:].decode("utf-8")  # must not raise
    assert reason.startswith(sent)
    assert len(sent.encode()) >= 122  # cut at a character boundary, not much shorter
    assert Close.parse(ws_parse(frame).data).code == 4404


def test_parse_close_with_and_without_payload() -> None:
    assert parse_close(b"") == (1005, "")
    assert parse_close(struct.pack("!H", 1000)) == (1000, "")
    assert parse_close(struct.pack("!H", 4001) + "bye ✓".encode()) == (4001, "bye ✓")
    assert parse_close(close_frame(1001, "going")[2:]) == (1001, "going")


# --- reading client frames -----------------------------------------------------------


def test_masked_text_frame_is_read() -> None:
    reader = FrameReader(MAX)
    assert reader.feed(client_frame(OP_TEXT, b'{"op":"join"}')) == [
        Message(OP_TEXT, b'{"op":"join"}')
    ]


def test_byte_by_byte_and_one_chunk_give_the_same_messages() -> None:
    rng = random.Random(6455)
    stream = b"".join([
        client_frame(OP_TEXT, b"hello"),
        client_frame(OP_PING, b"p1"),
        client_frame(OP_TEXT, "é∑".encode() * 60),  # 2-byte length
        client_frame(OP_TEXT, bytes(rng.randrange(32, 127) for _ in range(70000)), fin=True),
        client_frame(OP_BINARY, b"\x00\xff"),
        client_frame(OP_TEXT, b"", fin=True),
        client_frame(OP_CLOSE, struct.pack("!H", 1000)),
    ])
    whole = FrameReader(100_000).feed(stream)
    bytewise = FrameReader(100_000)
    pieces: list[Message] = []
    for i in range(len(stream)):
        pieces += bytewise.feed(stream[i : i + 1])
    assert pieces == whole
    assert [m.opcode for m in whole] == [
        OP_TEXT, OP_PING, OP_TEXT, OP_TEXT, OP_BINARY, OP_TEXT, OP_CLOSE
    ]
    assert whole[2].payload == "é∑".encode() * 60
    assert len(whole[3].payload) == 70000


def test_partial_frame_yields_nothing_until_complete() -> None:
    frame = client_frame(OP_TEXT, b"x" * 300)
    reader = FrameReader(MAX)
    assert reader.feed(frame[:3]) == []
    assert reader.feed(frame[3:-1]) == []
    assert reader.feed(frame[-1:]) == [Message(OP_TEXT, b"x" * 300)]


def test_frame_serialized_by_websockets_parses_identically() -> None:
    for opcode, ours, data in [
        (Opcode.TEXT, OP_TEXT, "héllo ✓".encode()),
        (Opcode.TEXT, OP_TEXT, b"y" * 1000),
        (Opcode.BINARY, OP_BINARY, os.urandom(70000)),
        (Opcode.PING, OP_PING, b"abc"),
        (Opcode.PONG, OP_PONG, b""),
    ]:
        wire = Frame(opcode, data).serialize(mask=True)
        assert FrameReader(100_000).feed(wire) == [Message(ours, data)]


def test_fragmented_text_message_is_reassembled() -> None:
    stream = (client_frame(OP_TEXT, b'{"op":', fin=False)
              + client_frame(OP_CONTINUATION, b'"join",', fin=False)
              + client_frame(OP_CONTINUATION, b'"urlId":"a"}'))
    reader = FrameReader(MAX)
    assert reader.feed(stream) == [Message(OP_TEXT, b'{"op":"join","urlId":"a"}')]
    # The reader is ready for the next message afterwards.
    assert reader.feed(client_frame(OP_TEXT, b"next")) == [Message(OP_TEXT, b"next")]


def test_fragmented_message_from_websockets_is_reassembled() -> None:
    wire = (Frame(Opcode.TEXT, b"abc", fin=False).serialize(mask=True)
            + Frame(Opcode.CONT, b"def", fin=True).serialize(mask=True))
    assert FrameReader(MAX).feed(wire) == [Message(OP_TEXT, b"abcdef")]


def test_ping_in_the_middle_of_a_fragmented_message_is_delivered() -> None:
    reader = FrameReader(MAX)
    assert reader.feed(client_frame(OP_TEXT, b"part1-", fin=False)) == []
    assert reader.feed(client_frame(OP_PING, b"are you there")) == [
        Message(OP_PING, b"are you there")
    ]
    assert reader.feed(client_frame(OP_CONTINUATION, b"part2")) == [
        Message(OP_TEXT, b"part1-part2")
    ]


def test_utf8_split_across_fragments_is_accepted() -> None:
    text = "✓".encode()  # three bytes
    stream = (client_frame(OP_TEXT, b"a" + text[:1], fin=False)
              + client_frame(OP_CONTINUATION, text[1:2], fin=False)
              + client_frame(OP_CONTINUATION, text[2:] + b"b"))
    assert FrameReader(MAX).feed(stream) == [Message(OP_TEXT, "a✓b".encode())]


def test_binary_messages_keep_the_binary_opcode() -> None:
    reader = FrameReader(MAX)
    assert reader.feed(client_frame(OP_BINARY, b"\xff\xfe")) == [Message(OP_BINARY, b"\xff\xfe")]
    stream = client_frame(OP_BINARY, b"\xff", fin=False) + client_frame(OP_CONTINUATION, b"\xfe")
    assert reader.feed(stream) == [Message(OP_BINARY, b"\xff\xfe")]  # not UTF-8 checked


def test_message_of_exactly_max_size_is_accepted() -> None:
    assert FrameReader(100).feed(client_frame(OP_TEXT, b"z" * 100)) == [
        Message(OP_TEXT, b"z" * 100)
    ]


# --- protocol errors -----------------------------------------------------------------


def test_unmasked_client_frame_is_1002() -> None:
    assert error_of(unmasked_frame(OP_TEXT, b"hi")).close_code == 1002


@pytest.mark.parametrize("rsv", [0x40, 0x20, 0x10])
def test_reserved_bits_are_1002(rsv: int) -> None:
    assert error_of(client_frame(OP_TEXT, b"hi", rsv=rsv)).close_code == 1002


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
def test_unknown_opcode_is_1002(opcode: int) -> None:
    assert error_of(client_frame(opcode, b"")).close_code == 1002


def test_control_frame_over_125_bytes_is_1002() -> None:
    assert error_of(client_frame(OP_PING, b"p" * 126)).close_code == 1002
    # 125 bytes is fine.
    assert FrameReader(MAX).feed(client_frame(OP_PING, b"p" * 125)) == [
        Message(OP_PING, b"p" * 125)
    ]


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_fragmented_control_frame_is_1002(opcode: int) -> None:
    assert error_of(client_frame(opcode, b"", fin=False)).close_code == 1002


def test_continuation_without_a_start_is_1002() -> None:
    assert error_of(client_frame(OP_CONTINUATION, b"orphan")).close_code == 1002


def test_continuation_after_a_finished_message_is_1002() -> None:
    reader = FrameReader(MAX)
    assert reader.feed(client_frame(OP_TEXT, b"done")) == [Message(OP_TEXT, b"done")]
    with pytest.raises(ProtocolError) as info:
        reader.feed(client_frame(OP_CONTINUATION, b"more"))
    assert info.value.close_code == 1002


@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_new_data_frame_during_a_fragmented_message_is_1002(opcode: int) -> None:
    stream = client_frame(OP_TEXT, b"start", fin=False) + client_frame(opcode, b"again")
    assert error_of(stream).close_code == 1002


def test_frame_over_max_size_is_1009_before_its_payload_arrives() -> None:
    frame = client_frame(OP_TEXT, b"x" * 101)
    # The header alone is enough to refuse it: no need to buffer the payload.
    assert error_of(frame[:6], max_size=100).close_code == 1009


def test_huge_declared_length_is_1009() -> None:
    header = bytes((0x80 | OP_TEXT, 0x80 | 127)) + struct.pack("!Q", 2**62) + os.urandom(4)
    assert error_of(header).close_code == 1009


def test_fragmented_message_over_max_size_is_1009() -> None:
    reader = FrameReader(100)
    assert reader.feed(client_frame(OP_TEXT, b"a" * 60, fin=False)) == []
    with pytest.raises(ProtocolError) as info:
        reader.feed(client_frame(OP_CONTINUATION, b"b" * 41))
    assert info.value.close_code == 1009


def test_invalid_utf8_text_is_1007() -> None:
    assert error_of(client_frame(OP_TEXT, b"\xc3\x28")).close_code == 1007
    assert error_of(client_frame(OP_TEXT, b"\xed\xa0\x80")).close_code == 1007  # surrogate


def test_invalid_utf8_across_fragments_is_1007() -> None:
    stream = (client_frame(OP_TEXT, b"ok\xe2\x9c", fin=False)
              + client_frame(OP_CONTINUATION, b"!"))  # the 3-byte sequence never completes
    assert error_of(stream).close_code == 1007


def test_protocol_error_carries_a_reason() -> None:
    exc = error_of(unmasked_frame(OP_TEXT, b"x"))
    assert exc.reason
    assert str(exc) == exc.reason
