"""Heartbeats of the live endpoint."""

from __future__ import annotations

import asyncio

import pytest

from imagechat.live.frames import OP_CLOSE, parse_close
from imagechat.settings import Settings
from tests.integration.conftest import Live
from tests.integration.test_live_refusals import _stuck_client
from tests.live_server import live_client
from tests.unit.live.client_frames import server_frames

# Each test runs on the fast path and on the ASGI route (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True


@pytest.fixture
def live_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, ws_heartbeat_secs=0.2,
                    ws_idle_timeout_secs=0.6)


async def test_a_silent_peer_is_closed_and_an_answering_one_is_kept(
    live: Live, live_path: str
) -> None:
    silent = await _stuck_client(live.address)  # never sends, never answers pings
    loop = asyncio.get_running_loop()
    try:
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as healthy:
            # The websockets client answers the server's pings by itself.
            await asyncio.sleep(1.5)
            received = await loop.sock_recv(silent, 65536)
            # The frames it was sent after the 101 answer (pings, then a close). Parsed, not
            # searched: a ping's payload is random bytes (the ASGI server's pings).
            frames = server_frames(received)
            closes = [payload for _fin, opcode, payload in frames if opcode == OP_CLOSE]
            assert closes, frames  # a close frame reached the silent peer
            code = parse_close(closes[0])[0]
            # Through ASGI the server pings and closes (uvicorn: 1011), not the hub.
            assert code == (4408 if live_path == "fast" else 1011)
            await live.http.post("/comment-image-chats/demo", json={
                "urlId": "img-1", "x": 1, "y": 1, "comment": "still here", "commenterName": "A"})
            assert (await healthy.next_of("new-image-chat"))["seq"] == 1
    finally:
        silent.close()
