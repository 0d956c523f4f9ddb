"""Migration 0003 (threads at any urlId) on a database filled through the schema before it:
nothing is lost or renumbered, and the old `chat-<id>` threads keep working."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from imagechat.app import create_app
from imagechat.domain.clock import FixedClock
from imagechat.settings import Settings
from imagechat.store.database import Database
from imagechat.store.migrate import upgrade
from tests.integration.test_migrations import _admin

T0 = 1_764_000_000_000
TENANT = "old-site"
IMAGE = "example.com/old.png"
CONVERSATIONS = ["a" * 24, "b" * 24]
# Per conversation: (comment id, parent id or None).
THREADS = {CONVERSATIONS[0]: [("c" * 23 + "1", None), ("c" * 23 + "2", "c" * 23 + "1")],
           CONVERSATIONS[1]: [("d" * 23 + "1", None)]}


def _old(name: str, *columns: str) -> Any:
    return sa.table(name, *(sa.column(c) for c in columns))


async def _fill_old_schema(engine: AsyncEngine) -> None:
    """What a 0.1 server stored: two conversations with three comments, a vote, the events."""
    tenants = _old("tenants", "id", "name", "api_secret", "allow_anonymous",
                   "allow_simple_sso", "allowed_origins", "created_at")
    channels = _old("channels", "tenant_id", "url_id", "seq", "epoch", "locked", "created_at",
                    "updated_at")
    conversations = _old("conversations", "id", "tenant_id", "url_id", "window_url_id",
                         "page_url", "page_title", "src", "x", "y", "comment_count",
                         "resolved", "user_id", "anon_user_id", "commenter_name",
                         "edit_key_hash", "created_at", "updated_at")
    comments = _old("comments", "id", "tenant_id", "conversation_id", "url_id", "url",
                    "parent_id", "commenter_name", "comment", "comment_html", "user_id",
                    "anon_user_id", "avatar", "verified", "approved", "is_by_admin",
                    "is_by_moderator", "votes_up", "votes_down", "edit_key_hash",
                    "created_at", "updated_at")
    votes = _old("votes", "id", "tenant_id", "comment_id", "voter_key", "user_id",
                 "anon_user_id", "direction", "created_at")
    events = _old("events", "id", "tenant_id", "url_id", "seq", "type", "broadcast_id",
                  "created_at", "data")
    async with engine.begin() as conn:
        await conn.execute(sa.insert(tenants).values(
            id=TENANT, name="Old", api_secret="s", allow_anonymous=True, allow_simple_sso=False,
            allowed_origins="[]", created_at=T0))
        await conn.execute(sa.insert(channels).values(
            tenant_id=TENANT, url_id=IMAGE, seq=6, epoch="e" * 16, locked=False,
            created_at=T0, updated_at=T0))
        for n, conversation in enumerate(CONVERSATIONS):
            await conn.execute(sa.insert(conversations).values(
                id=conversation, tenant_id=TENANT, url_id=IMAGE,
                window_url_id=f"chat-{conversation}",
                page_url="https://example.com/p", page_title=f"Page {n}", src="/old.png",
                x=10.0 + n, y=20.0, comment_count=len(THREADS[conversation]), resolved=False,
                user_id=None, anon_user_id="anon-1", commenter_name="Ann", edit_key_hash=None,
                created_at=T0 + n, updated_at=T0 + n))
            for i, (cid, parent) in enumerate(THREADS[conversation]):
                await conn.execute(sa.insert(comments).values(
                    id=cid, tenant_id=TENANT, conversation_id=conversation,
                    url_id=f"chat-{conversation}",
                    url="https://example.com/p", parent_id=parent, commenter_name="Ann",
                    comment=f"text {cid}", comment_html=f"text {cid}", user_id=None,
                    anon_user_id="anon-1", avatar=None, verified=False, approved=True,
                    is_by_admin=False, is_by_moderator=False, votes_up=1 if i == 0 else 0,
                    votes_down=0, edit_key_hash=None, created_at=T0 + 10 * n + i,
                    updated_at=T0 + 10 * n + i))
        await conn.execute(sa.insert(votes).values(
            id="v" * 24, tenant_id=TENANT, comment_id=THREADS[CONVERSATIONS[0]][0][0],
            voter_key="a:x", user_id=None, anon_user_id="x", direction=1, created_at=T0))
        for seq in range(1, 7):
            await conn.execute(sa.insert(events).values(
                id=f"{seq:024d}", tenant_id=TENANT, url_id=IMAGE, seq=seq, type="new-comment",
                broadcast_id=None, created_at=T0 + seq, data=f'{{"seq":{seq}}}'))


async def _rows(engine: AsyncEngine, table: str, *columns: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        found = await conn.execute(sa.text(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY {columns[0]}"))
        return [tuple(r) for r in found]


@pytest.fixture
async def old_database(database_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """An empty database, and the engine the server migrates with (on SQLite, one that
    enforces foreign keys, as the server's does)."""
    if database_url.startswith("sqlite"):
        db = Database(database_url)
        try:
            yield database_url, db.writer
        finally:
            await db.dispose()
        return
    name = f"imagechat_old_{secrets.token_hex(4)}"
    await _admin(database_url, f'CREATE DATABASE "{name}"')
    url = f"{database_url.rpartition('/')[0]}/{name}"
    engine = create_async_engine(url)
    try:
        yield url, engine
    finally:
        await engine.dispose()
        await _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_upgrade_keeps_every_row_and_seq(old_database: tuple[str, AsyncEngine]) -> None:
    url, engine = old_database
    await upgrade(engine, url, "0002")
    await _fill_old_schema(engine)
    before = {
        "conversations": await _rows(engine, "conversations", "id", "window_url_id",
                                     "comment_count", "x"),
        "comments": await _rows(engine, "comments", "id", "url_id", "parent_id", "votes_up",
                                "created_at"),
        "votes": await _rows(engine, "votes", "id", "comment_id", "direction"),
        "events": await _rows(engine, "events", "seq", "id", "data"),
        "channels": await _rows(engine, "channels", "url_id", "seq", "epoch"),
    }

    await upgrade(engine, url)

    for table, columns in {"conversations": ("id", "window_url_id", "comment_count", "x"),
                           "comments": ("id", "url_id", "parent_id", "votes_up", "created_at"),
                           "votes": ("id", "comment_id", "direction"),
                           "events": ("seq", "id", "data"),
                           "channels": ("url_id", "seq", "epoch")}.items():
        assert await _rows(engine, table, *columns) == before[table], table
    pages = await _rows(engine, "pages", "url_id", "comment_count", "root_comment_count",
                        "title", "url", "created_at")
    assert pages == [(f"chat-{CONVERSATIONS[0]}", 2, 1, "Page 0", "https://example.com/p", T0),
                     (f"chat-{CONVERSATIONS[1]}", 1, 1, "Page 1", "https://example.com/p", T0 + 10)]


async def test_old_threads_keep_working_after_the_upgrade(
    old_database: tuple[str, AsyncEngine],
) -> None:
    url, engine = old_database
    await upgrade(engine, url, "0002")
    await _fill_old_schema(engine)
    app = create_app(Settings(database_url=url), clock=FixedClock(T0 + 100_000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        thread = f"chat-{CONVERSATIONS[0]}"
        listing = (await client.get(f"/comment-image-chats/{TENANT}",
                                    params={"urlId": IMAGE})).json()
        assert [c["urlId"] for c in listing["conversations"]] == [
            f"chat-{c}" for c in CONVERSATIONS]
        assert listing["seq"] == 6
        page = (await client.get(f"/comments/{TENANT}", params={"urlId": thread})).json()
        assert [c["_id"] for c in page["comments"]] == [c for c, _ in THREADS[CONVERSATIONS[0]]]
        assert {c["chatId"] for c in page["comments"]} == {CONVERSATIONS[0]}
        assert page["urlIdWS"] == IMAGE
        reply = await client.post(f"/comments/{TENANT}", params={"urlId": thread}, json={
            "comment": "after the upgrade", "commenterName": "Bo",
            "parentId": THREADS[CONVERSATIONS[0]][1][0]})
        assert reply.status_code == 200, reply.text
        events = (await client.get(f"/events/{TENANT}",
                                   params={"urlId": IMAGE, "since": 6})).json()
        assert [(e["seq"], e["type"]) for e in events["events"]] == [
            (7, "new-comment"), (8, "image-chat-updated")]
        assert events["events"][1]["chat"]["commentCount"] == 3
        assert page["comments"][0]["votes"] == 1
        # Deleting an old thread's last comment still takes its conversation with it.
        only = THREADS[CONVERSATIONS[1]][0][0]
        gone = await client.delete(f"/api/v1/comments/{only}", params={"tenantId": TENANT},
                                   headers={"X-API-Key": "s"})
        assert gone.status_code == 200, gone.text
        left = (await client.get(f"/comment-image-chats/{TENANT}",
                                 params={"urlId": IMAGE})).json()["conversations"]
        assert [c["_id"] for c in left] == [CONVERSATIONS[0]]
