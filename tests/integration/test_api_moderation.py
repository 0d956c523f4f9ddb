"""Moderation (issue: security): locks, bans, moderator deletions and their log."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.auth import sso
from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant

SECRET = "acme-moderation-secret"
KEY = {"X-API-Key": SECRET}
TENANT = "acme"


@pytest.fixture
async def acme(app: FastAPI) -> str:
    await make_tenant(app, TENANT, api_secret=SECRET)
    await make_tenant(app, "other", api_secret="other-secret")
    return TENANT


def token(clock: FixedClock, user_id: str, *, moderator: bool = False, secret: str = SECRET,
          name: str | None = None) -> str:
    user: dict[str, Any] = {"id": user_id, "username": name or user_id}
    if moderator:
        user["isModerator"] = True
    return json.dumps(sso.make_token(secret, user, clock.now_ms() - 1000))


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == "success"
    return data


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "failed" and body["code"] == code, body
    assert body["reason"]
    return body


async def post_comment(client: httpx.AsyncClient, conversation: dict[str, Any], *,
                       anon: str = "anon-bob-0001", sso_token: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"comment": "hello", "commenterName": "Bob"}
    if sso_token is not None:
        body["sso"] = sso_token
    else:
        body["anonUserId"] = anon
    return await client.post(f"/comments/{TENANT}",
                             params={"urlId": conversation["chat"]["windowUrlId"]}, json=body)


async def log(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    data = await ok(await client.get("/api/v1/moderation-log", headers=KEY,
                                     params={"tenantId": TENANT, **params}))
    entries: list[dict[str, Any]] = data["entries"]
    return entries


# --- locks ---------------------------------------------------------------------------

async def test_locked_image_is_read_only_except_for_moderators(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    conversation = await create_conversation(client, acme, url_id="img")
    await ok(await client.post("/api/v1/image-lock", headers=KEY,
                               params={"tenantId": acme, "urlId": "img"}, json={"locked": True}))
    listing = await ok(await client.get(f"/comment-image-chats/{acme}", params={"urlId": "img"}))
    assert listing["locked"] is True
    refused(await post_comment(client, conversation), 403, "image-locked")
    refused(await client.post(f"/comment-image-chats/{acme}",
                              json={"urlId": "img", "x": 1, "y": 1, "comment": "new",
                                    "commenterName": "Bob", "anonUserId": "anon-bob-0001"}),
            403, "image-locked")
    # Other images of the tenant stay open.
    await create_conversation(client, acme, url_id="other-img")
    # A moderator still writes.
    await ok(await post_comment(client, conversation,
                                sso_token=token(clock, "mod-1", moderator=True)))
    await ok(await client.post("/api/v1/image-lock", headers=KEY,
                               params={"tenantId": acme, "urlId": "img"}, json={"locked": False}))
    await ok(await post_comment(client, conversation))


async def test_a_locked_page_refuses_comments_votes_and_edits_and_says_so(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    page = "acme.example/blog/1"
    posted = await ok(await client.post(f"/comments/{acme}", params={"urlId": page}, json={
        "comment": "before", "commenterName": "Bob", "anonUserId": "anon-bob-0001"}))
    await ok(await client.post("/api/v1/image-lock", headers=KEY,
                               params={"tenantId": acme, "urlId": page}, json={"locked": True}))
    assert (await ok(await client.get(f"/comments/{acme}", params={"urlId": page})))["isClosed"]
    refused(await client.post(f"/comments/{acme}", params={"urlId": page}, json={
        "comment": "after", "commenterName": "Bob", "anonUserId": "anon-bob-0001"}),
        403, "image-locked")
    comment_id = posted["comment"]["_id"]
    refused(await client.post(f"/comments/{acme}/{comment_id}/vote",
                              json={"voteDir": "up", "anonUserId": "anon-eve"}), 403,
            "image-locked")
    refused(await client.post(f"/comments/{acme}/{comment_id}/update-text",
                              params={"editKey": posted["editKey"]},
                              json={"comment": "changed"}), 403, "image-locked")
    # A conversation's thread is locked with its image, not by its own urlId.
    conversation = await create_conversation(client, acme, url_id="img")
    await ok(await post_comment(client, conversation))
    thread = await ok(await client.get(f"/comments/{acme}", params={"urlId": page}))
    assert [c["comment"] for c in thread["comments"]] == ["before"]
    # A ban holds on every page of the site, and page comments count in the usage.
    await ok(await client.post("/api/v1/bans", headers=KEY, params={"tenantId": acme},
                               json={"anonUserId": "anon-bob-0001"}))
    refused(await client.post(f"/comments/{acme}", params={"urlId": "acme.example/blog/2"},
                              json={"comment": "x", "commenterName": "Bob",
                                    "anonUserId": "anon-bob-0001"}), 403, "banned")
    usage = await ok(await client.get("/api/v1/usage", headers=KEY, params={"tenantId": acme}))
    assert sum(b["commentCreateCount"] for b in usage["usage"]) == 3


async def test_lock_from_the_widget_needs_a_moderator(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    await create_conversation(client, acme, url_id="img")
    path = f"/lock-image/{acme}"
    refused(await client.post(path, params={"urlId": "img"}, json={"locked": True}),
            403, "not-moderator")
    refused(await client.post(path, params={"urlId": "img"},
                              json={"locked": True, "sso": token(clock, "user-1")}),
            403, "not-moderator")
    # A moderator of another tenant signs with another secret: not a user here at all.
    refused(await client.post(path, params={"urlId": "img"},
                              json={"locked": True,
                                    "sso": token(clock, "m", moderator=True,
                                                 secret="other-secret")}),
            401, "sso-bad-signature")
    mod = token(clock, "mod-1", moderator=True, name="Maria")
    data = await ok(await client.post(path, params={"urlId": "img", "sso": mod},
                                      json={"locked": True}))
    assert data["locked"] is True
    entries = await log(client)
    assert [(e["action"], e["target"]) for e in entries] == [("lock", "img")]
    assert entries[0]["actor"] == "Maria (mod-1)"
    refused(await client.post(path, params={"urlId": "img"}, json={"locked": "yes", "sso": mod}),
            400, "bad-input")


async def test_lock_is_an_event_in_the_image_stream(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    await create_conversation(client, acme, url_id="img")
    for locked in (True, True, False):  # locking a locked image changes nothing
        clock.advance(1)
        await ok(await client.post("/api/v1/image-lock", headers=KEY,
                                   params={"tenantId": acme, "urlId": "img"},
                                   json={"locked": locked}))
    events = (await ok(await client.get(f"/events/{acme}", params={"urlId": "img",
                                                                    "since": 0})))["events"]
    locks = [e for e in events if e["type"] == "image-locked"]
    assert [(e["locked"], e["urlId"]) for e in locks] == [(True, "img"), (False, "img")]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["action"] for e in await log(client)] == ["unlock", "lock"]


# --- bans ----------------------------------------------------------------------------

async def test_banned_anonymous_visitor_cannot_write(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    conversation = await create_conversation(client, acme, url_id="img")
    await ok(await post_comment(client, conversation, anon="anon-troll-01"))
    ban = await ok(await client.post("/api/v1/bans", headers=KEY, params={"tenantId": acme},
                                     json={"anonUserId": "anon-troll-01", "reason": "spam"}))
    assert ban["ban"]["anonUserId"] == "anon-troll-01" and ban["ban"]["reason"] == "spam"
    refused(await post_comment(client, conversation, anon="anon-troll-01"), 403, "banned")
    refused(await client.post(f"/comment-image-chats/{acme}",
                              json={"urlId": "img", "x": 5, "y": 5, "comment": "x",
                                    "commenterName": "T", "anonUserId": "anon-troll-01"}),
            403, "banned")
    await ok(await post_comment(client, conversation, anon="anon-nice-01"))
    # The same id in another tenant is not banned there.
    other = await create_conversation(client, "other", url_id="img")
    response = await client.post("/comments/other", params={"urlId": other["chat"]["windowUrlId"]},
                                 json={"comment": "hi", "commenterName": "T",
                                       "anonUserId": "anon-troll-01"})
    await ok(response)
    listed = await ok(await client.get("/api/v1/bans", headers=KEY, params={"tenantId": acme}))
    assert [b["anonUserId"] for b in listed["bans"]] == ["anon-troll-01"]
    clock.advance(1)
    await ok(await client.delete("/api/v1/bans", headers=KEY,
                                 params={"tenantId": acme, "anonUserId": "anon-troll-01"}))
    await ok(await post_comment(client, conversation, anon="anon-troll-01"))
    assert [e["action"] for e in await log(client)] == ["unban", "ban"]


async def test_banned_user_cannot_write_vote_or_delete(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    user = token(clock, "u-42")
    conversation = await create_conversation(client, acme, url_id="img", sso=user, anonUserId=None)
    comment_id = conversation["comment"]["_id"]
    mod = token(clock, "mod-1", moderator=True)
    await ok(await client.post(f"/ban-user/{acme}", json={"userId": "u-42", "sso": mod}))
    refused(await post_comment(client, conversation, sso_token=user), 403, "banned")
    refused(await client.post(f"/comments/{acme}/{comment_id}/vote",
                              json={"voteDir": "up", "sso": user}), 403, "banned")
    refused(await client.delete(f"/comments/{acme}/{comment_id}", params={"sso": user}),
            403, "banned")
    # Nothing the banned user wrote before is lost.
    comments = await ok(await client.get(f"/comments/{acme}",
                                         params={"urlId": conversation["chat"]["windowUrlId"]}))
    assert [c["_id"] for c in comments["comments"]] == [comment_id]
    await ok(await client.delete(f"/ban-user/{acme}", params={"userId": "u-42", "sso": mod}))
    await ok(await post_comment(client, conversation, sso_token=user))


async def test_ban_errors(client: httpx.AsyncClient, acme: str, clock: FixedClock) -> None:
    mod = token(clock, "mod-1", moderator=True)
    refused(await client.post(f"/ban-user/{acme}", json={"userId": "x", "sso": token(clock, "u")}),
            403, "not-moderator")
    refused(await client.post(f"/ban-user/{acme}", json={"sso": mod}), 400, "ban-subject-invalid")
    refused(await client.post(f"/ban-user/{acme}",
                              json={"userId": "a", "anonUserId": "anon-b-01", "sso": mod}),
            400, "ban-subject-invalid")
    await ok(await client.post(f"/ban-user/{acme}", json={"userId": "a", "sso": mod}))
    refused(await client.post(f"/ban-user/{acme}", json={"userId": "a", "sso": mod}),
            409, "already-banned")
    refused(await client.delete("/api/v1/bans", headers=KEY,
                                params={"tenantId": acme, "userId": "never-banned"}),
            404, "ban-not-found")
    refused(await client.post("/api/v1/bans", params={"tenantId": acme},
                              headers={"X-API-Key": "other-secret"}, json={"userId": "b"}),
            401, "api-key-invalid")


# --- moderator deletions and the log -------------------------------------------------------

async def test_moderator_deletions_are_logged_author_deletions_are_not(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    own = await create_conversation(client, acme, url_id="img", x=1)
    await ok(await client.delete(f"/comment-image-chats/{acme}/{own['createdChatId']}",
                                 params={"editKey": own["editKey"]}))
    assert await log(client) == []
    conversation = await create_conversation(client, acme, url_id="img", x=2)
    reply = await ok(await post_comment(client, conversation))
    mod = token(clock, "mod-1", moderator=True, name="Maria")
    await ok(await client.delete(f"/comments/{acme}/{reply['comment']['_id']}",
                                 params={"sso": mod}))
    clock.advance(5)
    await ok(await client.delete(f"/api/v1/image-chats/{conversation['createdChatId']}",
                                 headers=KEY, params={"tenantId": acme}))
    entries = await log(client)
    assert [(e["action"], e["target"], e["actor"]) for e in entries] == [
        ("delete-conversation", conversation["createdChatId"], "site backend (API secret)"),
        ("delete-comment", reply["comment"]["_id"], "Maria (mod-1)"),
    ]
    assert "Bob" in entries[1]["detail"]
    # Paging: entries strictly before the newest one.
    older = await log(client, before=entries[0]["createdAt"])
    assert [e["id"] for e in older] == [entries[1]["id"]]
    assert [e["id"] for e in await log(client, limit=1)] == [entries[0]["id"]]


async def test_moderation_log_is_per_tenant(client: httpx.AsyncClient, acme: str) -> None:
    await create_conversation(client, "other", url_id="img")
    await ok(await client.post("/api/v1/image-lock", headers={"X-API-Key": "other-secret"},
                               params={"tenantId": "other", "urlId": "img"},
                               json={"locked": True}))
    assert await log(client) == []
    refused(await client.get("/api/v1/moderation-log", headers=KEY,
                             params={"tenantId": "other"}), 401, "api-key-invalid")
    # acme's key cannot lock other's image either.
    refused(await client.post("/api/v1/image-lock", headers=KEY,
                              params={"tenantId": "other", "urlId": "img"},
                              json={"locked": False}), 401, "api-key-invalid")
