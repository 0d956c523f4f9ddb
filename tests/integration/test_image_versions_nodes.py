"""Carry-over across two nodes sharing a database and Redis: every viewer, on either node,
gets the `image-version` event with the moved conversations, and two nodes that see the
same new image at once make one version."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from imagechat.app import create_app
from imagechat.domain.clock import FixedClock
from imagechat.settings import Settings
from tests.conftest import _empty_postgres
from tests.helpers import services
from tests.image_host import image_host
from tests.integration.cluster import RedisServer
from tests.live_server import live_client, serve
from tests.mockups import make_pair

IMAGE = "mockups/home.png"


@contextlib.asynccontextmanager
async def two_nodes(database_url: str, redis_url: str, clock: FixedClock
                    ) -> AsyncIterator[list[tuple[FastAPI, str]]]:
    if database_url.startswith("postgresql"):
        await _empty_postgres(database_url)
    settings = Settings(database_url=database_url, redis_url=redis_url,
                        outbound_allow_private=True, image_recheck_secs=0)
    apps = [create_app(settings, clock=clock) for _ in range(2)]
    async with contextlib.AsyncExitStack() as stack:
        yield [(app, await stack.enter_async_context(serve(app, settings))) for app in apps]


async def test_every_viewer_on_every_node_sees_the_pins_move(
    database_url: str, redis_server: RedisServer, clock: FixedClock
) -> None:
    pair = make_pair(1006, anchors=10)
    async with two_nodes(database_url, redis_server.url, clock) as nodes, image_host() as host:
        (app1, one), (_, two) = nodes
        v1 = host.put("/v1.png", pair.old)
        async with httpx.AsyncClient(base_url=f"http://{one}") as http1, \
                httpx.AsyncClient(base_url=f"http://{two}") as http2:
            for truth in pair.truths:
                response = await http1.post("/comment-image-chats/demo", json={
                    "urlId": IMAGE, "x": truth.anchor.x, "y": truth.anchor.y, "src": v1,
                    "comment": "here", "commenterName": "Ann", "anonUserId": "ann"})
                assert response.status_code == 200, response.text
            await services(app1).image_versions.drain()
            async with live_client(one, tenantIdWS="demo", urlId=IMAGE) as viewer1, \
                    live_client(two, tenantIdWS="demo", urlId=IMAGE) as viewer2:
                await asyncio.sleep(0.3)  # both nodes have subscribed the image
                v2 = host.put("/v2.png", pair.new)
                # Two viewers' widgets report the new image at once, one on each node.
                reports = await asyncio.gather(*(
                    http.post("/image-versions/demo", json={
                        "urlId": IMAGE, "src": v2, "anonUserId": name})
                    for http, name in ((http1, "ann"), (http2, "bo"))))
                for response in reports:
                    assert response.status_code == 200, response.text
                    assert response.json()["version"] == 2
                assert sorted(r.json()["created"] for r in reports) == [False, True]
                seen: list[dict[str, Any]] = []
                for viewer in (viewer1, viewer2):
                    event = await viewer.next_of("image-version")
                    while event["version"]["version"] != 2:
                        event = await viewer.next_of("image-version")
                    seen.append(event)
                assert seen[0] == seen[1]
                # One version 2, so one event for it: nothing follows.
                for viewer in (viewer1, viewer2):
                    assert await viewer.quiet(0.3)
            listings = [await http.get("/comment-image-chats/demo", params={"urlId": IMAGE})
                        for http in (http1, http2)]
            places = [{c["_id"]: (c["x"], c["y"], c["carry"]) for c in r.json()[
                "conversations"]} for r in listings]
            assert places[0] == places[1]
            assert places[0] == {c["_id"]: (c["x"], c["y"], c["carry"])
                                 for c in seen[0]["chats"]}
            versions = (await http2.get("/image-versions/demo", params={"urlId": IMAGE})).json()
            assert [v["version"] for v in versions["versions"]] == [1, 2]
