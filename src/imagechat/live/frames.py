"""WebSocket framing (RFC 6455), sans-I/O: bytes in, frames out; frames in, bytes out.

Server frames are never masked, so one encoded frame can be written, unchanged, to every
connection of a channel: the fan-out encodes each event once.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)
_DATA_OPS = (OP_CONTINUATION, OP_TEXT, OP_BINARY)


class ProtocolError(Exception):
    """The peer broke the protocol; `close_code` says how (RFC 6455 §7.4)."""

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        header = bytes((first, length))
    elif length < 65536:
        header = struct.pack("!BBH", first, 126, length)
    else:
        header = struct.pack("!BBQ", first, 127, length)
    return header + payload


def text_frame(payload: bytes) -> bytes:
    return encode_frame(OP_TEXT, payload)


def array_frame(payloads: list[bytes]) -> bytes:
    """JSON payloads as one text frame: the payload alone, or an array of them (batching,
    docs/protocol.md "Batching")."""
    if len(payloads) == 1:
        return text_frame(payloads[0])
    return text_frame(b"[" + b",".join(payloads) + b"]")


def close_frame(code: int, reason: str = "") -> bytes:
    # Control frame payloads are limited to 125 bytes: 2 for the code, 123 for the reason.
    # Cut at a character boundary: a reason that is not valid UTF-8 fails the connection.
    text = reason.encode()[:123].decode("utf-8", "ignore").encode()
    return encode_frame(OP_CLOSE, struct.pack("!H", code) + text)


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, one big integer at a time (fast for chat-sized frames)."""
    length = len(payload)
    if length == 0:
        return payload
    key = (mask * (length // 4 + 1))[:length]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return value.to_bytes(length, "little")


@dataclass(frozen=True, slots=True)
class Frame:
    fin: bool
    opcode: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Message:
    """A complete message: text (already checked to be UTF-8) or a control frame."""

    opcode: int
    payload: bytes


class FrameReader:
    """Turns the bytes a client sends into complete messages.

    Enforces what a server must: client frames are masked, no extension bits, control frames
    are short and unfragmented, text is valid UTF-8, and no message exceeds `max_size`.
    """

    __slots__ = ("_buffer", "_fragment_op", "_fragments", "_fragments_size", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragments_size = 0
        self._fragment_op = 0

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while True:
            frame = self._next_frame()
            if frame is None:
                return messages
            message = self._assemble(frame)
            if message is not None:
                messages.append(message)

    def _next_frame(self) -> Frame | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        if first & 0x70:
            raise ProtocolError(1002, "Reserved bits set but no extension was negotiated.")
        if not second & 0x80:
            raise ProtocolError(1002, "Client frames must be masked.")
        opcode = first & 0x0F
        if opcode not in _CONTROL_OPS and opcode not in _DATA_OPS:
            raise ProtocolError(1002, f"Unknown opcode {opcode}.")
        length = second & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = struct.unpack_from("!H", buf, 2)[0]
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = struct.unpack_from("!Q", buf, 2)[0]
            offset = 10
        if opcode in _CONTROL_OPS and (length > 125 or not first & 0x80):
            raise ProtocolError(1002, "Control frames must be short and unfragmented.")
        if length > self.max_size:
            raise ProtocolError(1009, f"Frame larger than {self.max_size} bytes.")
        end = offset + 4 + length
        if len(buf) < end:
            return None
        mask = bytes(buf[offset : offset + 4])
        payload = unmask(bytes(buf[offset + 4 : end]), mask)
        del buf[:end]
        return Frame(fin=bool(first & 0x80), opcode=opcode, payload=payload)

    def _assemble(self, frame: Frame) -> Message | None:
        if frame.opcode in _CONTROL_OPS:
            return Message(frame.opcode, frame.payload)
        if frame.opcode == OP_CONTINUATION:
            if not self._fragments:
                raise ProtocolError(1002, "Continuation frame without a message to continue.")
        elif self._fragments:
            raise ProtocolError(1002, "New message before the previous one ended.")
        else:
            self._fragment_op = frame.opcode
        self._fragments_size += len(frame.payload)
        if self._fragments_size > self.max_size:
            raise ProtocolError(1009, f"Message larger than {self.max_size} bytes.")
        self._fragments.append(frame.payload)
        if not frame.fin:
            return None
        payload = b"".join(self._fragments)
        opcode = self._fragment_op
        self._fragments = []
        self._fragments_size = 0
        if opcode == OP_TEXT:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(1007, "Text message is not valid UTF-8.") from None
        return Message(opcode, payload)


def parse_close(payload: bytes) -> tuple[int, str]:
    """The code and reason of a close frame; 1005 (no code) for an empty one."""
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise ProtocolError(1002, "A close frame's code takes two bytes.")
    code = struct.unpack_from("!H", payload)[0]
    try:
        return code, payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(1007, "Close reason is not valid UTF-8.") from None
