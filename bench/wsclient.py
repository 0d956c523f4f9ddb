"""A minimal WebSocket subscriber (RFC 6455 client side) as an asyncio protocol.

Subscribers run in their own processes and must cost as little CPU as possible, so that the
server under test, not the clients, sets the pace: no task per connection, no library, frames
parsed from one buffer. Server frames are unmasked; the few frames a client sends (pongs, the
Socket.IO handshake) are masked with an all-zero key, which RFC 6455 allows.

Socket.IO (Engine.IO v4 over the `websocket` transport) needs three more rules: answer the
open packet `0{...}` with `40` (join the default namespace), answer the ping `2` with `3`,
and count only `42[...]` event packets.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Callable
from typing import Any

OP_TEXT = 0x1
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

# What a connection hands to its owner for each event frame: (connection, arrival, payload).
FrameSink = Callable[["Subscriber", float, bytes], None]


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame masked with the zero key (payload bytes stay as they are)."""
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, 0x80 | length))
    elif length < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


def handshake_request(host: str, port: int, target: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


class Subscriber(asyncio.Protocol):
    """One subscriber connection; counts event frames and hands payloads to `sink`.

    `opened` resolves when the upgrade succeeds; `ready` when the first event frame arrives
    (every server under test sends one once the subscription is in place: ImageChat's
    presence `p-u`, the reference servers' hello).
    """

    __slots__ = ("_buf", "_request", "frames", "index", "opened", "ready", "sink", "socketio",
                 "transport", "wire")

    def __init__(self, index: int, request: bytes, socketio: bool, sink: FrameSink | None,
                 *, wire: list[tuple[int, int]] | None = None) -> None:
        loop = asyncio.get_running_loop()
        self.index = index
        self._request = request
        self.socketio = socketio
        self.sink = sink
        self.wire = wire  # when set: (header bytes, payload bytes) of each event frame
        self.transport: asyncio.Transport | None = None
        self._buf = b""  # bytes not yet parsed (the handshake's, then a partial frame)
        self.opened: asyncio.Future[None] = loop.create_future()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.frames = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.opened, self.ready):
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))
        self.transport = None

    def data_received(self, data: bytes) -> None:
        if not self.opened.done():
            self._handshake(data)
            return
        buf = self._buf + data if self._buf else data
        size = len(buf)
        pos = 0
        while size - pos >= 2:
            first = buf[pos]
            length = buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            opcode = first & 0x0F
            if opcode == OP_TEXT:
                self._on_text(buf, pos, start, end)
            elif opcode == OP_PING:
                self.send(OP_PONG, buf[start:end])
            elif opcode == OP_CLOSE:
                self.send(OP_CLOSE, buf[start : start + 2])
                if self.transport is not None:
                    self.transport.close()
                return
            pos = end
        self._buf = buf[pos:] if pos < size else b""

    def _handshake(self, data: bytes) -> None:
        head = self._buf + data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            self._buf = head
            return
        self._buf = b""
        if not head.startswith(b"HTTP/1.1 101"):
            self.opened.set_exception(ConnectionError(head[:200].decode(errors="replace")))
            if self.transport is not None:
                self.transport.close()
            return
        self.opened.set_result(None)
        rest = head[end + 4 :]
        if rest:
            self.data_received(rest)

    def _on_text(self, buf: bytes, pos: int, start: int, end: int) -> None:
        if self.socketio:
            kind = buf[start : start + 2]
            if kind == b"2":  # Engine.IO ping
                self.send(OP_TEXT, b"3")
                return
            if kind[:1] == b"0":  # Engine.IO open: join the default namespace
                self.send(OP_TEXT, b"40")
                return
            if kind != b"42":  # namespace acks and other packets are not events
                return
        self.frames += 1
        if self.wire is not None:
            self.wire.append((start - pos, end - start))
        if not self.ready.done():
            self.ready.set_result(None)
        if self.sink is not None:
            self.sink(self, time.time(), buf[start:end])

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(opcode, payload))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.send(OP_CLOSE, (1000).to_bytes(2, "big"))
            self.transport.close()
