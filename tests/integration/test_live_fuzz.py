"""Hostile input on the live endpoint: each malformed input gets its documented close code,
the server stays up, and a well-behaved client keeps receiving events throughout."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import socket
import struct

import pytest

from tests.integration.conftest import Live
from tests.live_server import live_client

# Each test runs on the fast path and on the ASGI route (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True,
                 rsv: int = 0) -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header = bytes((first, mask_bit | length))
    elif length < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def open_raw(address: str) -> socket.socket:
    loop = asyncio.get_running_loop()
    host, port = address.split(":")
    sock = socket.socket()
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /sub?urlId=img-1&tenantIdWS=demo HTTP/1.1\r\nHost: {address}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


async def close_code_after(address: str, *frames: bytes) -> int:
    """Send raw frames; return the code of the server's close frame."""
    loop = asyncio.get_running_loop()
    sock = await open_raw(address)
    try:
        await asyncio.sleep(0.05)  # let admission finish, so ordering is realistic
        for frame in frames:
            await loop.sock_sendall(sock, frame)
        received = b""
        while True:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
            if not chunk:
                break
            received += chunk
            at = received.find(b"\x88")
            if at >= 0 and len(received) >= at + 4:
                return int.from_bytes(received[at + 2 : at + 4], "big")
        raise AssertionError(f"no close frame in {received!r}")
    finally:
        sock.close()


TEXT, BINARY, CONT, PING = 0x1, 0x2, 0x0, 0x9
CASES = [
    ("invalid utf-8", [client_frame(TEXT, b"\xff\xfe\xfd")], 1007),
    ("truncated utf-8 across fragments", [client_frame(TEXT, b"\xe2\x82", fin=False),
                                          client_frame(CONT, b"")], 1007),
    ("binary frame", [client_frame(BINARY, b"\x00\x01\x02")], 1003),
    ("oversized frame", [client_frame(TEXT, b"a" * 70_000)], 1009),
    ("oversized fragmented message", [client_frame(TEXT, b"a" * 10_000, fin=False),
                                      client_frame(CONT, b"a" * 10_000)], 1009),
    ("unmasked frame", [client_frame(TEXT, b"{}", masked=False)], 1002),
    ("reserved bits", [client_frame(TEXT, b"{}", rsv=0x40)], 1002),
    ("unknown opcode", [client_frame(0x3, b"x")], 1002),
    ("long ping", [client_frame(PING, b"p" * 126)], 1002),
    ("continuation first", [client_frame(CONT, b"x")], 1002),
    ("broken json", [client_frame(TEXT, b'{"op": "join", ')], 4400),
    ("json array", [client_frame(TEXT, b"[1, 2, 3]")], 4400),
    ("unknown operation", [client_frame(TEXT, b'{"op": "drop-tables"}')], 4400),
    ("bad since", [client_frame(TEXT, b'{"op": "join", "urlId": "x", "since": "soon"}')], 4400),
    ("bad urlId", [client_frame(TEXT, b'{"op": "join", "urlId": 42}')], 4400),
]


@pytest.mark.parametrize(("name", "frames", "code"), CASES, ids=[c[0] for c in CASES])
async def test_malformed_input_gets_its_close_code(
    live: Live, name: str, frames: list[bytes], code: int
) -> None:
    assert await close_code_after(live.address, *frames) == code


async def test_a_flood_of_bad_clients_does_not_disturb_a_good_one(live: Live) -> None:
    rng = random.Random(3)
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as good:
        attackers = [close_code_after(live.address, *rng.choice(CASES)[1]) for _ in range(40)]
        writes = [live.http.post("/comment-image-chats/demo", json={
            "urlId": "img-1", "x": i, "y": i, "comment": f"m{i}", "commenterName": "G"})
            for i in range(10)]
        results = await asyncio.gather(*attackers, *writes)
        assert all(isinstance(code, int) for code in results[:40])
        events = await good.events(20)
        assert [e["seq"] for e in events] == list(range(1, 21))
    assert (await live.http.get("/healthz")).status_code == 200


async def test_a_flood_of_pings_and_text_is_survived(live: Live) -> None:
    loop = asyncio.get_running_loop()
    sock = await open_raw(live.address)
    try:
        burst = b"".join(client_frame(TEXT, b"ping") + client_frame(PING, b"x")
                         for _ in range(2000))
        await loop.sock_sendall(sock, burst)
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as good:
            await live.http.post("/comment-image-chats/demo", json={
                "urlId": "img-1", "x": 1, "y": 1, "comment": "after", "commenterName": "G"})
            assert (await good.next_of("new-image-chat"))["seq"] == 1
    finally:
        sock.close()
