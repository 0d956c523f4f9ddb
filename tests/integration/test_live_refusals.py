"""What the live endpoint refuses, and how: documented close codes, HTTP errors, isolation
of slow clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from imagechat.auth.sso import make_token
from imagechat.settings import Settings
from tests.helpers import services
from tests.integration.conftest import Live
from tests.live_server import live_client

# Each test runs on the fast path and on the ASGI route (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True


async def test_unknown_tenant_closes_with_4404(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="nobody") as client:
        assert await client.close_code() == 4404


async def test_missing_parameters_close_with_4400(live: Live) -> None:
    async with live_client(live.address, tenantIdWS="demo") as client:
        assert await client.close_code() == 4400


async def test_origin_not_listed_by_the_tenant_closes_with_4403(live: Live) -> None:
    await services(live.app).tenants.create("Acme", tenant_id="acme",
                                            origins=["https://acme.example"])
    url = f"ws://{live.address}/sub?urlId=img-1&tenantIdWS=acme"
    async with connect(url, origin="https://evil.example") as ws:  # type: ignore[arg-type]
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 4403
    async with connect(url, origin="https://acme.example") as ws:  # type: ignore[arg-type]
        await ws.send("ping")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)  # admitted, and `ping` gets no answer


async def test_an_invalid_sso_token_closes_with_4401(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo",
                           sso='{"userDataJSONBase64":"e30=","verificationHash":"00",'
                               '"timestamp":1}') as client:
        assert await client.close_code() == 4401


async def test_unknown_operation_and_broken_json_close_with_4400(live: Live) -> None:
    for message in ('{"op":"explode"}', "{not json", "[1,2]"):
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as client:
            await client.ws.send(message)
            assert await client.close_code() == 4400


async def test_binary_frames_close_with_1003(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as client:
        await client.ws.send(b"\x00\x01")
        assert await client.close_code() == 1003


async def test_other_paths_are_refused_with_404(live: Live, live_path: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"ws://{live.address}/elsewhere"):
            pass
    # Through ASGI, a WebSocket to no route is refused by the server (uvicorn: 403).
    assert info.value.response.status_code == (404 if live_path == "fast" else 403)


async def test_protocol_pings_are_answered(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as client:
        pong = await client.ws.ping(b"hello")
        latency = await asyncio.wait_for(pong, 5)
        assert latency >= 0


@pytest.fixture
def live_settings(database_url: str) -> Settings:
    # A small send bound, so that a stuck client overflows it quickly. Filling the kernel's
    # buffers takes hundreds of writes from one address: write limits are off here.
    return Settings(database_url=database_url, ws_max_send_buffer=16 * 1024,
                    rate_limit_writes_per_visitor=0, rate_limit_writes_per_tenant=0)


async def _stuck_client(address: str) -> socket.socket:
    """A raw client that completes the handshake, then never reads again.

    Non-blocking: the server under test runs in this same event loop."""
    loop = asyncio.get_running_loop()
    host, port = address.split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /sub?urlId=img-1&tenantIdWS=demo HTTP/1.1\r\nHost: {address}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    )
    response = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
    assert response.startswith(b"HTTP/1.1 101")
    return sock


async def test_a_client_that_stops_reading_is_cut_off_and_others_keep_up(live: Live) -> None:
    stuck = await _stuck_client(live.address)
    hub = live.app.state.hub
    try:
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as healthy:
            created = await live.http.post("/comment-image-chats/demo", json={
                "urlId": "img-1", "x": 1, "y": 1, "comment": "start", "commenterName": "A"})
            thread = created.json()["chat"]["windowUrlId"]
            await healthy.events(2)
            long_text = "x" * 4900
            # The kernel's socket buffers absorb a few MB first; bounded: at most 1,500 posts.
            posts = 0
            while hub.stats["slow_consumer_disconnects"] == 0 and posts < 1500:
                await live.http.post(f"/comments/demo?urlId={thread}",
                                     json={"comment": f"{posts} {long_text}",
                                           "commenterName": "A"})
                event = (await healthy.events(2))[0]
                assert event["comment"]["comment"].startswith(f"{posts} ")
                posts += 1
            assert hub.stats["slow_consumer_disconnects"] == 1
            # The healthy client received every event, in order, while the other was cut off.
            await live.http.post(f"/comments/demo?urlId={thread}",
                                 json={"comment": "after", "commenterName": "A"})
            assert (await healthy.events(2))[0]["comment"]["comment"] == "after"
    finally:
        stuck.close()


async def test_another_tenants_token_image_and_events_stay_out_of_reach(live: Live) -> None:
    """Tenant A's identity and subscriptions never reach tenant B over the live endpoint."""
    found = services(live.app)
    tenant_a = await found.tenants.create("A", tenant_id="tenant-a")
    tenant_b = await found.tenants.create("B", tenant_id="tenant-b")
    a_admin = json.dumps(make_token(tenant_a.api_secret, {"id": "a-admin", "isAdmin": True},
                                    found.clock.now_ms()))
    # A's signed token is not a user of B: refused, never taken as B's anonymous visitor.
    async with live_client(live.address, urlId="img-1", tenantIdWS="tenant-b",
                           sso=a_admin) as client:
        assert await client.close_code() == 4401
    # A's viewer of the same urlId (also after an explicit join of it) sees nothing of B's
    # writes, nor of B's deletions; B's own viewer sees them all.
    async with live_client(live.address, urlId="img-1", tenantIdWS="tenant-a",
                           sso=a_admin) as a_viewer, \
            live_client(live.address, urlId="img-1", tenantIdWS="tenant-b") as b_viewer:
        await a_viewer.ws.send('{"op":"join","urlId":"img-1"}')
        created = await live.http.post("/comment-image-chats/tenant-b", json={
            "urlId": "img-1", "x": 1, "y": 1, "comment": "B only", "commenterName": "Bea",
            "anonUserId": "anon-b-0001"})
        assert created.status_code == 200, created.text
        chat_id = created.json()["createdChatId"]
        deleted = await live.http.delete(f"/api/v1/image-chats/{chat_id}",
                                         params={"tenantId": "tenant-b"},
                                         headers={"X-API-Key": tenant_b.api_secret})
        assert deleted.status_code == 200, deleted.text
        assert [e["type"] for e in await b_viewer.events(3)] == [
            "new-image-chat", "new-comment", "deleted-image-chat"]
        assert await a_viewer.quiet()
