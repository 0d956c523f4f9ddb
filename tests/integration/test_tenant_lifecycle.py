"""A tenant's end: deleting one removes every row of it and nothing of anyone else's; the demo
tenant switched off refuses reads, writes and live connections even though it exists."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from imagechat.app import create_app
from imagechat.settings import Settings
from imagechat.store.tables import metadata
from tests.live_server import live_client, serve

TENANT_TABLES = [t for t in metadata.sorted_tables if "tenant_id" in t.c]


async def rows_per_table(url: str, tenant_id: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = {}
            for table in TENANT_TABLES:
                query = sa.select(sa.func.count()).select_from(table).where(
                    table.c.tenant_id == tenant_id)
                found[table.name] = (await conn.execute(query)).scalar_one()
            tenants = metadata.tables["tenants"]
            found["tenants"] = (await conn.execute(sa.select(sa.func.count()).select_from(
                tenants).where(tenants.c.id == tenant_id))).scalar_one()
            return found
    finally:
        await engine.dispose()


async def fill(client: httpx.AsyncClient, tenant_id: str, secret: str) -> None:
    """A bit of everything: a conversation, a reply, a page comment, a vote, a reaction, a
    follow, a lock and a ban."""

    async def ok(response: Any) -> dict[str, Any]:
        answer = await response
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    conversation = await ok(client.post(f"/comment-image-chats/{tenant_id}", json={
        "urlId": "logo.png", "x": 10, "y": 20, "comment": "Bigger?", "commenterName": "Ann",
        "anonUserId": "anon-ann"}))
    thread = conversation["chat"]["windowUrlId"]
    first = conversation["comment"]["_id"]
    await ok(client.post(f"/comments/{tenant_id}", params={"urlId": thread}, json={
        "comment": "Yes", "commenterName": "Bo", "anonUserId": "anon-bo", "parentId": first}))
    await ok(client.post(f"/comments/{tenant_id}", params={"urlId": "blog/launch"}, json={
        "comment": "Congratulations", "commenterName": "Cy", "pageTitle": "Launch"}))
    await ok(client.post(f"/comments/{tenant_id}/{first}/vote",
                         json={"voteDir": "up", "anonUserId": "anon-bo"}))
    await ok(client.post(f"/comments/{tenant_id}/{first}/reactions",
                         json={"emoji": "👍", "on": True, "anonUserId": "anon-bo"}))
    key = {"X-API-Key": secret}
    await ok(client.post("/api/v1/image-lock", params={"tenantId": tenant_id,
                                                       "urlId": "blog/launch"},
                         json={"locked": True}, headers=key))
    await ok(client.post("/api/v1/bans", params={"tenantId": tenant_id},
                         json={"anonUserId": "anon-eve"}, headers=key))


async def test_deleting_a_tenant_removes_all_of_it_and_only_it(
    app: FastAPI, client: httpx.AsyncClient, database_url: str
) -> None:
    tenants = app.state.services.tenants
    for tenant_id in ("acme", "other"):
        tenant = await tenants.create(tenant_id.title(), tenant_id=tenant_id)
        await fill(client, tenant_id, tenant.api_secret)
    before = await rows_per_table(database_url, "acme")
    filled = {name for name, n in before.items() if n}
    assert filled >= {"tenants", "conversations", "comments", "channels", "events", "pages",
                      "votes", "reactions", "bans", "moderation_log"}, before
    others = await rows_per_table(database_url, "other")

    removed = await tenants.delete("acme")

    assert {name: n for name, n in removed.items() if n} == {
        name: n for name, n in before.items() if n}
    assert set((await rows_per_table(database_url, "acme")).values()) == {0}
    assert await rows_per_table(database_url, "other") == others
    gone = await client.get("/comments/acme", params={"urlId": "blog/launch"})
    assert gone.status_code == 404 and gone.json()["code"] == "tenant-not-found"


async def test_the_demo_tenant_switched_off_refuses_everything(sqlite_url: str) -> None:
    # A first start with the demo on makes the tenant, and someone writes there.
    on = create_app(Settings(database_url=sqlite_url))
    async with on.router.lifespan_context(on), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=on), base_url="http://testserver"
    ) as client:
        posted = await client.post("/comments/demo", params={"urlId": "page"},
                                   json={"comment": "hi", "commenterName": "Ann"})
        assert posted.status_code == 200

    settings = Settings(database_url=sqlite_url, demo_tenant=False)
    off = create_app(settings)
    async with serve(off, settings) as address, httpx.AsyncClient(
        base_url=f"http://{address}"
    ) as client:
        assert (await rows_per_table(sqlite_url, "demo"))["tenants"] == 1
        for method, path, body in (
            ("POST", "/comments/demo?urlId=page", {"comment": "x", "commenterName": "Eve"}),
            ("POST", "/comment-image-chats/demo",
             {"urlId": "a.png", "x": 1, "y": 1, "comment": "x", "commenterName": "Eve"}),
            ("GET", "/comments/demo?urlId=page", None),
            ("GET", "/comment-image-chats/demo?urlId=a.png", None),
        ):
            answer = await client.request(method, path, json=body,
                                          headers={"Origin": "https://anywhere.example"})
            assert answer.status_code == 404, (method, path, answer.text)
            assert answer.json()["code"] == "tenant-not-found"
        assert (await client.get("/demo")).status_code == 404
        async with live_client(address, tenantIdWS="demo", urlId="page") as live:
            assert await live.close_code() == 4404
    assert (await rows_per_table(sqlite_url, "demo"))["comments"] == 1
