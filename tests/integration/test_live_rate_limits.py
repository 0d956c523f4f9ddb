"""Limits on the live endpoint: connection attempts per visitor and per tenant, and open
connections per client address, each refused with close code 4429 and a reason. Clients
name their address through X-Forwarded-For, which the server trusts from 127.0.0.1 (its
default trusted proxy), as it would from a reverse proxy."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from imagechat.app import create_app
from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from imagechat.settings import Settings
from tests.helpers import make_tenant
from tests.integration.conftest import Live
from tests.live_server import RECV_TIMEOUT_SECS, LiveClient, serve

# Each test runs on the fast path and on the ASGI route (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True

SECRET = "acme-secret-for-tests"


@contextlib.asynccontextmanager
async def server(sqlite_url: str, clock: FixedClock, live_path: str,
                 **limits: Any) -> AsyncIterator[Live]:
    settings = Settings(database_url=sqlite_url, **limits)
    app = create_app(settings, clock=clock, live_fast_path=live_path == "fast")
    async with serve(app, settings, live_path) as address, httpx.AsyncClient(
        base_url=f"http://{address}"
    ) as http:
        await make_tenant(app, "acme", api_secret=SECRET)
        yield Live(app=app, address=address, http=http)


@contextlib.asynccontextmanager
async def viewer(live: Live, address: str, tenant: str = "demo",
                 **params: str) -> AsyncIterator[LiveClient]:
    query = httpx.QueryParams({"urlId": "img-1", "tenantIdWS": tenant, **params})
    async with connect(f"ws://{live.address}/sub?{query}", max_queue=None,
                       additional_headers={"X-Forwarded-For": address},
                       open_timeout=RECV_TIMEOUT_SECS) as ws:
        yield LiveClient(ws)


async def closed_with(client: LiveClient) -> tuple[int | None, str]:
    try:
        while True:
            await asyncio.wait_for(client.ws.recv(), RECV_TIMEOUT_SECS)
    except ConnectionClosed as exc:
        return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("condition not met in 5 s")


POINTS = itertools.count(1)


async def admitted(live: Live, count: int) -> None:
    """Wait until the hub has admitted `count` connections (one at a time keeps order)."""
    await until(lambda: len(live.app.state.hub.connections) == count)


async def receive_a_write(live: Live, tenant: str, *clients: LiveClient) -> None:
    # A new point each time: a second conversation at the same point would be the first.
    response = await live.http.post(f"/comment-image-chats/{tenant}", json={
        "urlId": "img-1", "x": next(POINTS), "y": 5, "comment": "hi", "commenterName": "W"})
    assert response.status_code == 200, response.text
    for client in clients:
        assert (await client.next_of("new-image-chat"))["urlId"] == "img-1"


async def test_connection_attempts_over_the_visitor_limit_close_with_4429(
    sqlite_url: str, clock: FixedClock, live_path: str
) -> None:
    async with server(sqlite_url, clock, live_path, rate_limit_connects_per_visitor=2) as live:
        async with viewer(live, "10.0.0.1") as one:
            await admitted(live, 1)
            async with viewer(live, "10.0.0.1") as two:
                await admitted(live, 2)
                async with viewer(live, "10.0.0.1") as three:
                    code, reason = await closed_with(three)
                    assert code == 4429
                    assert reason.startswith("Too many connection attempts; try again in ")
                async with viewer(live, "10.0.0.2") as other:
                    await admitted(live, 3)
                    await receive_a_write(live, "demo", one, two, other)
        assert live.app.state.hub.stats["rate_limited_connects"] == 1


async def test_signed_in_viewers_are_counted_by_user_not_address(
    sqlite_url: str, clock: FixedClock, live_path: str
) -> None:
    token = orjson.dumps(make_token(SECRET, {"id": "u-1"}, clock.now_ms())).decode()
    async with server(sqlite_url, clock, live_path, rate_limit_connects_per_visitor=1) as live, \
            viewer(live, "10.0.0.1", "acme", sso=token) as signed_in:
        await admitted(live, 1)
        async with viewer(live, "10.0.0.1", "acme") as anonymous:
            await admitted(live, 2)
            # The same user from another address is still the same visitor.
            async with viewer(live, "10.0.0.9", "acme", sso=token) as again:
                assert (await closed_with(again))[0] == 4429
            await receive_a_write(live, "acme", signed_in, anonymous)


async def test_the_tenant_connect_limit_spares_other_tenants(
    sqlite_url: str, clock: FixedClock, live_path: str
) -> None:
    async with server(sqlite_url, clock, live_path, rate_limit_connects_per_tenant=2) as live, \
            viewer(live, "10.0.1.1") as first:
        await admitted(live, 1)
        async with viewer(live, "10.0.1.2") as second:
            await admitted(live, 2)
            async with viewer(live, "10.0.1.3") as third:
                assert (await closed_with(third))[0] == 4429
            async with viewer(live, "10.0.1.3", "acme") as elsewhere:
                await admitted(live, 3)
                await receive_a_write(live, "demo", first, second)
                await receive_a_write(live, "acme", elsewhere)


async def test_open_connections_per_address_are_bounded_and_freed_on_close(
    sqlite_url: str, clock: FixedClock, live_path: str
) -> None:
    async with server(sqlite_url, clock, live_path, ws_max_connections_per_ip=2) as live:
        hub = live.app.state.hub
        async with viewer(live, "10.0.0.1") as one:
            async with viewer(live, "10.0.0.1") as two:
                async with viewer(live, "10.0.0.1") as three:
                    assert await closed_with(three) == (
                        4429, "Too many open connections from your address (at most 2).")
                async with viewer(live, "10.0.0.2") as elsewhere:
                    await admitted(live, 3)
                    await receive_a_write(live, "demo", one, two, elsewhere)
            await until(lambda: hub.per_address["10.0.0.1"] == 1)
            async with viewer(live, "10.0.0.1") as replacement:  # a slot came free
                await admitted(live, 2)
                await receive_a_write(live, "demo", one, replacement)
        await until(lambda: not hub.per_address)  # nothing left behind
        assert hub.stats["address_full_refusals"] == 1
