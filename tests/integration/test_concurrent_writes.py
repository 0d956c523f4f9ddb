"""Concurrent writes to one image leave a gap-free, duplicate-free `seq`
(docs/data-model.md, Channels).

Every write appends its events with the channel's next `seq` inside its own transaction.
Whatever the interleaving — one process over the PostgreSQL pool, one process queueing on
SQLite's write lock, or several nodes sharing one database — the channel's log must read
1, 2, …, N, with the channel row at N and every stored event carrying its own `seq`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from imagechat.domain.actor import Actor
from imagechat.domain.clock import FixedClock
from imagechat.domain.errors import Unavailable
from imagechat.domain.models import StoredEvent, Tenant
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.container import Services, build_services
from imagechat.services.image_chats import NewImageChatInput
from imagechat.services.recorder import EventRecorder, Notice, NullSink
from imagechat.store import channels, event_log
from imagechat.store.database import Database
from tests.helpers import create_conversation, make_tenant, services

TENANT = "busy"
IMAGE = "example.com/busy.png"


async def read_log(app: FastAPI, tenant_id: str = TENANT, url_id: str = IMAGE
                   ) -> tuple[list[StoredEvent], int | None]:
    """The channel's stored events (oldest first) and the channel row's `seq`."""
    async with services(app).db.read() as conn:
        found = await event_log.since_seq(conn, tenant_id, url_id, 0)
        position = await channels.position(conn, tenant_id, url_id)
    return found, position.seq if position else None


def assert_gap_free(found: Sequence[StoredEvent], channel_seq: int | None, expected: int) -> None:
    assert [e.seq for e in found] == list(range(1, expected + 1))
    assert channel_seq == expected
    assert len({e.id for e in found}) == expected
    for e in found:
        data = orjson.loads(e.data)
        assert data["seq"] == e.seq, e.data
        assert data["type"] == e.type
        assert (e.tenant_id, e.url_id) == (TENANT, IMAGE)


def conversation_updates(found: Sequence[StoredEvent], chat_id: str) -> list[int]:
    """The comment counts that `image-chat-updated` events of one chat carried, in order."""
    counts = []
    for e in found:
        data = orjson.loads(e.data)
        if e.type == "image-chat-updated" and data["chat"]["_id"] == chat_id:
            counts.append(data["chat"]["commentCount"])
    return counts


async def post_comment(client: httpx.AsyncClient, thread: str, i: int,
                       **extra: Any) -> httpx.Response:
    """Post comment `i` in a conversation's thread (its windowUrlId)."""
    url_id = thread
    return await client.post(f"/comments/{TENANT}", params={"urlId": url_id}, json={
        "comment": f"comment {i}", "commenterName": f"Writer {i}", "urlId": url_id,
        "anonUserId": f"anon-{i % 5}", "broadcastId": f"b-{i}", **extra})


async def new_conversation(client: httpx.AsyncClient, i: int) -> httpx.Response:
    return await client.post(f"/comment-image-chats/{TENANT}", json={
        "urlId": IMAGE, "x": i % 100, "y": (i * 7) % 100, "comment": f"marker {i}",
        "commenterName": f"Writer {i}", "anonUserId": f"anon-{i % 5}",
        "broadcastId": f"b-{i}"})


async def test_fifty_concurrent_writes_leave_gap_free_seqs(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_tenant(app, TENANT)
    first_conversation = await create_conversation(client, TENANT, IMAGE)  # seqs 1, 2
    first, thread = first_conversation["createdChatId"], first_conversation["chat"]["windowUrlId"]

    writes = [new_conversation(client, i) if i % 2 == 0 else post_comment(client, thread, i)
              for i in range(50)]
    responses = await asyncio.gather(*writes)

    assert [r.status_code for r in responses] == [200] * 50, [r.text for r in responses]
    # A new conversation with its message: new-image-chat + new-comment. A comment: new-comment +
    # image-chat-updated. Two events per write.
    expected = 2 + 2 * 50
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, expected)

    created = {r.json()["createdChatId"] for r in responses[::2]}
    assert {orjson.loads(e.data)["chat"]["_id"] for e in found
            if e.type == "new-image-chat"} == created | {first}
    posted = {r.json()["comment"]["_id"] for r in responses[1::2]}
    assert posted <= {orjson.loads(e.data)["comment"]["_id"] for e in found
                      if e.type == "new-comment"}
    # No lost update: the count went 2, 3, …, 26, and the log shows it in that order.
    assert conversation_updates(found, first) == list(range(2, 27))
    listing = (await client.get(f"/comment-image-chats/{TENANT}", params={"urlId": IMAGE})
               ).json()
    assert listing["seq"] == expected
    counts = {c["_id"]: c["commentCount"] for c in listing["conversations"]}
    assert counts[first] == 26
    replay = (await client.get(f"/events/{TENANT}", params={"urlId": IMAGE, "since": 0})
              ).json()
    assert [e["seq"] for e in replay["events"]] == list(range(1, expected + 1))


async def test_concurrent_writes_to_two_images_number_each_channel_separately(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_tenant(app, TENANT)
    other = "example.com/other.png"
    writes = []
    for i in range(30):
        url_id = IMAGE if i % 3 else other
        writes.append(client.post(f"/comment-image-chats/{TENANT}", json={
            "urlId": url_id, "x": 1, "y": 1, "comment": f"m{i}", "commenterName": "W"}))
    responses = await asyncio.gather(*writes)
    assert [r.status_code for r in responses] == [200] * 30
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, 2 * 20)
    found_other, other_seq = await read_log(app, TENANT, other)
    assert [e.seq for e in found_other] == list(range(1, 2 * 10 + 1))
    assert other_seq == 20


async def test_refused_comment_consumes_no_seq(app: FastAPI, client: httpx.AsyncClient) -> None:
    await make_tenant(app, TENANT)
    conversation1 = await create_conversation(client, TENANT, IMAGE)  # seqs 1, 2
    conversation2 = await create_conversation(client, TENANT, IMAGE, x=50)  # seqs 3, 4
    foreign_parent = conversation2["comment"]["_id"]

    for parent in (foreign_parent, "no-such-comment"):
        response = await post_comment(client, conversation1["chat"]["windowUrlId"], 1,
                                      parentId=parent)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid-parent"
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, 4)

    response = await post_comment(client, conversation1["chat"]["windowUrlId"], 2,
                                  parentId=conversation1["comment"]["_id"])
    assert response.status_code == 200, response.text
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, 6)
    assert [e.type for e in found[4:]] == ["new-comment", "image-chat-updated"]


class RecordingSink:
    def __init__(self) -> None:
        self.published: list[StoredEvent] = []

    async def publish(self, events: Sequence[StoredEvent]) -> None:
        self.published.extend(events)

    async def notify(self, notices: Sequence[Notice]) -> None:
        return None


@pytest.mark.parametrize("write", ["new-chat", "comment"])
async def test_write_failing_after_its_events_were_numbered_gives_the_seqs_back(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """The failure strikes after both events of the write got their `seq` (numbering and
    logging them is the last step before commit): the rollback must return them."""
    await make_tenant(app, TENANT)
    created = await create_conversation(client, TENANT, IMAGE)  # seqs 1, 2
    conversation, thread = created["createdChatId"], created["chat"]["windowUrlId"]
    sink = RecordingSink()
    monkeypatch.setattr(services(app).comments.writer, "sink", sink)
    assert services(app).image_chats.writer.sink is sink

    numbered: list[int] = []
    real_flush = EventRecorder.flush

    async def failing_flush(recorder: EventRecorder) -> None:
        await real_flush(recorder)
        found = await event_log.since_seq(recorder.conn, TENANT, IMAGE, 0)
        numbered.extend(e.seq for e in found)
        raise Unavailable("injected failure", "database-unavailable")

    monkeypatch.setattr(EventRecorder, "flush", failing_flush)
    response = await (new_conversation(client, 1) if write == "new-chat" else
                      post_comment(client, thread, 1))
    assert response.status_code == 503, response.text
    # Inside the failed transaction the events were there, numbered 3 and 4.
    assert numbered == [1, 2, 3, 4]
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, 2)
    assert sink.published == []
    listing = (await client.get(f"/comment-image-chats/{TENANT}", params={"urlId": IMAGE})
               ).json()
    assert [(c["_id"], c["commentCount"]) for c in listing["conversations"]] == [(conversation, 1)]

    monkeypatch.setattr(EventRecorder, "flush", real_flush)
    response = await (new_conversation(client, 2) if write == "new-chat" else
                      post_comment(client, thread, 2))
    assert response.status_code == 200, response.text
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, 4)
    assert [e.seq for e in sink.published] == [3, 4]


def _node_write(node: Services, tenant: Tenant, thread: str, n: int, i: int) -> Any:
    actor = Actor(tenant_id=tenant.id, anon_user_id=f"anon-{n}-{i % 3}")
    draft = CommentDraft(text=f"node {n} write {i}", commenter_name=f"Node {n}")
    if i % 2 == 0:
        return node.image_chats.create(
            tenant, actor, NewImageChatInput(url_id=IMAGE, x=n * 10, y=i, first_comment=draft),
            f"n{n}-{i}")
    return node.comments.post(tenant, actor, thread, draft, f"n{n}-{i}")


async def test_three_nodes_writing_to_one_database_leave_gap_free_seqs(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, clock: FixedClock
) -> None:
    """Three independent stores and service stacks over one database, as three nodes
    would have (on SQLite: three processes' worth of connections and write locks)."""
    tenant = await make_tenant(app, TENANT)
    databases = [Database(database_url) for _ in range(3)]
    try:
        nodes = [build_services(db, clock, NullSink()) for db in databases]
        first = await nodes[0].image_chats.create(
            tenant, Actor(tenant_id=tenant.id, anon_user_id="anon-first"),
            NewImageChatInput(url_id=IMAGE, x=1, y=1,
                              first_comment=CommentDraft(text="first", commenter_name="F")),
            None)  # seqs 1, 2
        per_node = 12
        writes = [_node_write(node, tenant, first.conversation.window_url_id, n, i)
                  for i in range(per_node) for n, node in enumerate(nodes)]
        await asyncio.gather(*writes)
    finally:
        for db in databases:
            await db.dispose()

    expected = 2 + 2 * 3 * per_node
    found, channel_seq = await read_log(app)
    assert_gap_free(found, channel_seq, expected)
    # Half of each node's writes were comments on the first conversation: 1 + 18 comments.
    assert conversation_updates(found, first.conversation.id) == list(
        range(2, 2 + 3 * per_node // 2))
    broadcast_ids = {e.broadcast_id for e in found} - {None}
    assert broadcast_ids == {f"n{n}-{i}" for n in range(3) for i in range(per_node)}
    # What the app (a fourth node) serves agrees with the store.
    replay = (await client.get(f"/events/{TENANT}", params={"urlId": IMAGE, "since": 0})
              ).json()
    assert [e["seq"] for e in replay["events"]] == list(range(1, expected + 1))
    assert replay["seq"] == expected
