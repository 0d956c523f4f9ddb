"""Tenant isolation over every endpoint (docs/data-model.md, Tenants).

Tenants A and B each have conversations, comments, votes and page comments; both talk about
the same image urlId and comment on the same page urlId. B also has signed-in users who
wrote (so its user search lists them), reactions, a resolved conversation, follows and
unread notifications (a reply, a mention, a resolution), and a webhook endpoint with a
delivery. Then every identity tenant A can
hand out (its anonymous visitor holding A's edit keys, A's SSO admin and moderator signed
with A's secret, A's API secret; for the notification routes also A's own twins of B's
user id and anonymous id) is tried on every route against B's objects: through A's paths
(nothing of B is found; a write at one of B's urlIds lands in A's own thread of that name)
and through B's paths (A's credentials are refused). After each route's attempts, B's rows
in every table and B's own reads must be exactly as before.

The table `CASES` has one entry per route; `test_every_route_has_an_isolation_case` fails
as soon as a route is added without one.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image, ImageDraw
from sqlalchemy import select

from imagechat.app import create_app
from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from imagechat.domain.ids import new_id
from imagechat.domain.models import Delivery, Tenant, WebhookEndpoint
from imagechat.settings import Settings
from imagechat.store import channels, email_bounces, outbox, webhooks
from imagechat.store.tables import metadata, notifications, pages
from tests.helpers import api_routes, create_conversation, make_tenant, services

A, B = "tenant-a", "tenant-b"
# Both tenants have conversations on this image: same urlId, two separate channels.
SHARED_IMAGE = "example.com/shared.png"
# Only tenant B has conversations here (and B has locked it).
B_ONLY_IMAGE = "example.com/b-only.png"
# A page (not an image) both tenants have comments at.
SHARED_PAGE = "example.com/article"
# A page only tenant B has comments at (and B has locked it).
B_ONLY_PAGE = "example.com/b-only-article"
HOUR_MS = 3_600_000
# Ids of B's users that appear nowhere in A (B's user "b-user" has a twin in A on purpose).
B_REVIEWER, B_MODERATOR = "b-secret-rev", "b-secret-mod"
B_ONLY_USERS = [B_REVIEWER, B_MODERATOR]
# An address of B's that refused mail for good.
B_BOUNCED = "b-bounced@b.example"


@dataclass(frozen=True)
class Identity:
    """How one of A's identities travels: in the query string, or in a JSON body."""

    name: str
    query: dict[str, str]
    body: dict[str, Any]


@dataclass
class World:
    tenant_a: Tenant
    tenant_b: Tenant
    now_ms: int
    # Tenant A's objects and the keys its anonymous author holds.
    a_conversation: str = ""
    a_window: str = ""  # the thread of A's conversation
    a_first: str = ""
    a_reply: str = ""
    a_page: str = ""  # A's comment at SHARED_PAGE
    a_vote: str = ""
    a_conversation_key: str = ""
    a_reply_key: str = ""
    a_page_key: str = ""
    # Tenant B's objects.
    b_conversation1: str = ""
    b_window1: str = ""
    b_first: str = ""
    b_reply: str = ""
    b_vote: str = ""
    b_conversation2: str = ""
    b_window2: str = ""
    b_signed: str = ""
    b_vote2: str = ""
    b_review: str = ""  # B's second user's reply in B's signed conversation
    b_page: str = ""  # B's anonymous comment at SHARED_PAGE
    b_page2: str = ""  # B's signed comment at B_ONLY_PAGE
    b_conversation_key: str = ""
    b_reply_key: str = ""
    b_page_key: str = ""
    b_page_rows: list[str] = field(default_factory=list)  # ids of B's pages
    b_notifications: list[str] = field(default_factory=list)  # ids of B's notifications
    b_webhook: str = ""  # B's webhook endpoint
    b_webhook_secret: str = ""
    b_delivery: str = ""  # a delivery to it, not due for years (nothing is sent)
    b_readers: dict[str, dict[str, str]] = field(default_factory=dict)  # B's, as query
    identities: dict[str, Identity] = field(default_factory=dict)

    @property
    def b_conversations(self) -> list[str]:
        return [self.b_conversation1, self.b_conversation2]

    @property
    def b_threads(self) -> list[str]:
        """Every urlId B has comments at: its conversations' threads and its pages."""
        return [self.b_window1, self.b_window2, SHARED_PAGE, B_ONLY_PAGE]

    @property
    def b_comment_threads(self) -> list[tuple[str, str]]:
        """Each of B's comments with the urlId of its thread."""
        return [(self.b_first, self.b_window1), (self.b_reply, self.b_window1),
                (self.b_signed, self.b_window2), (self.b_review, self.b_window2),
                (self.b_page, SHARED_PAGE), (self.b_page2, B_ONLY_PAGE)]

    @property
    def b_comments(self) -> list[str]:
        return [comment for comment, _ in self.b_comment_threads]

    @property
    def b_edit_keys(self) -> list[str]:
        return [self.b_conversation_key, self.b_reply_key, self.b_page_key]

    @property
    def a_edit_keys(self) -> list[str]:
        return [self.a_conversation_key, self.a_reply_key, self.a_page_key]

    def a_comments_at(self, url_id: str) -> list[str]:
        """A's own comments at one of B's urlIds, before any case runs."""
        return [self.a_page] if url_id == SHARED_PAGE else []

    def leak_markers(self) -> list[str]:
        """Strings that must never appear in an answer to one of A's identities."""
        return ["B-SECRET", self.tenant_b.api_secret, *self.b_edit_keys, *self.b_conversations,
                *self.b_comments, self.b_vote, self.b_vote2, *self.b_page_rows,
                *self.b_notifications, *B_ONLY_USERS, B_BOUNCED, self.b_webhook,
                self.b_webhook_secret, self.b_delivery]

    @property
    def a_sso(self) -> list[Identity]:
        return [self.identities["admin"], self.identities["moderator"]]

    @property
    def a_visitors(self) -> list[Identity]:
        """A's anonymous author (with A's edit key), admin and moderator."""
        return [self.identities["anon"], *self.a_sso]

    @property
    def a_twins(self) -> list[Identity]:
        """A's own visitors under the ids B's bells are keyed by: a user signed with A's
        secret as B's user id, and an anonymous visitor with B's anonymous author's id."""
        return [self.identities["twin"], self.identities["twin-anon"]]

    @property
    def a_readers(self) -> list[Identity]:
        """Whose bell A can ask for: A's visitors and A's twins of B's visitors."""
        return [*self.a_visitors, *self.a_twins]

    @property
    def a_signed(self) -> list[Identity]:
        """A's SSO identities, the twin of B's user included."""
        return [*self.a_sso, self.identities["twin"]]


def _sso_identity(name: str, token: dict[str, Any]) -> Identity:
    return Identity(name, {"sso": json.dumps(token)}, {"sso": token})


def _anon_identity(name: str, anon_id: str, edit_key: str) -> Identity:
    values = {"anonUserId": anon_id, "editKey": edit_key}
    return Identity(name, dict(values), dict(values))


async def _post_comment(
    client: httpx.AsyncClient, tenant_id: str, url_id: str, text: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(f"/comments/{tenant_id}", params={"urlId": url_id},
                                 json={"comment": text, "urlId": url_id, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _vote(
    client: httpx.AsyncClient, tenant_id: str, comment_id: str, direction: str, **extra: Any
) -> str:
    response = await client.post(f"/comments/{tenant_id}/{comment_id}/vote",
                                 json={"voteDir": direction, **extra})
    assert response.status_code == 200, response.text
    vote_id: str = response.json()["voteId"]
    return vote_id


async def build_world(app: FastAPI, client: httpx.AsyncClient, clock: FixedClock) -> World:
    tenant_a = await make_tenant(app, A)
    # B also accepts Simple SSO: A's signed token must still not pass as anything there.
    tenant_b = await make_tenant(app, B, allow_simple_sso=True)
    w = World(tenant_a=tenant_a, tenant_b=tenant_b, now_ms=clock.now_ms())

    created = await create_conversation(client, A, SHARED_IMAGE, comment="A first message",
                                        name="Ann A", anonUserId="anon-a-author")
    w.a_conversation, w.a_window = created["createdChatId"], created["chat"]["windowUrlId"]
    w.a_first, w.a_conversation_key = created["comment"]["_id"], created["editKey"]
    reply = await _post_comment(client, A, w.a_window, "A reply", commenterName="Ann A",
                                anonUserId="anon-a-author", parentId=w.a_first)
    w.a_reply, w.a_reply_key = reply["comment"]["_id"], reply["editKey"]
    w.a_vote = await _vote(client, A, w.a_first, "up", anonUserId="anon-a-voter")
    page = await _post_comment(client, A, SHARED_PAGE, "A page comment",
                               commenterName="Ann A", anonUserId="anon-a-author")
    w.a_page, w.a_page_key = page["comment"]["_id"], page["editKey"]

    created = await create_conversation(client, B, SHARED_IMAGE, x=55, y=66,
                                        comment="B-SECRET first message", name="Bob B",
                                        anonUserId="anon-b-author")
    w.b_conversation1, w.b_window1 = created["createdChatId"], created["chat"]["windowUrlId"]
    w.b_first, w.b_conversation_key = created["comment"]["_id"], created["editKey"]
    reply = await _post_comment(client, B, w.b_window1, "B-SECRET reply",
                                commenterName="Bob B", anonUserId="anon-b-author",
                                parentId=w.b_first)
    w.b_reply, w.b_reply_key = reply["comment"]["_id"], reply["editKey"]
    w.b_vote = await _vote(client, B, w.b_first, "up", anonUserId="anon-b-voter")

    b_user = make_token(tenant_b.api_secret, {"id": "b-user", "username": "B-SECRET Bea"},
                        w.now_ms)
    b_rev = make_token(tenant_b.api_secret, {"id": B_REVIEWER, "username": "B-SECRET Rev"},
                       w.now_ms)
    b_mod = make_token(tenant_b.api_secret, {"id": B_MODERATOR, "username": "B-SECRET Mod",
                                             "isModerator": True}, w.now_ms)
    response = await client.post(f"/comment-image-chats/{B}", json={
        "urlId": B_ONLY_IMAGE, "x": 1, "y": 2, "comment": "B-SECRET signed", "sso": b_user})
    assert response.status_code == 200, response.text
    w.b_conversation2, w.b_window2 = (response.json()["createdChatId"],
                                      response.json()["chat"]["windowUrlId"])
    w.b_signed = response.json()["comment"]["_id"]
    w.b_vote2 = await _vote(client, B, w.b_signed, "down", sso=b_user)
    # B's second user replies in Bea's conversation: Bea is notified (a reply).
    reply = await _post_comment(client, B, w.b_window2, "B-SECRET review", sso=b_rev,
                                parentId=w.b_signed)
    w.b_review = reply["comment"]["_id"]

    page = await _post_comment(client, B, SHARED_PAGE, "B-SECRET page comment",
                               commenterName="Bob B", anonUserId="anon-b-author")
    w.b_page, w.b_page_key = page["comment"]["_id"], page["editKey"]
    # Bea mentions the reviewer: the reviewer is notified (a mention).
    page = await _post_comment(client, B, B_ONLY_PAGE,
                               "B-SECRET signed page comment, cc @B-SECRET Rev", sso=b_user)
    w.b_page2 = page["comment"]["_id"]
    assert page["comment"]["mentions"] == [{"id": B_REVIEWER, "tag": "@B-SECRET Rev"}]

    # B's moderator resolves the anonymous author's conversation: its author is notified.
    response = await client.post(f"/comment-image-chats/{B}/{w.b_conversation1}/resolve",
                                 json={"resolved": True, "sso": b_mod})
    assert response.status_code == 200, response.text
    for comment_id, emoji, who in ((w.b_first, "👍", {"anonUserId": "anon-b-voter"}),
                                   (w.b_signed, "🎉", {"sso": b_rev})):
        response = await client.post(f"/comments/{B}/{comment_id}/reactions",
                                     json={"emoji": emoji, "on": True, **who})
        assert response.status_code == 200, response.text

    # B's image B_ONLY_IMAGE has two versions (uploaded by B's backend): its conversation
    # was made on version 1 and carried to version 2.
    b_key = {"X-API-Key": tenant_b.api_secret}
    for seed in (1, 2):
        response = await client.post("/api/v1/images/versions", headers={
            **b_key, "Content-Type": "image/png"}, content=picture(seed),
            params={"tenantId": B, "urlId": B_ONLY_IMAGE})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == seed

    # B's moderation state: a ban with a reason, a locked image and a locked page.
    response = await client.post("/api/v1/bans", params={"tenantId": B}, headers=b_key,
                                 json={"anonUserId": "anon-b-troll",
                                       "reason": "B-SECRET ban reason"})
    assert response.status_code == 200, response.text
    for url_id in (B_ONLY_IMAGE, B_ONLY_PAGE):
        response = await client.post("/api/v1/image-lock", headers=b_key,
                                     params={"tenantId": B, "urlId": url_id},
                                     json={"locked": True})
        assert response.status_code == 200, response.text

    async with services(app).db.write() as conn:
        await email_bounces.add(conn, B, B_BOUNCED, code=550, message="B-SECRET bounce",
                                now_ms=w.now_ms)
    async with services(app).db.read() as conn:
        rows = await conn.execute(select(pages.c.id).where(pages.c.tenant_id == B))
        w.b_page_rows = [r.id for r in rows]
        rows = await conn.execute(select(notifications.c.id)
                                  .where(notifications.c.tenant_id == B))
        w.b_notifications = [r.id for r in rows]
    await _b_webhook(app, w)
    w.b_readers = {"bea": {"sso": json.dumps(b_user)}, "rev": {"sso": json.dumps(b_rev)},
                   "anon": {"anonUserId": "anon-b-author"}}

    w.identities = {
        "anon": _anon_identity("anon", "anon-a-author", w.a_conversation_key),
        "admin": _sso_identity("admin", make_token(
            tenant_a.api_secret, {"id": "a-admin", "isAdmin": True}, w.now_ms)),
        "moderator": _sso_identity("moderator", make_token(
            tenant_a.api_secret, {"id": "a-mod", "isModerator": True}, w.now_ms)),
        "twin": _sso_identity("twin", make_token(
            tenant_a.api_secret, {"id": "b-user", "username": "Bea of A"}, w.now_ms)),
        "twin-anon": Identity("twin-anon", {"anonUserId": "anon-b-author"},
                              {"anonUserId": "anon-b-author"}),
    }
    return w


async def _b_webhook(app: FastAPI, w: World) -> None:
    """B's webhook endpoint and one delivery to it, written straight to the store: the
    delivery is due in years, so no worker sends it while the cases run."""
    w.b_webhook, w.b_webhook_secret, w.b_delivery = new_id(), "B-SECRET-hook-key", new_id()
    async with services(app).db.write() as conn:
        await webhooks.add(conn, WebhookEndpoint(
            id=w.b_webhook, tenant_id=B, url="https://hooks.example/B-SECRET", events=(),
            secret=w.b_webhook_secret, created_at=w.now_ms, failing_since=None,
            disabled_at=None, disabled_reason=""))
        await outbox.add(conn, [Delivery(
            id=w.b_delivery, tenant_id=B, kind="webhook", target=w.b_webhook,
            event_type="comment.created", payload='{"data": "B-SECRET"}', status="pending",
            attempts=0, next_attempt_at=w.now_ms + 10 * 365 * 24 * HOUR_MS,
            last_attempt_at=None, last_status_code=None, last_error="", last_response="",
            created_at=w.now_ms, finished_at=None)])


def picture(seed: int) -> bytes:
    """A small PNG, different for each seed."""
    image = Image.new("RGB", (120, 90), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10 * seed, 10, 10 * seed + 40, 50), fill=(200, 20 * seed, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class Ctx:
    app: FastAPI
    client: httpx.AsyncClient
    w: World
    attempts: int = 0

    async def call(
        self, method: str, url: str, expected: int, *, params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.client.request(method, url, params=params, json=json_body,
                                             headers=headers)
        self.attempts += 1
        where = f"{method} {url} params={params} body={json_body}"
        assert response.status_code == expected, f"{where}: {response.status_code} {response.text}"
        body: dict[str, Any] = response.json()
        assert body["status"] == ("success" if expected == 200 else "failed"), where
        # The request's own urlId is echoed back; that is not B's data.
        shown = {k: v for k, v in body.items() if k not in ("urlIdWS", "urlIdClean")}
        text = json.dumps(shown)
        for marker in self.w.leak_markers():
            assert marker not in text, f"{where} leaked {marker!r}: {text}"
        return body

    def api(self, tenant_id: str, **params: Any) -> dict[str, Any]:
        return {"tenantId": tenant_id, **params}

    @property
    def a_key(self) -> dict[str, str]:
        return {"X-API-Key": self.w.tenant_a.api_secret}

    async def a_thread(self, url_id: str) -> list[str]:
        """The ids of A's comments at one urlId as A's widget reads them, sorted (the
        clock stands still, so creation order is not visible)."""
        body = await self.call("GET", f"/comments/{A}", 200, params={"urlId": url_id})
        assert {comment["tenantId"] for comment in body["comments"]} <= {A}
        return sorted(comment["_id"] for comment in body["comments"])


Case = Callable[[Ctx], Awaitable[None]]


# --- /comment-image-chats -----------------------------------------------------------------

async def case_list_image_chats(c: Ctx) -> None:
    w = c.w
    for who in w.a_visitors:
        for url_id in (B_ONLY_IMAGE, SHARED_PAGE, B_ONLY_PAGE):
            body = await c.call("GET", f"/comment-image-chats/{A}", 200,
                                params={"urlId": url_id, **who.query})
            assert body["conversations"] == [] and body["tenantIdWS"] == A
        body = await c.call("GET", f"/comment-image-chats/{A}", 200,
                            params={"urlId": B_ONLY_IMAGE, **who.query})
        assert body["seq"] == 0 and body["epoch"] == ""
        body = await c.call("GET", f"/comment-image-chats/{A}", 200,
                            params={"urlId": SHARED_IMAGE, **who.query})
        assert [(one["_id"], one["tenantId"], one["urlId"], one["urlIdClean"])
                for one in body["conversations"]] == [
            (w.a_conversation, A, w.a_window, SHARED_IMAGE)]
        # A's channel on the shared image: new conversation, its comment, reply + count, vote.
        assert body["seq"] == 5
    for who in w.a_sso:
        await c.call("GET", f"/comment-image-chats/{B}", 401,
                     params={"urlId": SHARED_IMAGE, **who.query})


async def case_create_image_chat(c: Ctx) -> None:
    w = c.w
    images = {w.b_window1: SHARED_IMAGE, w.b_window2: B_ONLY_IMAGE}
    for who in w.a_visitors:
        # The two-step flow over B's comment, at B's thread: B's comment is not A's.
        for comment_id, thread in w.b_comment_threads:
            await c.call("POST", f"/comment-image-chats/{A}", 404, json_body={
                "urlId": images.get(thread, SHARED_IMAGE), "x": 50, "y": 50,
                "windowUrlId": thread, "createdFromCommentId": comment_id, **who.body})
    made: dict[str, str] = {}
    for who in w.a_visitors:
        # Over B's threads by name: A's own conversation over A's own thread of that name;
        # the second tab gets it back (never B's conversation there).
        for thread, image in images.items():
            body = await c.call("POST", f"/comment-image-chats/{A}", 200, json_body={
                "urlId": image, "x": 50, "y": 50, "windowUrlId": thread,
                "comment": f"A on B's thread ({who.name})", "commenterName": "Ann A",
                **who.body})
            conversation = body["chat"]
            assert (conversation["tenantId"], conversation["urlId"],
                    conversation["urlIdClean"]) == (A, thread, image)
            assert body["existing"] is (thread in made)
            assert made.setdefault(thread, conversation["_id"]) == conversation["_id"]
            assert body["comment"]["tenantId"] == A
            assert body["comment"]["chatId"] == conversation["_id"]
    listing = await c.call("GET", f"/comment-image-chats/{A}", 200,
                           params={"urlId": B_ONLY_IMAGE})
    assert [conversation["_id"] for conversation in listing["conversations"]] == [made[w.b_window2]]
    assert listing["conversations"][0]["commentCount"] == len(w.a_visitors)
    # New conversation and its comment, then a comment and a count for each later tab.
    assert listing["seq"] == 2 * len(w.a_visitors)
    for who in w.a_sso:
        await c.call("POST", f"/comment-image-chats/{B}", 401, json_body={
            "urlId": SHARED_IMAGE, "x": 5, "y": 5, "comment": "intrusion", **who.body})
        await c.call("POST", f"/comment-image-chats/{B}", 401, json_body={
            "urlId": SHARED_IMAGE, "x": 5, "y": 5, "windowUrlId": w.b_window1,
            "createdFromCommentId": w.b_first, **who.body})


async def case_delete_image_chat(c: Ctx) -> None:
    w = c.w
    for chat_id in w.b_conversations:
        for who in w.a_visitors:
            await c.call("DELETE", f"/comment-image-chats/{A}/{chat_id}", 404, params=who.query)
        # Even B's own edit key, had it leaked, finds nothing of B through A's path.
        await c.call("DELETE", f"/comment-image-chats/{A}/{chat_id}", 404,
                     params={"editKey": w.b_conversation_key, "anonUserId": "anon-b-author"})
        for who in w.a_sso:
            await c.call("DELETE", f"/comment-image-chats/{B}/{chat_id}", 401, params=who.query)
            await c.call("DELETE", f"/comment-image-chats/{B}/{chat_id}", 401,
                         json_body=who.body)
        # A's edit key belongs to A's conversation; it proves nothing about B's.
        await c.call("DELETE", f"/comment-image-chats/{B}/{chat_id}", 403,
                     params=w.identities["anon"].query)
    for key in w.a_edit_keys:
        await c.call("DELETE", f"/comment-image-chats/{B}/{w.b_conversation1}", 403,
                     json_body={"editKey": key, "anonUserId": "anon-a-author"})


async def case_move_image_chat(c: Ctx) -> None:
    w = c.w
    for chat_id in w.b_conversations:
        path = f"/comment-image-chats/{{}}/{chat_id}/move"
        for body in ({"x": 5, "y": 5}, {"region": {"x": 5, "y": 5, "w": 5, "h": 5}},
                     {"x": 5, "y": 5, "version": 2}):
            for who in w.a_visitors:
                await c.call("POST", path.format(A), 404, json_body={**body, **who.body})
            await c.call("POST", path.format(A), 404, json_body={
                **body, "editKey": w.b_conversation_key, "anonUserId": "anon-b-author"})
            for who in w.a_sso:
                await c.call("POST", path.format(B), 401, json_body={**body, **who.body})
                await c.call("POST", path.format(B), 401, params=who.query, json_body=body)
            body_ = await c.call("POST", path.format(B), 403, json_body={
                **body, **w.identities["anon"].body})
            assert body_["code"] == "not-author"
    body = await c.call("POST", f"/comment-image-chats/{A}/{w.a_conversation}/move", 200,
                        json_body={"x": 1, "y": 2, **w.identities["anon"].body})
    assert (body["chat"]["_id"], body["chat"]["x"]) == (w.a_conversation, 1)


# --- /image-versions ------------------------------------------------------------------------

async def case_list_image_versions(c: Ctx) -> None:
    w = c.w
    for who in w.a_visitors:
        for url_id in (B_ONLY_IMAGE, SHARED_IMAGE):
            body = await c.call("GET", f"/image-versions/{A}", 200,
                                params={"urlId": url_id, **who.query})
            assert body["versions"] == [] and body["latestVersion"] is None
        body = await c.call("GET", f"/comment-image-chats/{A}", 404,
                            params={"urlId": B_ONLY_IMAGE, "version": 1, **who.query})
        assert body["code"] == "version-not-found"
    for who in w.a_sso:
        await c.call("GET", f"/image-versions/{B}", 401,
                     params={"urlId": B_ONLY_IMAGE, **who.query})


async def case_report_image(c: Ctx) -> None:
    w = c.w
    # An address the server may not fetch (a private one): refused on A's path and B's,
    # and nothing of B changes.
    body = {"urlId": B_ONLY_IMAGE, "src": "http://127.0.0.1:9/b-only.png"}
    for who in w.a_visitors:
        answer = await c.call("POST", f"/image-versions/{A}", 403,
                              json_body={**body, **who.body})
        assert answer["code"] == "image-target-refused"
    for who in w.a_sso:
        await c.call("POST", f"/image-versions/{B}", 401, json_body={**body, **who.body})
        await c.call("POST", f"/image-versions/{B}", 401, params=who.query, json_body=body)


async def case_image_thumbnail(c: Ctx) -> None:
    w = c.w
    for version in (1, 2):
        for who in w.a_visitors:
            body = await c.call("GET", f"/image-versions/{A}/thumbnail", 404, params={
                "urlId": B_ONLY_IMAGE, "version": version, **who.query})
            assert body["code"] == "thumbnail-not-found"


async def case_api_image_version(c: Ctx) -> None:
    path = "/api/v1/images/versions"
    await _api_refused_for_b(c, "POST", path, {"urlId": B_ONLY_IMAGE,
                                               "src": "https://b.example/b.png"})
    # A's backend uploads at the same urlId: A's own version 1, not B's version 3.
    response = await c.client.post(path, params=c.api(A, urlId=B_ONLY_IMAGE),
                                   headers={**c.a_key, "Content-Type": "image/png"},
                                   content=picture(3))
    c.attempts += 1
    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["created"]) == (1, True)


async def case_api_export_image(c: Ctx) -> None:
    path = "/api/v1/images/export"
    for fmt in ("csv", "pdf"):
        await _api_refused_for_b(c, "GET", path, urlId=B_ONLY_IMAGE, format=fmt)
        # A's secret on A's path: A has no image at B's urlId.
        body = await c.call("GET", path, 404, params=c.api(A, urlId=B_ONLY_IMAGE, format=fmt),
                            headers=c.a_key)
        assert body["code"] == "image-not-found"
    # At the urlId both talk about: A's own conversation and comments only.
    response = await c.client.get(path, params=c.api(A, urlId=SHARED_IMAGE, format="csv"),
                                  headers=c.a_key)
    c.attempts += 1
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["conversationId"] for r in rows} == {c.w.a_conversation}
    assert sorted(r["commentId"] for r in rows) == sorted([c.w.a_first, c.w.a_reply])
    for marker in c.w.leak_markers():
        assert marker not in response.text, f"CSV export leaked {marker!r}"


# --- /comments ----------------------------------------------------------------------------

async def case_list_comments(c: Ctx) -> None:
    w = c.w
    # B's threads, B's pages, B's locked image: through A's path, A's own (near empty)
    # threads of those names, on A's own channels, open.
    for url_id in [*w.b_threads, B_ONLY_IMAGE]:
        expected = w.a_comments_at(url_id)
        for who in w.a_visitors:
            body = await c.call("GET", f"/comments/{A}", 200,
                                params={"urlId": url_id, **who.query})
            assert [comment["_id"] for comment in body["comments"]] == expected
            assert body["commentCount"] == len(expected) and body["hasMore"] is False
            assert (body["tenantIdWS"], body["urlIdWS"], body["urlIdClean"]) == (A, url_id,
                                                                                 url_id)
            assert body["isClosed"] is False
        for who in w.a_sso:
            await c.call("GET", f"/comments/{B}", 401, params={"urlId": url_id, **who.query})
    # A's own conversation's thread is on A's channel of the image.
    body = await c.call("GET", f"/comments/{A}", 200, params={"urlId": w.a_window})
    assert sorted(comment["_id"] for comment in body["comments"]) == sorted([w.a_first,
                                                                               w.a_reply])
    assert {comment["chatId"] for comment in body["comments"]} == {w.a_conversation}
    assert body["urlIdWS"] == SHARED_IMAGE


async def case_post_comment(c: Ctx) -> None:
    w = c.w
    for url_id in w.b_threads:
        posted = []
        for who in w.a_visitors:
            # With the urlId in the query, and in the body only: a comment in A's own
            # thread of that name, in no conversation (A has none there).
            for params in ({"urlId": url_id}, {}):
                body = await c.call("POST", f"/comments/{A}", 200, params=params,
                                    json_body={"comment": "A at B's urlId",
                                               "commenterName": "Ann A", "urlId": url_id,
                                               **who.body})
                comment = body["comment"]
                assert (comment["tenantId"], comment["urlId"], comment["chatId"]) == (
                    A, url_id, None)
                posted.append(comment["_id"])
        for who in w.a_sso:
            await c.call("POST", f"/comments/{B}", 401, params={"urlId": url_id},
                         json_body={"comment": "into B?", "urlId": url_id, **who.body})
        assert await c.a_thread(url_id) == sorted([*w.a_comments_at(url_id), *posted])
    # No reply of A's hangs below B's comment: not at B's thread's name, not in A's conversation.
    for comment_id, thread in w.b_comment_threads:
        for url_id in (thread, w.a_window):
            for who in w.a_visitors:
                await c.call("POST", f"/comments/{A}", 400, params={"urlId": url_id},
                             json_body={"comment": "reply to B?", "commenterName": "Ann A",
                                        "parentId": comment_id, **who.body})


async def case_update_text(c: Ctx) -> None:
    w = c.w
    for comment_id in w.b_comments:
        for who in w.a_visitors:
            await c.call("POST", f"/comments/{A}/{comment_id}/update-text", 404,
                         json_body={"comment": "rewritten by A", **who.body})
        for key in w.b_edit_keys:
            await c.call("POST", f"/comments/{A}/{comment_id}/update-text", 404,
                         params={"editKey": key}, json_body={"comment": "rewritten by A"})
        for who in w.a_sso:
            await c.call("POST", f"/comments/{B}/{comment_id}/update-text", 401,
                         json_body={"comment": "rewritten by A", **who.body})
        for key in w.a_edit_keys:
            await c.call("POST", f"/comments/{B}/{comment_id}/update-text", 403,
                         json_body={"comment": "rewritten by A", "editKey": key,
                                    "anonUserId": "anon-a-author"})
            await c.call("POST", f"/comments/{B}/{comment_id}/update-text", 403,
                         params={"editKey": key}, json_body={"comment": "rewritten by A"})


async def case_delete_comment(c: Ctx) -> None:
    w = c.w
    for comment_id in w.b_comments:
        for who in w.a_visitors:
            await c.call("DELETE", f"/comments/{A}/{comment_id}", 404, params=who.query)
            await c.call("DELETE", f"/comments/{A}/{comment_id}", 404, json_body=who.body)
        for key in w.b_edit_keys:
            await c.call("DELETE", f"/comments/{A}/{comment_id}", 404, params={"editKey": key})
        for who in w.a_sso:
            await c.call("DELETE", f"/comments/{B}/{comment_id}", 401, params=who.query)
            await c.call("DELETE", f"/comments/{B}/{comment_id}", 401, json_body=who.body)
        for key in w.a_edit_keys:
            await c.call("DELETE", f"/comments/{B}/{comment_id}", 403,
                         params={"editKey": key, "anonUserId": "anon-a-author"})


async def case_vote(c: Ctx) -> None:
    w = c.w
    for comment_id, thread in w.b_comment_threads:
        for direction in ("up", "down"):
            for who in w.a_visitors:
                await c.call("POST", f"/comments/{A}/{comment_id}/vote", 404,
                             params={"urlId": thread},
                             json_body={"voteDir": direction, **who.body})
            for who in w.a_sso:
                await c.call("POST", f"/comments/{B}/{comment_id}/vote", 401,
                             json_body={"voteDir": direction, **who.body})


async def case_unvote(c: Ctx) -> None:
    w = c.w
    pairs = [(w.b_first, w.b_vote), (w.b_signed, w.b_vote2), (w.a_first, w.b_vote),
             (w.b_first, w.a_vote), (w.b_first, w.b_vote2)]
    voter = Identity("a-voter", {"anonUserId": "anon-a-voter"}, {"anonUserId": "anon-a-voter"})
    for comment_id, vote_id in pairs:
        for who in [*w.a_visitors, voter]:
            await c.call("DELETE", f"/comments/{A}/{comment_id}/vote/{vote_id}", 404,
                         params=who.query)
    for comment_id, vote_id in [(w.b_first, w.b_vote), (w.b_signed, w.b_vote2)]:
        for who in w.a_sso:
            await c.call("DELETE", f"/comments/{B}/{comment_id}/vote/{vote_id}", 401,
                         params=who.query)
            await c.call("DELETE", f"/comments/{B}/{comment_id}/vote/{vote_id}", 401,
                         json_body=who.body)
        # A's own voter is not the voter of B's votes.
        await c.call("DELETE", f"/comments/{B}/{comment_id}/vote/{vote_id}", 403,
                     params=voter.query)


# --- live sync history ---------------------------------------------------------------------

async def _check_event_log(c: Ctx, path: str) -> None:
    w = c.w
    window = {"startTime": 0, "endTime": w.now_ms + HOUR_MS}
    for who in w.a_visitors:
        for url_id in (B_ONLY_IMAGE, *w.b_threads):
            body = await c.call("GET", path, 200,
                                params={"urlId": url_id, "userIdWS": "x", **window,
                                        **who.query})
            events = [json.loads(e["data"]) for e in body["events"]]
            # A's own page comment is all there is at the shared page, in A's channel.
            assert [e["comment"]["_id"] for e in events] == w.a_comments_at(url_id)
            assert {e["urlId"] for e in body["events"]} <= {url_id}
        body = await c.call("GET", path, 200, params={"urlId": SHARED_IMAGE, **window,
                                                      **who.query})
        assert {e["tenantId"] for e in body["events"]} == {A}
        events = [json.loads(e["data"]) for e in body["events"]]
        assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
        assert {e["urlId"] for e in events} == {SHARED_IMAGE}


async def case_event_log(c: Ctx) -> None:
    await _check_event_log(c, f"/event-log/{A}")


async def case_event_log_slash(c: Ctx) -> None:
    await _check_event_log(c, f"/event-log/{A}/")


async def case_events_since(c: Ctx) -> None:
    w = c.w
    for who in w.a_visitors:
        for url_id in (B_ONLY_IMAGE, B_ONLY_PAGE, w.b_window1):
            body = await c.call("GET", f"/events/{A}", 200,
                                params={"urlId": url_id, "since": 0, **who.query})
            assert body["events"] == [] and body["seq"] == 0
            assert body["resyncRequired"] is False
        body = await c.call("GET", f"/events/{A}", 200,
                            params={"urlId": SHARED_PAGE, "since": 0, **who.query})
        assert [e["comment"]["_id"] for e in body["events"]] == [w.a_page]
        body = await c.call("GET", f"/events/{A}", 200,
                            params={"urlId": SHARED_IMAGE, "since": 0, **who.query})
        assert [e["seq"] for e in body["events"]] == [1, 2, 3, 4, 5]
        assert {e["urlId"] for e in body["events"]} == {SHARED_IMAGE}
    for url_id in (SHARED_IMAGE, SHARED_PAGE):
        # B's epoch means nothing in A's channel: A's client is told to reload A's state.
        b_epoch = await channel_epoch(c.app, B, url_id)
        body = await c.call("GET", f"/events/{A}", 200,
                            params={"urlId": url_id, "since": 1, "epoch": b_epoch})
        assert body["epoch"] != b_epoch
        assert body["resyncRequired"] is True and body["events"] == []


# --- /api/v1 (server to server) ---------------------------------------------------------

async def _api_refused_for_b(
    c: Ctx, method: str, path: str, body: dict[str, Any] | None = None, **params: Any
) -> None:
    """A's API secret never opens anything of tenant B, by header or by query."""
    await c.call(method, path, 401, params=c.api(B, **params), headers=c.a_key, json_body=body)
    await c.call(method, path, 401, json_body=body,
                 params=c.api(B, API_KEY=c.w.tenant_a.api_secret, **params))
    # A's SSO tokens are not API secrets either.
    for who in c.w.a_sso:
        await c.call(method, path, 401, params=c.api(B, **params, **who.query), json_body=body)


async def case_api_list_image_chats(c: Ctx) -> None:
    w = c.w
    path = "/api/v1/image-chats"
    await _api_refused_for_b(c, "GET", path)
    await _api_refused_for_b(c, "GET", path, urlId=SHARED_IMAGE)
    for params in ({}, {"urlId": SHARED_IMAGE}):
        body = await c.call("GET", path, 200, params=c.api(A, **params), headers=c.a_key)
        assert [(one["_id"], one["urlId"]) for one in body["imageChats"]] == [
            (w.a_conversation, w.a_window)]
    for url_id in (B_ONLY_IMAGE, SHARED_PAGE):
        body = await c.call("GET", path, 200, params=c.api(A, urlId=url_id), headers=c.a_key)
        assert body["imageChats"] == []


async def _api_object_case(
    c: Ctx, method: str, prefix: str, ids: list[str], body: dict[str, Any] | None = None
) -> None:
    for object_id in ids:
        await _api_refused_for_b(c, method, f"{prefix}/{object_id}", body)
        await c.call(method, f"{prefix}/{object_id}", 404, params=c.api(A), headers=c.a_key,
                     json_body=body)


async def case_api_get_image_chat(c: Ctx) -> None:
    await _api_object_case(c, "GET", "/api/v1/image-chats", c.w.b_conversations)


async def case_api_delete_image_chat(c: Ctx) -> None:
    await _api_object_case(c, "DELETE", "/api/v1/image-chats", c.w.b_conversations)


async def case_api_list_comments(c: Ctx) -> None:
    w = c.w
    path = "/api/v1/comments"
    await _api_refused_for_b(c, "GET", path)
    for url_id in w.b_threads:
        await _api_refused_for_b(c, "GET", path, urlId=url_id)
        body = await c.call("GET", path, 200, params=c.api(A, urlId=url_id), headers=c.a_key)
        assert [comment["id"] for comment in body["comments"]] == w.a_comments_at(url_id)
    body = await c.call("GET", path, 200, params=c.api(A), headers=c.a_key)
    assert sorted(comment["id"] for comment in body["comments"]) == sorted(
        [w.a_first, w.a_reply, w.a_page])
    assert {comment["tenantId"] for comment in body["comments"]} == {A}
    # Filtering by B's authors or below B's comment finds nothing either.
    for filters in ({"userId": "b-user"}, {"anonUserId": "anon-b-author"},
                    {"parentId": w.b_first}, {"parentId": w.b_page}):
        body = await c.call("GET", path, 200, params=c.api(A, **filters), headers=c.a_key)
        assert body["comments"] == []


async def case_api_save_comment(c: Ctx) -> None:
    w = c.w
    path = "/api/v1/comments"
    for url_id in w.b_threads:
        new = {"commenterName": "Ann A", "comment": "A's backend at B's urlId",
               "urlId": url_id, "url": "https://a.example/page", "userId": "b-user"}
        await _api_refused_for_b(c, "POST", path, new)
        body = await c.call("POST", path, 200, params=c.api(A), headers=c.a_key, json_body=new)
        comment = body["comment"]
        assert (comment["tenantId"], comment["urlId"], comment["userId"]) == (A, url_id,
                                                                              "b-user")
        assert body["user"] is None
        assert await c.a_thread(url_id) == sorted([*w.a_comments_at(url_id), comment["id"]])
    for comment_id, thread in w.b_comment_threads:
        await c.call("POST", path, 400, params=c.api(A), headers=c.a_key, json_body={
            "commenterName": "Ann A", "comment": "reply to B?", "urlId": thread,
            "parentId": comment_id})


async def case_api_get_comment(c: Ctx) -> None:
    await _api_object_case(c, "GET", "/api/v1/comments", c.w.b_comments)


async def case_api_update_comment(c: Ctx) -> None:
    await _api_object_case(c, "PATCH", "/api/v1/comments", c.w.b_comments, {
        "comment": "rewritten by A", "commenterName": "A", "approved": False,
        "verified": True})


async def case_api_delete_comment(c: Ctx) -> None:
    await _api_object_case(c, "DELETE", "/api/v1/comments", c.w.b_comments)


async def case_api_list_pages(c: Ctx) -> None:
    w = c.w
    path = "/api/v1/pages"
    await _api_refused_for_b(c, "GET", path)
    body = await c.call("GET", path, 200, params=c.api(A), headers=c.a_key)
    # A's two threads, with A's counts only (B has comments at the shared page too).
    assert {p["urlId"]: (p["commentCount"], p["isClosed"]) for p in body["pages"]} == {
        w.a_window: (2, False), SHARED_PAGE: (1, False)}
    body = await c.call("GET", path, 200, params=c.api(A, skip=2), headers=c.a_key)
    assert body["pages"] == []


async def case_api_page_by_url_id(c: Ctx) -> None:
    w = c.w
    path = "/api/v1/pages/by-url-id"
    for url_id in w.b_threads:
        await _api_refused_for_b(c, "GET", path, urlId=url_id)
        body = await c.call("GET", path, 200, params=c.api(A, urlId=url_id), headers=c.a_key)
        if url_id == SHARED_PAGE:
            page = body["page"]
            assert (page["urlId"], page["commentCount"], page["rootCommentCount"],
                    page["isClosed"]) == (SHARED_PAGE, 1, 1, False)
        else:
            assert "page" not in body


async def case_api_usage(c: Ctx) -> None:
    await _api_refused_for_b(c, "GET", "/api/v1/usage")
    body = await c.call("GET", "/api/v1/usage", 200,
                        params=c.api(A, to=c.w.now_ms + HOUR_MS), headers=c.a_key)
    # A made one conversation and three comments; B made two and five.
    assert sum(b["conversationCreateCount"] for b in body["usage"]) == 1
    assert sum(b["commentCreateCount"] for b in body["usage"]) == 3


# --- moderation ---------------------------------------------------------------------------

async def case_lock_image(c: Ctx) -> None:
    w = c.w
    for who in w.a_sso:
        # A's moderators lock A's channels for the shared image and page; B's stay open,
        # and B's locked image and page stay locked.
        for url_id, locked in ((SHARED_IMAGE, True), (SHARED_PAGE, True),
                               (B_ONLY_IMAGE, False), (B_ONLY_PAGE, False)):
            await c.call("POST", f"/lock-image/{A}", 200, params={"urlId": url_id},
                         json_body={"locked": locked, **who.body})
            await c.call("POST", f"/lock-image/{B}", 401, params={"urlId": url_id},
                         json_body={"locked": not locked, **who.body})
    for url_id in (SHARED_IMAGE, SHARED_PAGE):
        await c.call("POST", f"/lock-image/{B}", 403, params={"urlId": url_id},
                     json_body={"locked": True, **w.identities["anon"].body})
    body = await c.call("GET", f"/comments/{A}", 200, params={"urlId": SHARED_PAGE})
    assert body["isClosed"] is True


async def case_ban_user(c: Ctx) -> None:
    w = c.w
    for who in w.a_sso:
        await c.call("POST", f"/ban-user/{B}", 401,
                     json_body={"anonUserId": f"anon-b-author-{who.name}", **who.body})
    for who in w.a_sso:
        # Banning B's author in A bans nobody in B.
        await c.call("POST", f"/ban-user/{A}", 200,
                     json_body={"userId": f"b-user-{who.name}", **who.body})
    await c.call("POST", f"/ban-user/{B}", 403,
                 json_body={"anonUserId": "anon-b-author", **w.identities["anon"].body})


async def case_unban_user(c: Ctx) -> None:
    w = c.w
    for who in w.a_sso:
        await c.call("DELETE", f"/ban-user/{B}", 401,
                     params={"anonUserId": "anon-b-troll", **who.query})
        # B's ban is not A's to lift: through A's path it does not exist.
        await c.call("DELETE", f"/ban-user/{A}", 404,
                     params={"anonUserId": "anon-b-troll", **who.query})


async def case_api_image_lock(c: Ctx) -> None:
    for url_id in (B_ONLY_IMAGE, B_ONLY_PAGE):
        await _api_refused_for_b(c, "POST", "/api/v1/image-lock", {"locked": False},
                                 urlId=url_id)
    for url_id in (SHARED_IMAGE, SHARED_PAGE):
        await c.call("POST", "/api/v1/image-lock", 200, params=c.api(A, urlId=url_id),
                     headers=c.a_key, json_body={"locked": True})


async def case_api_list_bans(c: Ctx) -> None:
    await _api_refused_for_b(c, "GET", "/api/v1/bans")
    body = await c.call("GET", "/api/v1/bans", 200, params=c.api(A), headers=c.a_key)
    assert body["bans"] == []


async def case_api_ban(c: Ctx) -> None:
    await _api_refused_for_b(c, "POST", "/api/v1/bans", {"anonUserId": "anon-b-author"})
    body = await c.call("POST", "/api/v1/bans", 200, params=c.api(A), headers=c.a_key,
                        json_body={"anonUserId": "anon-b-troll"})
    assert body["ban"]["anonUserId"] == "anon-b-troll"


async def case_api_unban(c: Ctx) -> None:
    await _api_refused_for_b(c, "DELETE", "/api/v1/bans", anonUserId="anon-b-troll")
    await c.call("DELETE", "/api/v1/bans", 404, params=c.api(A, anonUserId="anon-b-troll"),
                 headers=c.a_key)


async def case_api_moderation_log(c: Ctx) -> None:
    await _api_refused_for_b(c, "GET", "/api/v1/moderation-log")
    body = await c.call("GET", "/api/v1/moderation-log", 200, params=c.api(A), headers=c.a_key)
    assert body["entries"] == []


# --- /api/v1 webhooks ---------------------------------------------------------------------

# A public address given as a literal: adding it resolves nothing; no case sends to it.
A_HOOK = "http://93.184.215.14/a-hook"


async def case_api_list_webhooks(c: Ctx) -> None:
    await _api_refused_for_b(c, "GET", "/api/v1/webhooks")
    body = await c.call("GET", "/api/v1/webhooks", 200, params=c.api(A), headers=c.a_key)
    assert body["webhooks"] == []


async def case_api_add_webhook(c: Ctx) -> None:
    await _api_refused_for_b(c, "POST", "/api/v1/webhooks", {"url": A_HOOK})
    body = await c.call("POST", "/api/v1/webhooks", 200, params=c.api(A), headers=c.a_key,
                        json_body={"url": A_HOOK})
    listed = await c.call("GET", "/api/v1/webhooks", 200, params=c.api(A), headers=c.a_key)
    assert [e["id"] for e in listed["webhooks"]] == [body["webhook"]["id"]]


async def case_api_remove_webhook(c: Ctx) -> None:
    await _api_object_case(c, "DELETE", "/api/v1/webhooks", [c.w.b_webhook])


async def _api_webhook_case(c: Ctx, method: str, path: str) -> None:
    await _api_refused_for_b(c, method, path)
    body = await c.call(method, path, 404, params=c.api(A), headers=c.a_key)
    assert body["code"] == "webhook-not-found"


async def case_api_test_webhook(c: Ctx) -> None:
    await _api_webhook_case(c, "POST", f"/api/v1/webhooks/{c.w.b_webhook}/test")


async def case_api_webhook_deliveries(c: Ctx) -> None:
    await _api_webhook_case(c, "GET", f"/api/v1/webhooks/{c.w.b_webhook}/deliveries")


async def case_api_send_again(c: Ctx) -> None:
    path = f"/api/v1/webhook-deliveries/{c.w.b_delivery}/send-again"
    await _api_refused_for_b(c, "POST", path)
    body = await c.call("POST", path, 404, params=c.api(A), headers=c.a_key)
    assert body["code"] == "delivery-not-found"


# --- review workflow ----------------------------------------------------------------------

async def case_resolve_image_chat(c: Ctx) -> None:
    w = c.w
    # Even where A lets every visitor resolve, B's conversations are not A's to find.
    await services(c.app).tenants.update(A, visitors_resolve=True)
    for chat_id in w.b_conversations:  # B's first is resolved, its second open
        path = f"/comment-image-chats/{{}}/{chat_id}/resolve"
        for resolved in (True, False):
            for who in w.a_visitors:
                await c.call("POST", path.format(A), 404,
                             json_body={"resolved": resolved, **who.body})
            await c.call("POST", path.format(A), 404, json_body={
                "resolved": resolved, "editKey": w.b_conversation_key,
                "anonUserId": "anon-b-author"})
            for who in w.a_sso:
                await c.call("POST", path.format(B), 401,
                             json_body={"resolved": resolved, **who.body})
                await c.call("POST", path.format(B), 401, params=who.query,
                             json_body={"resolved": resolved})
            # A's edit key is not the author's key of B's conversation.
            body = await c.call("POST", path.format(B), 403, json_body={
                "resolved": resolved, **w.identities["anon"].body})
            assert body["code"] == "not-allowed-to-resolve"
    body = await c.call("POST", f"/comment-image-chats/{A}/{w.a_conversation}/resolve", 200,
                        json_body={"resolved": True, **w.identities["anon"].body})
    assert (body["chat"]["_id"], body["chat"]["resolved"]) == (w.a_conversation, True)


async def case_react(c: Ctx) -> None:
    w = c.w
    for comment_id in w.b_comments:
        path = f"/comments/{{}}/{comment_id}/reactions"
        for on in (True, False):
            for who in w.a_visitors:
                await c.call("POST", path.format(A), 404,
                             json_body={"emoji": "👍", "on": on, **who.body})
            for who in w.a_sso:
                await c.call("POST", path.format(B), 401,
                             json_body={"emoji": "👍", "on": on, **who.body})
                await c.call("POST", path.format(B), 401, params=who.query,
                             json_body={"emoji": "👍", "on": on})
    # The voter who put B's 👍 on B's comment is, in A, someone with no reactions yet.
    body = await c.call("POST", f"/comments/{A}/{w.a_first}/reactions", 200,
                        json_body={"emoji": "👍", "on": True, "anonUserId": "anon-b-voter"})
    assert (body["comment"]["reactions"], body["comment"]["myReactions"]) == ({"👍": 1},
                                                                              ["👍"])


async def case_user_search(c: Ctx) -> None:
    w = c.w
    # A's own user under B's user's id, known to A by what it wrote in A.
    twin = w.identities["twin"]
    await c.call("POST", f"/comments/{A}", 200, params={"urlId": SHARED_PAGE},
                 json_body={"comment": "A's Bea", "urlId": SHARED_PAGE, **twin.body})
    a_bea = [{"id": "b-user", "name": "Bea of A", "displayName": "Bea of A",
              "avatarSrc": None, "type": "sso"}]
    for who in w.a_visitors:
        for prefix, expected in (("", a_bea), ("B", a_bea), ("b-secret", []),
                                 ("B-SECRET", []), ("Rev", [])):
            body = await c.call("GET", f"/user-search/{A}", 200, params={
                "urlId": w.b_window2, "usernameStartsWith": prefix, **who.query})
            assert body["users"] == expected, prefix
    for who in w.a_signed:
        await c.call("GET", f"/user-search/{B}", 401,
                     params={"usernameStartsWith": "B", **who.query})


# --- /user-notifications (the tenant is named in the query) -------------------------------

def _bell(tenant_id: str, who: Identity, **params: Any) -> dict[str, Any]:
    return {"tenantId": tenant_id, **params, **who.query}


async def case_list_notifications(c: Ctx) -> None:
    w = c.w
    anon = w.identities["anon"]
    # A's anonymous author hears of a reply by A's admin: A's bell is not empty either.
    reply = await c.call("POST", f"/comments/{A}", 200, params={"urlId": w.a_window},
                         json_body={"comment": "A admin reply", "urlId": w.a_window,
                                    "parentId": w.a_first, **w.identities["admin"].body})
    for who in w.a_readers:
        for url_id in (None, *w.b_threads):
            params = {} if url_id is None else {"urlId": url_id}
            body = await c.call("GET", "/user-notifications", 200,
                                params=_bell(A, who, **params))
            notes = body["notifications"]
            assert [n["fromCommentId"] for n in notes] == (
                [reply["comment"]["_id"]] if who is anon else [])
            assert {n["urlId"] for n in notes} <= {w.a_window} and body["hasMore"] is False
            # A's anonymous author follows A's own thread at the shared page, no other.
            assert body["isSubscribed"] is (who is anon and url_id == SHARED_PAGE)
        body = await c.call("GET", "/user-notifications", 200,
                            params=_bell(A, who, unreadOnly="true"))
        assert len(body["notifications"]) == (1 if who is anon else 0)
        for note_id in w.b_notifications:
            body = await c.call("GET", "/user-notifications", 404,
                                params=_bell(A, who, afterId=note_id))
            assert body["code"] == "notification-not-found"
    for who in w.a_signed:
        await c.call("GET", "/user-notifications", 401, params=_bell(B, who))
    # In B, A's anonymous author is one more anonymous visitor, with nothing to hear of.
    body = await c.call("GET", "/user-notifications", 200, params=_bell(B, anon))
    assert body["notifications"] == []


async def case_notification_count(c: Ctx) -> None:
    w = c.w
    for who in w.a_readers:
        body = await c.call("GET", "/user-notifications/get-count", 200, params=_bell(A, who))
        assert body["count"] == 0
    for who in w.a_signed:
        await c.call("GET", "/user-notifications/get-count", 401, params=_bell(B, who))


async def case_reset_notifications(c: Ctx) -> None:
    w = c.w
    for who in w.a_readers:
        await c.call("POST", "/user-notifications/reset", 200, params=_bell(A, who))
    for who in w.a_signed:
        await c.call("POST", "/user-notifications/reset", 401, params=_bell(B, who))


async def case_mark_notification(c: Ctx) -> None:
    w = c.w
    for note_id in w.b_notifications:
        for state in ("read", "unread"):
            path = f"/user-notifications/{note_id}/mark/{state}"
            for who in w.a_readers:
                body = await c.call("POST", path, 404, params=_bell(A, who))
                assert body["code"] == "notification-not-found"
            for who in w.a_signed:
                await c.call("POST", path, 401, params=_bell(B, who))
            body = await c.call("POST", path, 404, params=_bell(B, w.identities["anon"]))
            assert body["code"] == "notification-not-found"


async def case_set_following(c: Ctx) -> None:
    w = c.w
    path = "/user-notifications/set-subscription-state/{}"
    page = {"url": "https://a.example/page", "pageTitle": "A's page"}
    for url_id in w.b_threads:
        for who in w.a_readers:
            # Only A's own follow (A's anonymous author wrote at A's shared page) is there
            # to be taken back; B's followers of that urlId are not.
            was = 1 if who is w.identities["anon"] and url_id == SHARED_PAGE else 0
            for state, counts in (("unsubscribe", (was, was)), ("subscribe", (1, 1)),
                                  ("subscribe", (1, 0))):
                body = await c.call("POST", path.format(state), 200,
                                    params=_bell(A, who, urlId=url_id, **page))
                assert (body["matchedCount"], body["modifiedCount"]) == counts
            body = await c.call("GET", "/user-notifications", 200,
                                params=_bell(A, who, urlId=url_id))
            assert body["isSubscribed"] is True and body["notifications"] == []
        for who in w.a_signed:
            for state in ("subscribe", "unsubscribe"):
                await c.call("POST", path.format(state), 401,
                             params=_bell(B, who, urlId=url_id, **page))


# --- /annotations (the W3C Web Annotation Protocol) -----------------------------------------

ANNO_TYPE = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def _anno_path(tenant_id: str, url_id: str, *rest: str) -> str:
    return f"/annotations/{tenant_id}/{quote(url_id, safe='')}/" + "/".join(rest)


def _anno_doc(**extra: Any) -> dict[str, Any]:
    return {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
            "body": {"type": "TextualBody", "value": "intrusion"},
            "target": {"source": "https://a.example/shared.png", "selector": {
                "type": "FragmentSelector", "value": "xywh=percent:5,5,10,10"}}, **extra}


async def _anno(c: Ctx, method: str, url: str, expected: int, *,
                params: dict[str, Any] | None = None, json_body: Any = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
    """One protocol request: its status, and nothing of B in what it answers."""
    response = await c.client.request(method, url, params=params, json=json_body,
                                      headers={"Content-Type": ANNO_TYPE, **(headers or {})})
    c.attempts += 1
    where = f"{method} {url} params={params}"
    assert response.status_code == expected, f"{where}: {response.status_code} {response.text}"
    for marker in c.w.leak_markers():
        assert marker not in response.text, f"{where} leaked {marker!r}"
    return response


def _b_annotation_paths(w: World) -> list[str]:
    """B's annotations, as they would be named under one tenant's path (filled in)."""
    return [f"{w.b_conversation1}", f"{w.b_conversation2}",
            f"{w.b_conversation1}/replies/{w.b_reply}"]


async def case_annotation_reads(c: Ctx) -> None:
    w = c.w
    for who in w.a_visitors:
        shared = await _anno(c, "GET", _anno_path(A, SHARED_IMAGE), 200, params=who.query)
        items = shared.json()["first"]["items"]
        assert [item["id"].rsplit("/", 1)[1] for item in items] == [w.a_conversation, w.a_reply]
        only_b = await _anno(c, "GET", _anno_path(A, B_ONLY_IMAGE), 200, params=who.query)
        assert only_b.json()["total"] == 0
        for rest in _b_annotation_paths(w):
            for method in ("GET", "HEAD", "OPTIONS"):
                for image in (SHARED_IMAGE, B_ONLY_IMAGE):
                    await _anno(c, method, _anno_path(A, image, rest), 404, params=who.query)
    for who in w.a_sso:
        for method in ("GET", "HEAD", "OPTIONS"):
            await _anno(c, method, _anno_path(B, SHARED_IMAGE), 401, params=who.query)
            for rest in _b_annotation_paths(w):
                await _anno(c, method, _anno_path(B, SHARED_IMAGE, rest), 401,
                            params=who.query)
    await _anno(c, "GET", _anno_path(B, SHARED_IMAGE), 401, headers=c.a_key)


async def case_annotation_post(c: Ctx) -> None:
    w = c.w
    name = {"commenterName": "Ann A"}
    for who in w.a_visitors:
        for target in (f"http://testserver{_anno_path(A, SHARED_IMAGE, w.b_conversation1)}",
                       f"http://testserver{_anno_path(B, SHARED_IMAGE, w.b_conversation1)}",
                       f"http://testserver{_anno_path(A, SHARED_IMAGE, w.a_conversation)}"
                       f"/replies/{w.b_reply}"):
            body = await _anno(c, "POST", _anno_path(A, SHARED_IMAGE), 400,
                               params={**who.query, **name},
                               json_body=_anno_doc(motivation="replying", target=target))
            assert body.json()["code"] == "reply-target-unknown"
        made = await _anno(c, "POST", _anno_path(A, B_ONLY_IMAGE), 201,
                           params={**who.query, **name}, json_body=_anno_doc())
        assert made.json()["id"].startswith(f"http://testserver{_anno_path(A, B_ONLY_IMAGE)}")
    for who in w.a_sso:
        await _anno(c, "POST", _anno_path(B, SHARED_IMAGE), 401, params=who.query,
                    json_body=_anno_doc())
    await _anno(c, "POST", _anno_path(B, SHARED_IMAGE), 401, headers=c.a_key,
                json_body=_anno_doc())


async def _annotation_writes(c: Ctx, method: str) -> None:
    w = c.w
    body = _anno_doc() if method == "PUT" else None
    for rest in _b_annotation_paths(w):
        reply = "/replies/" in rest
        doc = _anno_doc(motivation="replying", target="x") if reply and body else body
        for who in w.a_visitors:
            await _anno(c, method, _anno_path(A, SHARED_IMAGE, rest), 404, params=who.query,
                        json_body=doc, headers={"If-Match": "*"})
        for who in w.a_sso:
            await _anno(c, method, _anno_path(B, SHARED_IMAGE, rest), 401, params=who.query,
                        json_body=doc, headers={"If-Match": "*"})
        await _anno(c, method, _anno_path(B, SHARED_IMAGE, rest), 401, headers={
            **c.a_key, "If-Match": "*"}, json_body=doc)
    # A's edit key belongs to A's objects; it proves nothing about B's.
    for key in w.a_edit_keys:
        for rest in _b_annotation_paths(w)[::2]:
            image = B_ONLY_IMAGE if w.b_conversation2 in rest else SHARED_IMAGE
            reply = "/replies/" in rest
            doc = _anno_doc(motivation="replying", target="x") if reply and body else body
            await _anno(c, method, _anno_path(B, image, rest), 403,
                        params={"editKey": key, "anonUserId": "anon-a-author"},
                        json_body=doc, headers={"If-Match": "*"})


async def case_annotation_put(c: Ctx) -> None:
    await _annotation_writes(c, "PUT")


async def case_annotation_delete(c: Ctx) -> None:
    await _annotation_writes(c, "DELETE")


_CONTAINER_PATH = "/annotations/{tenantId}/{urlId}/"
_ANNOTATION_PATH = "/annotations/{tenantId}/{urlId}/{annotationId}"
_REPLY_PATH = "/annotations/{tenantId}/{urlId}/{annotationId}/replies/{replyId}"
ANNOTATION_CASES: dict[tuple[str, str], Case] = {
    **{(method, path): case_annotation_reads for method in ("GET", "HEAD", "OPTIONS")
       for path in (_CONTAINER_PATH, _ANNOTATION_PATH, _REPLY_PATH)},
    ("POST", _CONTAINER_PATH): case_annotation_post,
    **{("PUT", path): case_annotation_put for path in (_ANNOTATION_PATH, _REPLY_PATH)},
    **{("DELETE", path): case_annotation_delete for path in (_ANNOTATION_PATH, _REPLY_PATH)},
}


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/comment-image-chats/{tenantId}"): case_list_image_chats,
    ("POST", "/comment-image-chats/{tenantId}"): case_create_image_chat,
    ("DELETE", "/comment-image-chats/{tenantId}/{chatId}"): case_delete_image_chat,
    ("GET", "/comments/{tenantId}"): case_list_comments,
    ("POST", "/comments/{tenantId}"): case_post_comment,
    ("POST", "/comments/{tenantId}/{commentId}/update-text"): case_update_text,
    ("DELETE", "/comments/{tenantId}/{commentId}"): case_delete_comment,
    ("POST", "/comments/{tenantId}/{commentId}/vote"): case_vote,
    ("DELETE", "/comments/{tenantId}/{commentId}/vote/{voteId}"): case_unvote,
    ("GET", "/event-log/{tenantId}"): case_event_log,
    ("GET", "/event-log/{tenantId}/"): case_event_log_slash,
    ("GET", "/events/{tenantId}"): case_events_since,
    ("GET", "/api/v1/image-chats"): case_api_list_image_chats,
    ("GET", "/api/v1/image-chats/{chatId}"): case_api_get_image_chat,
    ("DELETE", "/api/v1/image-chats/{chatId}"): case_api_delete_image_chat,
    ("GET", "/api/v1/comments"): case_api_list_comments,
    ("POST", "/api/v1/comments"): case_api_save_comment,
    ("GET", "/api/v1/comments/{id}"): case_api_get_comment,
    ("PATCH", "/api/v1/comments/{id}"): case_api_update_comment,
    ("DELETE", "/api/v1/comments/{id}"): case_api_delete_comment,
    ("GET", "/api/v1/pages"): case_api_list_pages,
    ("GET", "/api/v1/pages/by-url-id"): case_api_page_by_url_id,
    ("GET", "/api/v1/usage"): case_api_usage,
    ("POST", "/lock-image/{tenantId}"): case_lock_image,
    ("POST", "/ban-user/{tenantId}"): case_ban_user,
    ("DELETE", "/ban-user/{tenantId}"): case_unban_user,
    ("POST", "/api/v1/image-lock"): case_api_image_lock,
    ("GET", "/api/v1/bans"): case_api_list_bans,
    ("POST", "/api/v1/bans"): case_api_ban,
    ("DELETE", "/api/v1/bans"): case_api_unban,
    ("GET", "/api/v1/webhooks"): case_api_list_webhooks,
    ("POST", "/api/v1/webhooks"): case_api_add_webhook,
    ("DELETE", "/api/v1/webhooks/{webhookId}"): case_api_remove_webhook,
    ("POST", "/api/v1/webhooks/{webhookId}/test"): case_api_test_webhook,
    ("GET", "/api/v1/webhooks/{webhookId}/deliveries"): case_api_webhook_deliveries,
    ("POST", "/api/v1/webhook-deliveries/{deliveryId}/send-again"): case_api_send_again,
    ("GET", "/api/v1/moderation-log"): case_api_moderation_log,
    ("POST", "/comment-image-chats/{tenantId}/{chatId}/resolve"): case_resolve_image_chat,
    ("POST", "/comment-image-chats/{tenantId}/{chatId}/move"): case_move_image_chat,
    ("GET", "/image-versions/{tenantId}"): case_list_image_versions,
    ("POST", "/image-versions/{tenantId}"): case_report_image,
    ("GET", "/image-versions/{tenantId}/thumbnail"): case_image_thumbnail,
    ("POST", "/api/v1/images/versions"): case_api_image_version,
    ("GET", "/api/v1/images/export"): case_api_export_image,
    ("POST", "/comments/{tenantId}/{commentId}/reactions"): case_react,
    ("GET", "/user-search/{tenantId}"): case_user_search,
    ("GET", "/user-notifications"): case_list_notifications,
    ("GET", "/user-notifications/get-count"): case_notification_count,
    ("POST", "/user-notifications/reset"): case_reset_notifications,
    ("POST", "/user-notifications/{notificationId}/mark/{newStatus}"): case_mark_notification,
    ("POST", "/user-notifications/set-subscription-state/{subscribedOrUnsubscribed}"):
        case_set_following,
    **ANNOTATION_CASES,
}


# --- tenant B's state, before and after -----------------------------------------------------

async def channel_epoch(app: FastAPI, tenant_id: str, url_id: str) -> str:
    async with services(app).db.read() as conn:
        position = await channels.position(conn, tenant_id, url_id)
    assert position is not None
    return position.epoch


async def tenant_rows(app: FastAPI, tenant_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that belongs to the tenant, in primary-key order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with services(app).db.read() as conn:
        for table in metadata.sorted_tables:
            owner = table.c.tenant_id if "tenant_id" in table.c else table.c.id
            rows = await conn.execute(
                select(table).where(owner == tenant_id).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(r) for r in rows]
    return found


async def tenant_b_reads(client: httpx.AsyncClient, w: World) -> dict[str, Any]:
    """What tenant B's own clients and backend see."""
    key = {"X-API-Key": w.tenant_b.api_secret}
    api = {"tenantId": B}
    requests: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
        "chats shared": (f"/comment-image-chats/{B}", {"urlId": SHARED_IMAGE}, {}),
        "chats b-only": (f"/comment-image-chats/{B}", {"urlId": B_ONLY_IMAGE}, {}),
        "chats b-only v1": (f"/comment-image-chats/{B}", {"urlId": B_ONLY_IMAGE,
                                                          "version": 1}, {}),
        "versions b-only": (f"/image-versions/{B}", {"urlId": B_ONLY_IMAGE}, {}),
        **{f"comments {url_id}": (f"/comments/{B}", {"urlId": url_id}, {})
           for url_id in w.b_threads},
        **{f"events {url_id}": (f"/events/{B}", {"urlId": url_id, "since": 0}, {})
           for url_id in (SHARED_IMAGE, B_ONLY_IMAGE, SHARED_PAGE)},
        "event-log shared": (f"/event-log/{B}", {"urlId": SHARED_IMAGE, "startTime": 0,
                                                 "endTime": w.now_ms + HOUR_MS}, {}),
        "api chats": ("/api/v1/image-chats", api, key),
        "api comments": ("/api/v1/comments", api, key),
        "api pages": ("/api/v1/pages", api, key),
        "api usage": ("/api/v1/usage", {**api, "to": w.now_ms + HOUR_MS}, key),
        "users": (f"/user-search/{B}", {"usernameStartsWith": "B"}, {}),
        **{f"bell {name}": ("/user-notifications", {**api, "urlId": thread, **who}, {})
           for (name, who), thread in zip(w.b_readers.items(),
                                          (w.b_window2, w.b_window2, w.b_window1),
                                          strict=True)},
        **{f"count {name}": ("/user-notifications/get-count", {**api, **who}, {})
           for name, who in w.b_readers.items()},
    }
    seen = {}
    for name, (path, params, headers) in requests.items():
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        body.pop("userIdWS", None)  # a fresh random id for every anonymous viewer
        seen[name] = body
    return seen


async def test_b_fixture_is_what_the_cases_assume(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    """The world the cases run in: B's objects exist and are reachable by B itself."""
    w = await build_world(app, client, clock)
    assert w.b_window1 != w.a_window and not w.b_window1.startswith("chat-")
    reads = await tenant_b_reads(client, w)
    assert [(c["_id"], c["urlId"], c["urlIdClean"]) for c in reads["chats shared"][
        "conversations"]] == [(w.b_conversation1, w.b_window1, SHARED_IMAGE)]
    assert [c["_id"] for c in reads["chats b-only"]["conversations"]] == [w.b_conversation2]
    assert [(c["version"], c["positionVersion"]) for c in reads["chats b-only"][
        "conversations"]] == [(1, 2)]
    assert [v["version"] for v in reads["versions b-only"]["versions"]] == [1, 2]
    thread = reads[f"comments {w.b_window1}"]
    comments = {c["_id"]: c for c in thread["comments"]}
    assert set(comments) == {w.b_first, w.b_reply} and thread["urlIdWS"] == SHARED_IMAGE
    assert comments[w.b_first]["comment"] == "B-SECRET first message"
    assert comments[w.b_first]["votes"] == 1 and comments[w.b_first]["reactions"] == {"👍": 1}
    assert reads["chats shared"]["conversations"][0]["resolved"] is True
    thread = reads[f"comments {w.b_window2}"]
    comments = {c["_id"]: c for c in thread["comments"]}
    assert set(comments) == {w.b_signed, w.b_review} and thread["isClosed"] is True
    assert comments[w.b_signed]["votes"] == -1
    assert comments[w.b_signed]["reactions"] == {"🎉": 1}
    thread = reads[f"comments {SHARED_PAGE}"]
    assert [(c["_id"], c["chatId"]) for c in thread["comments"]] == [(w.b_page, None)]
    assert thread["urlIdWS"] == SHARED_PAGE and thread["isClosed"] is False
    thread = reads[f"comments {B_ONLY_PAGE}"]
    assert [c["_id"] for c in thread["comments"]] == [w.b_page2] and thread["isClosed"] is True
    # Chat, comment, reply and count, vote, resolution, reaction.
    assert reads[f"events {SHARED_IMAGE}"]["seq"] == 7
    assert len(reads["api comments"]["comments"]) == 6
    assert {p["urlId"] for p in reads["api pages"]["pages"]} == set(w.b_threads)
    assert [u["name"] for u in reads["users"]["users"]] == ["B-SECRET Bea", "B-SECRET Rev"]
    # B's bells: a reply to Bea, a mention of the reviewer, a resolution for the anonymous
    # author; each follows the thread it is asked about.
    bells = {name: (reads[f"bell {name}"], reads[f"count {name}"]["count"])
             for name in w.b_readers}
    assert {name: ([n["kind"] for n in bell["notifications"]], bell["isSubscribed"], count)
            for name, (bell, count) in bells.items()} == {
        "bea": (["reply"], True, 1), "rev": (["mention"], True, 1),
        "anon": (["resolved"], True, 1)}
    rows = await tenant_rows(app, B)
    assert len(rows["votes"]) == 2 and len(rows["comments"]) == 6
    assert len(rows["conversations"]) == 2 and len(rows["tenants"]) == 1
    assert sorted(r[0] for r in rows["pages"]) == sorted(w.b_page_rows)
    assert len(w.b_page_rows) == 4
    # The review workflow's tables are in the snapshot, with B's rows in them.
    assert len(rows["reactions"]) == 2 and len(rows["notifications"]) == 3
    assert len(rows["follows"]) == 5
    assert sorted(r[2] for r in rows["users"]) == ["anon", "sso", "sso"]  # by kind
    assert sorted(r[0] for r in rows["notifications"]) == sorted(w.b_notifications)


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_tenant_a_cannot_read_change_or_delete_tenant_b(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock, route: tuple[str, str]
) -> None:
    w = await build_world(app, client, clock)
    rows_before = await tenant_rows(app, B)
    reads_before = await tenant_b_reads(client, w)

    ctx = Ctx(app, client, w)
    await CASES[route](ctx)
    assert ctx.attempts > 0

    assert await tenant_rows(app, B) == rows_before
    assert await tenant_b_reads(client, w) == reads_before


def _b_write_requests(w: World) -> dict[str, tuple[str, dict[str, Any]]]:
    """B's POST routes, each with a JSON body that carries no identity of its own."""
    return {
        "create-chat": (f"/comment-image-chats/{B}",
                        {"urlId": SHARED_IMAGE, "x": 5, "y": 5, "comment": "intrusion"}),
        "post-comment": (f"/comments/{B}", {"urlId": w.b_window1, "comment": "intrusion"}),
        "post-page-comment": (f"/comments/{B}", {"urlId": SHARED_PAGE, "comment": "intrusion"}),
        "update-text": (f"/comments/{B}/{w.b_first}/update-text", {"comment": "intrusion"}),
        "vote": (f"/comments/{B}/{w.b_first}/vote", {"voteDir": "down"}),
    }


@pytest.mark.parametrize("route", ["create-chat", "post-comment", "post-page-comment",
                                   "update-text", "vote"])
async def test_a_sso_token_in_the_query_string_is_refused_on_b_write_routes(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock, route: str
) -> None:
    """The `sso` query parameter is as much a credential on POST routes as on the others.

    A token signed with A's secret must be refused with 401 on B's paths, never dropped in
    silence so that the request goes on as B's anonymous visitor.
    """
    w = await build_world(app, client, clock)
    rows_before = await tenant_rows(app, B)
    path, body = _b_write_requests(w)[route]
    response = await client.post(path, params=w.identities["admin"].query, json=body)
    assert response.status_code == 401, response.text
    assert response.json()["status"] == "failed"
    assert await tenant_rows(app, B) == rows_before


def test_every_route_has_an_isolation_case() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    routes = {
        (method, path)
        for path, methods in api_routes(app)
        # The API's routes, and the reference's that name the tenant in the query.
        if "{tenantId}" in path or path.startswith(("/api/v1", "/user-notifications"))
        for method in methods
    }
    # The enumeration itself must see the API (else this test would pass vacuously).
    assert ("GET", "/comment-image-chats/{tenantId}") in routes
    assert ("DELETE", "/api/v1/comments/{id}") in routes
    assert ("POST", "/user-notifications/reset") in routes
    missing = routes - set(CASES)
    assert not missing, f"routes without a tenant isolation case: {sorted(missing)}"
    stale = set(CASES) - routes
    assert not stale, f"isolation cases for routes that no longer exist: {sorted(stale)}"
