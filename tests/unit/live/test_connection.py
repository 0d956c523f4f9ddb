"""LiveConnection, bytes in and bytes out: a fake transport records what the server writes."""

from __future__ import annotations

import asyncio
import struct
from collections import Counter
from typing import Any

import pytest

from imagechat.live import connection as connection_module
from imagechat.live.connection import MAX_EARLY_MESSAGES, LiveConnection
from imagechat.live.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    close_frame,
    parse_close,
    text_frame,
)
from imagechat.live.handshake import Request
from imagechat.live.limits import LiveLimits
from tests.unit.live.client_frames import client_frame, server_frames, unmasked_frame

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"


def handshake(path: str = "/sub?urlId=img-1&tenantIdWS=t1&userIdWS=Ann+Lee") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: chat.example.com\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
        "Origin: https://blog.example.com\r\n\r\n"
    ).encode()


class FakeTransport:
    def __init__(self) -> None:
        self.written = bytearray()
        self.buffered = 0  # nothing drains: every written byte stays "unsent"
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.written += data
        self.buffered += len(data)

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("203.0.113.7", 50123) if name == "peername" else default

    def take(self) -> bytes:
        data, self.written = bytes(self.written), bytearray()
        return data


class FakeHub:
    def __init__(self, limits: LiveLimits | None = None) -> None:
        self.limits = limits or LiveLimits()
        self.admitted: list[tuple[LiveConnection, Request]] = []
        self.texts: list[bytes] = []
        self.dropped: list[LiveConnection] = []
        self.stats: Counter[str] = Counter()  # operator counters the connection may bump

    def admit(self, conn: LiveConnection, request: Request) -> None:
        self.admitted.append((conn, request))

    def on_text(self, conn: LiveConnection, payload: bytes) -> None:
        self.texts.append(payload)

    def drop(self, conn: LiveConnection) -> None:
        self.dropped.append(conn)


def connect(hub: FakeHub | None = None) -> tuple[LiveConnection, FakeTransport, FakeHub]:
    hub = hub or FakeHub()
    conn = LiveConnection(app_state={"hub": hub})
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    return conn, transport, hub


def opened(admit: bool = True) -> tuple[LiveConnection, FakeTransport, FakeHub]:
    conn, transport, hub = connect()
    conn.data_received(handshake())
    if admit:
        assert conn.admitted_now() == []
        assert transport.take().startswith(b"HTTP/1.1 101 ")
    return conn, transport, hub


def after_handshake(data: bytes) -> bytes:
    """What follows the 101 answer, when the answer is in `data`."""
    if data.startswith(b"HTTP/1.1 101 "):
        return data[data.index(b"\r\n\r\n") + 4:]
    return data


def close_code_written(transport: FakeTransport) -> int:
    frames = server_frames(after_handshake(transport.take()))
    assert frames[-1][:2] == (True, OP_CLOSE)
    return parse_close(frames[-1][2])[0]


# --- handshake -----------------------------------------------------------------------


def test_handshake_to_sub_answers_101_and_asks_the_hub_to_admit() -> None:
    conn, transport, hub = connect()
    assert conn.peer == "203.0.113.7"
    conn.data_received(handshake())
    # The handshake completes once the hub has admitted (and subscribed) the connection.
    assert transport.take() == b""
    assert not transport.closed
    [(admitted, request)] = hub.admitted
    assert admitted is conn
    assert request.path == "/sub"
    assert request.params == {"urlId": "img-1", "tenantIdWS": "t1", "userIdWS": "Ann Lee"}
    assert request.headers["origin"] == "https://blog.example.com"
    assert conn.open and not conn.admitted
    assert conn.reader is not None
    assert conn.reader.max_size == hub.limits.max_message_bytes
    assert conn.admitted_now() == []
    response = transport.take()
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert ACCEPT in response


def test_handshake_arriving_byte_by_byte() -> None:
    conn, transport, hub = connect()
    data = handshake()
    for i in range(len(data) - 1):
        conn.data_received(data[i : i + 1])
    assert transport.written == b"" and hub.admitted == []
    conn.data_received(data[-1:])
    assert len(hub.admitted) == 1
    conn.admitted_now()
    assert ACCEPT in transport.take()


def test_frames_sent_with_the_handshake_are_processed() -> None:
    conn, transport, _hub = connect()
    conn.data_received(handshake() + client_frame(OP_PING, b"early") + client_frame(OP_TEXT, b"x"))
    response = transport.take()
    head, _, rest = response.partition(b"\r\n\r\n")
    assert ACCEPT in head + b"\r\n"
    assert server_frames(rest) == [(True, OP_PONG, b"early")]
    assert conn.admitted_now() == [b"x"]


def test_trailing_slash_on_sub_is_accepted() -> None:
    conn, transport, hub = connect()
    conn.data_received(handshake("/sub/?urlId=a"))
    assert len(hub.admitted) == 1
    conn.admitted_now()
    assert transport.take().startswith(b"HTTP/1.1 101 ")


@pytest.mark.parametrize("path", ["/other", "/", "/subscribe", "/sub/extra"])
def test_handshake_elsewhere_gets_404_and_is_closed(path: str) -> None:
    conn, transport, hub = connect()
    conn.data_received(handshake(path))
    assert transport.take().startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert transport.closed
    assert hub.admitted == []
    assert not conn.open


def test_handshake_without_a_hub_gets_404() -> None:
    conn = LiveConnection(app_state={})
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    conn.data_received(handshake())
    assert transport.take().startswith(b"HTTP/1.1 404 ")
    assert transport.closed


def test_bad_handshake_gets_its_status_and_is_closed() -> None:
    conn, transport, hub = connect()
    conn.data_received(handshake().replace(b"GET ", b"POST ", 1))
    assert transport.take().startswith(b"HTTP/1.1 405 ")
    assert transport.closed
    assert hub.admitted == []


def test_oversized_handshake_gets_400() -> None:
    conn, transport, hub = connect()
    conn.data_received(b"GET /sub HTTP/1.1\r\nX-Filler: " + b"a" * (17 * 1024))
    assert transport.take().startswith(b"HTTP/1.1 400 ")
    assert transport.closed
    assert hub.admitted == []


def test_connection_lost_before_the_handshake_does_not_tell_the_hub() -> None:
    conn, _transport, hub = connect()
    conn.connection_lost(None)
    assert hub.dropped == []


def test_connection_lost_after_the_handshake_tells_the_hub() -> None:
    conn, _transport, hub = opened()
    conn.connection_lost(None)
    assert hub.dropped == [conn]
    assert conn.write(text_frame(b"{}")) is False


# --- messages ------------------------------------------------------------------------


def test_ping_is_answered_with_a_pong_carrying_the_same_payload() -> None:
    conn, transport, _hub = opened()
    conn.data_received(client_frame(OP_PING, b"\x00hello\xff"))
    assert server_frames(transport.take()) == [(True, OP_PONG, b"\x00hello\xff")]
    conn.data_received(client_frame(OP_PING, b""))
    assert server_frames(transport.take()) == [(True, OP_PONG, b"")]


def test_pong_is_ignored() -> None:
    conn, transport, hub = opened()
    conn.data_received(client_frame(OP_PONG, b"x"))
    assert transport.written == b""
    assert hub.texts == []


def test_text_after_admission_goes_to_the_hub() -> None:
    conn, transport, hub = opened()
    stream = client_frame(OP_TEXT, b'{"op":"join"}') + client_frame(OP_TEXT, b"ping")
    conn.data_received(stream)
    assert hub.texts == [b'{"op":"join"}', b"ping"]
    assert transport.written == b""


def test_text_before_admission_is_queued_for_admitted_now() -> None:
    conn, _transport, hub = opened(admit=False)
    conn.data_received(client_frame(OP_TEXT, b"one") + client_frame(OP_TEXT, b"two"))
    assert hub.texts == []
    assert conn.admitted_now() == [b"one", b"two"]
    assert conn.admitted
    conn.data_received(client_frame(OP_TEXT, b"three"))
    assert hub.texts == [b"three"]


async def test_too_many_messages_before_admission_close_with_4429() -> None:
    conn, transport, hub = opened(admit=False)
    conn.data_received(b"".join(client_frame(OP_TEXT, b"m") for _ in range(MAX_EARLY_MESSAGES)))
    assert transport.written == b""
    conn.data_received(client_frame(OP_TEXT, b"one too many"))
    assert close_code_written(transport) == 4429
    assert hub.dropped == [conn]


async def test_binary_frame_closes_with_1003() -> None:
    conn, transport, hub = opened()
    conn.data_received(client_frame(OP_BINARY, b"\x00\x01") + client_frame(OP_TEXT, b"late"))
    assert close_code_written(transport) == 1003
    assert transport.closed
    assert conn.closing and not conn.open
    assert hub.dropped == [conn]
    assert hub.texts == []  # nothing after the failing frame is handled


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (unmasked_frame(OP_TEXT, b"hi"), 1002),
        (client_frame(OP_TEXT, b"\xff\xfe"), 1007),
        (client_frame(OP_TEXT, b"x" * (16 * 1024 + 1)), 1009),
    ],
)
async def test_protocol_errors_close_with_their_code(data: bytes, code: int) -> None:
    conn, transport, hub = opened()
    conn.data_received(data)
    assert close_code_written(transport) == code
    assert transport.closed
    assert hub.dropped == [conn]


@pytest.mark.parametrize(("code", "echo"), [(1000, 1000), (1001, 1001), (4001, 4001)])
async def test_client_close_frame_is_echoed(code: int, echo: int) -> None:
    conn, transport, hub = opened()
    conn.data_received(client_frame(OP_CLOSE, struct.pack("!H", code) + b"bye"))
    assert server_frames(transport.take()) == [(True, OP_CLOSE, struct.pack("!H", echo))]
    assert transport.closed
    assert hub.dropped == [conn]


@pytest.mark.parametrize("payload", [b"", struct.pack("!H", 1005), struct.pack("!H", 999)])
async def test_client_close_without_a_usable_code_is_answered_with_1000(payload: bytes) -> None:
    conn, transport, _hub = opened()
    conn.data_received(client_frame(OP_CLOSE, payload))
    assert close_code_written(transport) == 1000


async def test_frames_after_the_client_close_are_ignored() -> None:
    conn, transport, hub = opened()
    conn.data_received(client_frame(OP_CLOSE, struct.pack("!H", 1000))
                       + client_frame(OP_TEXT, b"ignored") + client_frame(OP_PING, b"p"))
    assert [f[1] for f in server_frames(transport.take())] == [OP_CLOSE]
    conn.data_received(client_frame(OP_TEXT, b"also ignored"))
    assert hub.texts == []


# --- sending and closing -------------------------------------------------------------


def test_write_before_the_handshake_is_refused() -> None:
    conn = LiveConnection(app_state={"hub": FakeHub()})
    assert conn.write(text_frame(b"{}")) is False


def test_write_queues_the_frame_unchanged() -> None:
    conn, transport, _hub = opened()
    frame = text_frame(b'{"type":"new-vote"}')
    assert conn.write(frame) is True
    assert transport.take() == frame


async def test_slow_consumer_is_closed_with_4001() -> None:
    limits = LiveLimits(max_send_buffer=1000)
    conn, transport, hub = connect(FakeHub(limits))
    conn.data_received(handshake())
    conn.admitted_now()
    transport.take()
    transport.buffered = 0
    frame = text_frame(b"x" * 98)  # 100 bytes on the wire
    for _ in range(10):
        assert conn.write(frame) is True  # up to exactly the bound is fine
    assert transport.get_write_buffer_size() == 1000
    assert conn.write(frame) is False  # this one passes it
    data = transport.take()
    expected = close_frame(4001, "Too far behind; reconnect and resume.")
    assert data.endswith(expected)
    assert data == frame * 11 + expected
    assert parse_close(server_frames(expected)[0][2])[0] == 4001
    assert transport.closed
    assert hub.dropped == [conn]
    assert conn.write(frame) is False  # and nothing more is queued
    assert transport.written == b""


async def test_close_sends_one_close_frame_and_aborts_a_peer_that_never_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection_module, "CLOSE_GRACE_SECS", 0.01)
    conn, transport, hub = opened()
    conn.close(4403, "This origin may not connect here.")
    conn.close(1000, "again")  # a second close is a no-op
    frames = server_frames(transport.take())
    assert frames == [(True, OP_CLOSE, close_frame(4403, "This origin may not connect here.")[2:])]
    assert hub.dropped == [conn]
    assert transport.closed and not transport.aborted
    await asyncio.sleep(0.05)
    assert transport.aborted


async def test_close_on_a_transport_already_closing_writes_nothing() -> None:
    conn, transport, hub = opened()
    transport.closed = True
    conn.close(1001, "Server shutting down.")
    assert transport.written == b""
    assert hub.dropped == [conn]
    assert conn.closing
