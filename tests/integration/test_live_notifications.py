"""Notifications reach the connections of the one visitor they are for, on every node and
whatever image those connections watch, and nobody else's."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from imagechat.app import create_app
from imagechat.auth import sso
from imagechat.domain.clock import FixedClock
from imagechat.settings import Settings
from tests.conftest import _empty_postgres
from tests.helpers import make_tenant
from tests.integration.cluster import RedisServer
from tests.live_server import LiveClient, live_client, serve

# Tests that ask for `live_path` run on the fast path and on the ASGI route
# (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True

SECRET = "live-notes-secret"


@contextlib.asynccontextmanager
async def two_nodes(database_url: str, redis_url: str, clock: FixedClock,
                    live_path: str = "fast") -> AsyncIterator[list[tuple[FastAPI, str]]]:
    if database_url.startswith("postgresql"):
        await _empty_postgres(database_url)
    settings = Settings(database_url=database_url, redis_url=redis_url)
    apps = [create_app(settings, clock=clock, live_fast_path=live_path == "fast")
            for _ in range(2)]
    async with contextlib.AsyncExitStack() as stack:
        nodes = [(app, await stack.enter_async_context(serve(app, settings, live_path)))
                 for app in apps]
        yield nodes


def token(clock: FixedClock, user_id: str, name: str, secret: str = SECRET) -> str:
    return json.dumps(sso.make_token(secret, {"id": user_id, "username": name},
                                     clock.now_ms() - 1000))


async def next_notice(client: LiveClient) -> dict[str, Any]:
    return await client.next_of("notification", "notification-update")


async def test_a_notification_reaches_only_its_visitor_on_every_node(
    database_url: str, redis_server: RedisServer, clock: FixedClock, live_path: str
) -> None:
    async with two_nodes(database_url, redis_server.url, clock, live_path) as nodes:
        (app1, one), (_, two) = nodes
        await make_tenant(app1, "studio", api_secret=SECRET)
        await make_tenant(app1, "other", api_secret="other-secret")
        ann, bo, eve = (token(clock, u, n) for u, n in (("ann", "Ann"), ("bo", "Bo"),
                                                        ("eve", "Eve")))
        async with httpx.AsyncClient(base_url=f"http://{two}") as http:
            # Ann is known (she wrote); she opens one tab per node, on two other images.
            response = await http.post("/comment-image-chats/studio", json={
                "urlId": "a.png", "x": 1, "y": 1, "comment": "hello", "sso": ann})
            assert response.status_code == 200, response.text
            async with live_client(one, tenantIdWS="studio", urlId="a.png", sso=ann) as tab1, \
                    live_client(two, tenantIdWS="studio", urlId="b.png", sso=ann) as tab2, \
                    live_client(one, tenantIdWS="studio", urlId="c.png", sso=eve) as other, \
                    live_client(one, tenantIdWS="studio", urlId="c.png",
                                anonUserId="anon-1") as anonymous, \
                    live_client(two, tenantIdWS="other", urlId="c.png",
                                sso=token(clock, "ann", "Ann", "other-secret")) as twin:
                await asyncio.sleep(0.3)  # every node has subscribed its visitors' keys
                created = await http.post("/comment-image-chats/studio", json={
                    "urlId": "c.png", "x": 5, "y": 5, "comment": "@Ann is this right?",
                    "sso": bo})
                assert created.status_code == 200, created.text
                for tab in (tab1, tab2):
                    event = await next_notice(tab)
                    assert event["type"] == "notification"
                    note = event["notification"]
                    assert (note["kind"], note["urlIdWS"], note["fromUserName"]) == (
                        "mention", "c.png", "Bo")
                    assert note["conversationId"] == created.json()["createdChatId"]
                # Ann reads it in one tab: both tabs learn the new count.
                marked = await http.post(f"/user-notifications/{note['_id']}/mark/read",
                                         params={"tenantId": "studio", "sso": ann})
                assert marked.status_code == 200, marked.text
                for tab in (tab1, tab2):
                    update = await next_notice(tab)
                    assert (update["type"], update["count"]) == ("notification-update", 0)
                skip = ("p-u", "new-image-chat", "new-comment", "image-chat-updated")
                for stranger in (other, anonymous, twin):
                    assert await stranger.quiet(0.5, skip=skip)


async def test_a_signed_in_visitor_who_connects_can_be_mentioned(
    database_url: str, redis_server: RedisServer, clock: FixedClock
) -> None:
    async with two_nodes(database_url, redis_server.url, clock) as nodes:
        (app1, one), _ = nodes
        await make_tenant(app1, "studio", api_secret=SECRET)
        async with live_client(one, tenantIdWS="studio", urlId="a.png",
                               sso=token(clock, "cy", "Cy Young")), \
                httpx.AsyncClient(base_url=f"http://{one}") as http:
            for _ in range(50):  # remembered in the background of the connection
                found = (await http.get("/user-search/studio", params={
                    "usernameStartsWith": "cy"})).json()["users"]
                if found:
                    break
                await asyncio.sleep(0.05)
            assert [u["id"] for u in found] == ["cy"]
