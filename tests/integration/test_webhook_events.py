"""Webhook events (issue 13, point 3): every write that makes one records one delivery per
endpoint that wants its type, in the write's own transaction, with the objects concerned
in the widget API's shapes. Nothing is sent here (the endpoints point at a refused
address); what is looked at is the outbox."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from imagechat.domain.actor import Actor
from imagechat.domain.clock import FixedClock
from imagechat.domain.errors import BadInput, NotFound
from imagechat.domain.ids import new_id
from imagechat.domain.models import WebhookEndpoint
from imagechat.domain.webhooks import EVENT_TYPES
from imagechat.services.comment_drafts import CommentDraft
from imagechat.services.image_chats import NewImageChatInput
from imagechat.store import outbox, webhooks
from tests.helpers import make_tenant, services

IMAGE = "example.com/board.png"


async def _endpoint(app: FastAPI, tenant_id: str, events: tuple[str, ...] = ()) -> str:
    """An endpoint written straight to the store: its address is never called here."""
    endpoint = WebhookEndpoint(
        id=new_id(), tenant_id=tenant_id, url="http://127.0.0.1:9/never", events=events,
        secret="s", created_at=services(app).clock.now_ms(), failing_since=None,
        disabled_at=None, disabled_reason="")
    async with services(app).db.write() as conn:
        await webhooks.add(conn, endpoint)
    return endpoint.id


async def _bodies(app: FastAPI, tenant_id: str, endpoint_id: str) -> list[dict[str, Any]]:
    """The bodies made for one endpoint, oldest first."""
    async with services(app).db.read() as conn:
        found = await outbox.recent(conn, tenant_id, kind="webhook", target=endpoint_id,
                                    limit=100)
    bodies = [{**orjson.loads(d.payload), "event_type": d.event_type} for d in found]
    return sorted(bodies, key=lambda b: b["createdAt"])


async def test_every_change_is_an_event_with_its_objects(app: FastAPI,
                                                         clock: FixedClock) -> None:
    tenant = await make_tenant(app, "hooks")
    every = await _endpoint(app, tenant.id)
    mentions_only = await _endpoint(app, tenant.id, ("mention",))
    s = services(app)
    ann = Actor(tenant_id=tenant.id, anon_user_id="anon-ann")
    bea = Actor(tenant_id=tenant.id, user_id="bea", display_name="Bea", verified=True)

    created = await s.image_chats.create(tenant, ann, NewImageChatInput(
        url_id=IMAGE, x=10, y=20, first_comment=CommentDraft(text="First", commenter_name="Ann")),
        None)
    conversation, first = created.conversation, created.comment
    assert first is not None and created.edit_key is not None
    clock.advance(1)
    reply = await s.comments.post(tenant, bea, conversation.window_url_id,
                                  CommentDraft(text="A reply", parent_id=first.id), None)
    clock.advance(1)
    await s.comments.update_text(tenant, ann, first.id, "First, cc @Bea", created.edit_key,
                                 None)
    clock.advance(1)
    await s.reactions.set(tenant, bea, first.id, "🎉", True, None)
    clock.advance(1)
    await s.image_chats.resolve(tenant, ann, conversation.id, True, None, created.edit_key)
    clock.advance(1)
    await s.image_chats.resolve(tenant, ann, conversation.id, False, None, created.edit_key)
    clock.advance(1)
    await s.comments.delete(tenant, bea, reply.comment.id, None, None)
    clock.advance(1)
    await s.image_chats.delete(tenant, ann, conversation.id, None, created.edit_key)

    bodies = await _bodies(app, tenant.id, every)
    # One write a millisecond: the events of each write, write after write.
    writes: dict[int, list[str]] = {}
    for body in bodies:
        writes.setdefault(body["createdAt"], []).append(body["type"])
    assert [sorted(types) for _, types in sorted(writes.items())] == [
        ["comment.created", "image-chat.created"], ["comment.created"],
        ["comment.updated", "mention"], ["reaction"], ["image-chat.resolved"],
        ["image-chat.updated"], ["comment.deleted"], ["image-chat.deleted"]]
    assert {b["type"] for b in bodies} == set(EVENT_TYPES)
    assert all(b["event_type"] == b["type"] and b["tenantId"] == tenant.id for b in bodies)
    by_type = {b["type"]: b["data"] for b in bodies}
    assert by_type["image-chat.created"]["chat"]["_id"] == conversation.id
    assert by_type["image-chat.created"]["chat"]["urlIdClean"] == IMAGE
    created_comment = next(b["data"] for b in bodies if b["type"] == "comment.created")
    assert created_comment["comment"]["_id"] == first.id
    assert created_comment["comment"]["chatId"] == conversation.id
    assert created_comment["chat"]["_id"] == conversation.id
    assert by_type["comment.updated"]["comment"]["comment"] == "First, cc @Bea"
    assert by_type["mention"]["mention"] == {"userId": "bea", "tag": "@Bea"}
    assert by_type["reaction"]["reaction"] == {"emoji": "🎉", "on": True, "userId": "bea",
                                               "anonUserId": None}
    assert by_type["reaction"]["comment"]["reactions"] == {"🎉": 1}
    assert by_type["image-chat.resolved"]["chat"]["resolved"] is True
    assert by_type["image-chat.updated"]["chat"]["resolved"] is False
    assert by_type["comment.deleted"]["comment"]["_id"] == reply.comment.id
    assert by_type["image-chat.deleted"]["chat"]["_id"] == conversation.id

    # An endpoint gets only the types it asked for.
    assert [b["type"] for b in await _bodies(app, tenant.id, mentions_only)] == ["mention"]


async def test_a_write_that_fails_makes_no_delivery(app: FastAPI) -> None:
    """The delivery is written in the write's transaction: rolled back with it."""
    tenant = await make_tenant(app, "hooks")
    endpoint = await _endpoint(app, tenant.id)
    ann = Actor(tenant_id=tenant.id, anon_user_id="anon-ann")
    # The parent is checked inside the write's transaction.
    with pytest.raises(BadInput, match="parentId"):
        await services(app).comments.post(
            tenant, ann, "article", CommentDraft(text="x", commenter_name="Ann",
                                                 parent_id="no-such-parent"), None)
    assert await _bodies(app, tenant.id, endpoint) == []


async def test_no_endpoint_no_delivery_and_tenants_apart(app: FastAPI) -> None:
    mine = await make_tenant(app, "hooks")
    other = await make_tenant(app, "other")
    endpoint = await _endpoint(app, mine.id)
    s = services(app)
    await s.comments.post(other, Actor(tenant_id=other.id, anon_user_id="anon-o"), "article",
                          CommentDraft(text="elsewhere", commenter_name="O"), None)
    assert await _bodies(app, mine.id, endpoint) == []
    async with s.db.read() as conn:
        assert await outbox.pending_count(conn, other.id) == 0
    with pytest.raises(NotFound):
        await s.webhooks.get(other, endpoint)
