"""History is kept per image up to a count and an age; past them, resume is refused."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from imagechat.bus.base import channel_key
from imagechat.domain.clock import FixedClock
from imagechat.store import event_log
from tests.helpers import create_conversation, services
from tests.integration.conftest import Live
from tests.live_server import live_client

HOUR_MS = 3_600_000


async def _seqs(app: FastAPI, url_id: str) -> list[int]:
    async with services(app).db.read() as conn:
        return [e.seq for e in await event_log.since_seq(conn, "demo", url_id, 0)]


async def test_trim_keeps_the_newest_events_of_each_image(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    for x in range(4):
        await create_conversation(client, url_id="busy", x=x)  # 2 events each: seq 1..8
    await create_conversation(client, url_id="quiet")  # seq 1..2
    removed = await services(app).history.trim(max_events=3, max_age_ms=HOUR_MS,
                                                now_ms=clock.now_ms())
    assert removed == 5
    assert await _seqs(app, "busy") == [6, 7, 8]
    assert await _seqs(app, "quiet") == [1, 2]
    since = (await client.get("/events/demo", params={"urlId": "busy", "since": 4})).json()
    assert since["resyncRequired"] is True
    since = (await client.get("/events/demo", params={"urlId": "busy", "since": 5})).json()
    assert [e["seq"] for e in since["events"]] == [6, 7, 8]


async def test_trim_drops_events_older_than_the_age_bound(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await create_conversation(client, url_id="old")
    clock.advance(2 * HOUR_MS)
    await create_conversation(client, url_id="old")
    removed = await services(app).history.trim(max_events=1000, max_age_ms=HOUR_MS,
                                                now_ms=clock.now_ms())
    assert removed == 2
    assert await _seqs(app, "old") == [3, 4]


async def test_a_node_subscribes_only_while_someone_watches(live: Live) -> None:
    broker = live.app.state.broker
    key = channel_key("demo", "img-1")
    assert key not in broker._keys
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as watcher:
        await create_conversation(live.http, url_id="img-1")
        await watcher.next_of("new-image-chat")
        assert key in broker._keys
    hub = live.app.state.hub
    for _ in range(50):  # the server notices the close as soon as it reads the socket
        if key not in broker._keys:
            break
        await asyncio.sleep(0.05)
    assert key not in broker._keys
    assert key not in hub.channels
