"""The server-to-server API /api/v1 (docs/compatibility.md): the tenant's API secret
lists, reads and deletes conversations and comments and reads usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant

SECRET = "acme-secret-for-tests"
KEY = {"X-API-Key": SECRET}


@pytest.fixture
async def acme(app: FastAPI) -> str:
    await make_tenant(app, "acme", api_secret=SECRET)
    await make_tenant(app, "other", api_secret="other-secret")
    return "acme"


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that shows a server error as its 500 response instead of raising it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == "success"
    return data


def _unauthenticated(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["status"] == "failed" and body["code"] == code
    assert "API secret" in body["reason"]


async def test_list_and_get_image_chats(client: httpx.AsyncClient, acme: str) -> None:
    one = await create_conversation(client, acme, url_id="https://Example.com/a")
    two = await create_conversation(client, acme, url_id="b", x=70)
    await create_conversation(client, "other", url_id="b")
    everything = await _ok(await client.get("/api/v1/image-chats", params={"tenantId": acme},
                                            headers=KEY))
    assert {c["_id"] for c in everything["imageChats"]} == {one["createdChatId"],
                                                            two["createdChatId"]}
    assert all(c["tenantId"] == acme for c in everything["imageChats"])
    by_image = await _ok(await client.get("/api/v1/image-chats", headers=KEY,
                                          params={"tenantId": acme, "urlId": "example.com/a"}))
    assert [c["_id"] for c in by_image["imageChats"]] == [one["createdChatId"]]
    got = await _ok(await client.get(f"/api/v1/image-chats/{two['createdChatId']}",
                                     params={"tenantId": acme}, headers=KEY))
    assert got["imageChat"]["x"] == 70
    assert got["imageChat"]["commentCount"] == 1
    assert got["imageChat"]["windowUrlId"] == two["chat"]["windowUrlId"]


async def test_list_pages_with_skip_and_limit(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    ids = []
    for i in range(3):
        clock.advance(10)
        ids.append((await create_conversation(client, acme, x=i))["createdChatId"])
    page = await _ok(await client.get("/api/v1/image-chats", headers=KEY,
                                      params={"tenantId": acme, "skip": 1, "limit": 1}))
    assert [c["_id"] for c in page["imageChats"]] == [ids[1]]


async def test_huge_skip_is_not_a_server_error(web: httpx.AsyncClient, acme: str) -> None:
    """`skip` has a lower bound only: 10**20 reaches the database as an OFFSET it cannot
    hold (SQLite OverflowError, asyncpg int64 error) and comes back as a 500."""
    response = await web.get("/api/v1/image-chats", headers=KEY,
                             params={"tenantId": acme, "skip": 10**20})
    assert response.status_code in {200, 400}, response.text


async def test_get_unknown_or_foreign_conversation_is_404(
    client: httpx.AsyncClient, acme: str
) -> None:
    foreign = await create_conversation(client, "other")
    for chat_id in ("0123456789abcdef01234567", foreign["createdChatId"]):
        response = await client.get(f"/api/v1/image-chats/{chat_id}",
                                    params={"tenantId": acme}, headers=KEY)
        assert response.status_code == 404
        assert response.json()["code"] == "chat-not-found"


async def test_delete_image_chat_removes_its_comments(client: httpx.AsyncClient,
                                                      acme: str) -> None:
    created = await create_conversation(client, acme)
    chat_id = created["createdChatId"]
    response = await client.delete(f"/api/v1/image-chats/{chat_id}",
                                   params={"tenantId": acme}, headers=KEY)
    await _ok(response)
    response = await client.get(f"/api/v1/image-chats/{chat_id}", params={"tenantId": acme},
                                headers=KEY)
    assert response.status_code == 404
    response = await client.get(f"/api/v1/comments/{created['comment']['_id']}",
                                params={"tenantId": acme}, headers=KEY)
    assert response.status_code == 404
    listing = await _ok(await client.get("/comment-image-chats/acme", params={"urlId": "img-1"}))
    assert listing["conversations"] == []


async def test_delete_of_another_tenants_conversation_is_refused(
    client: httpx.AsyncClient, acme: str
) -> None:
    foreign = await create_conversation(client, "other")
    response = await client.delete(f"/api/v1/image-chats/{foreign['createdChatId']}",
                                   params={"tenantId": acme}, headers=KEY)
    assert response.status_code == 404
    listing = await _ok(await client.get("/comment-image-chats/other",
                                         params={"urlId": "img-1"}))
    assert len(listing["conversations"]) == 1


async def test_list_get_and_delete_comments(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    created = await create_conversation(client, acme, comment="first")
    window = created["chat"]["windowUrlId"]
    clock.advance(1)
    second = await _ok(await client.post("/comments/acme", json={
        "comment": "second", "commenterName": "Bo", "urlId": window}))
    listed = await _ok(await client.get("/api/v1/comments", headers=KEY,
                                        params={"tenantId": acme, "urlId": window}))
    assert [c["comment"] for c in listed["comments"]] == ["first", "second"]
    assert set(listed) == {"status", "comments"}  # the reference's closed shape
    paged = await _ok(await client.get("/api/v1/comments", headers=KEY,
                                       params={"tenantId": acme, "urlId": window, "limit": 1,
                                               "skip": 1}))
    assert [c["comment"] for c in paged["comments"]] == ["second"]
    cid = second["comment"]["_id"]
    got = await _ok(await client.get(f"/api/v1/comments/{cid}", params={"tenantId": acme},
                                     headers=KEY))
    assert got["comment"]["comment"] == "second" and got["comment"]["id"] == cid
    assert got["comment"]["tenantId"] == acme
    assert got["comment"]["date"] == clock.now_ms()
    deleted = await _ok(await client.delete(f"/api/v1/comments/{cid}",
                                            params={"tenantId": acme}, headers=KEY))
    assert deleted["action"] == "hard-removed"
    after = await _ok(await client.get("/api/v1/comments", headers=KEY,
                                       params={"tenantId": acme, "urlId": window}))
    assert [c["comment"] for c in after["comments"]] == ["first"]
    conversation = await _ok(await client.get(f"/api/v1/image-chats/{created['createdChatId']}",
                                              params={"tenantId": acme}, headers=KEY))
    assert conversation["imageChat"]["commentCount"] == 1
    response = await client.get(f"/api/v1/comments/{cid}", params={"tenantId": acme},
                                headers=KEY)
    assert response.status_code == 404
    assert response.json()["code"] == "comment-not-found"


async def test_usage_counts_created_conversations(client: httpx.AsyncClient, acme: str) -> None:
    for i in range(3):
        await create_conversation(client, acme, x=i)
    await create_conversation(client, "other")
    body = await _ok(await client.get("/api/v1/usage", params={"tenantId": acme},
                                      headers=KEY))
    assert sum(b["conversationCreateCount"] for b in body["usage"]) == 3
    assert sum(b["commentCreateCount"] for b in body["usage"]) == 3
    for bucket in body["usage"]:
        assert bucket["hour"] % 3_600_000 == 0
        assert {"pubSubMessageCount", "pubSubBandwidth"} <= set(bucket)


async def test_usage_time_window(
    client: httpx.AsyncClient, acme: str, clock: FixedClock
) -> None:
    start = clock.now_ms()
    await create_conversation(client, acme)
    clock.advance(3 * 3_600_000)
    await create_conversation(client, acme, x=70)
    first_hour = await _ok(await client.get("/api/v1/usage", headers=KEY, params={
        "tenantId": acme, "from": start, "to": start + 1000}))
    assert sum(b["conversationCreateCount"] for b in first_hour["usage"]) == 1
    everything = await _ok(await client.get("/api/v1/usage", headers=KEY, params={
        "tenantId": acme, "from": start - 3_600_000}))
    assert sum(b["conversationCreateCount"] for b in everything["usage"]) == 2
    response = await client.get("/api/v1/usage", headers=KEY,
                                params={"tenantId": acme, "from": 10, "to": 5})
    assert response.status_code == 400


async def test_api_key_in_query_string(client: httpx.AsyncClient, acme: str) -> None:
    await create_conversation(client, acme)
    body = await _ok(await client.get("/api/v1/image-chats",
                                      params={"tenantId": acme, "API_KEY": SECRET}))
    assert len(body["imageChats"]) == 1


@pytest.mark.parametrize(("path", "method"), [
    ("/api/v1/image-chats", "GET"),
    ("/api/v1/image-chats/0123456789abcdef01234567", "GET"),
    ("/api/v1/image-chats/0123456789abcdef01234567", "DELETE"),
    ("/api/v1/comments?urlId=chat-x", "GET"),
    ("/api/v1/comments/0123456789abcdef01234567", "GET"),
    ("/api/v1/comments/0123456789abcdef01234567", "DELETE"),
    ("/api/v1/usage", "GET"),
])
async def test_every_route_needs_the_right_key(
    client: httpx.AsyncClient, acme: str, path: str, method: str
) -> None:
    sep = "&" if "?" in path else "?"
    url = f"{path}{sep}tenantId={acme}"
    _unauthenticated(await client.request(method, url), "api-key-missing")
    _unauthenticated(await client.request(method, url, headers={"X-API-Key": "wrong"}),
                     "api-key-invalid")
    # Another tenant's secret is a wrong secret here.
    _unauthenticated(await client.request(method, url, headers={"X-API-Key": "other-secret"}),
                     "api-key-invalid")
    unknown = f"{path}{sep}tenantId=nobody"
    _unauthenticated(await client.request(method, unknown, headers=KEY), "api-key-invalid")


async def test_wrong_key_deletes_nothing(client: httpx.AsyncClient, acme: str) -> None:
    created = await create_conversation(client, acme)
    response = await client.delete(f"/api/v1/image-chats/{created['createdChatId']}",
                                   params={"tenantId": acme, "API_KEY": "guess"})
    assert response.status_code == 401
    response = await client.delete(f"/api/v1/comments/{created['comment']['_id']}",
                                   params={"tenantId": acme}, headers={"X-API-Key": "guess"})
    assert response.status_code == 401
    listing = await _ok(await client.get("/comment-image-chats/acme", params={"urlId": "img-1"}))
    assert [c["commentCount"] for c in listing["conversations"]] == [1]


async def test_changing_only_the_text_is_a_live_event(
    client: httpx.AsyncClient, acme: str
) -> None:
    """PATCH with the text alone, and with the text and another field: each is one
    `updated-comment` with the new text, as any other change."""
    posted = await _ok(await client.post("/api/v1/comments", params={"tenantId": acme},
                                         headers=KEY, json={"urlId": "article", "comment": "one",
                                                            "commenterName": "Ann"}))
    comment_id = posted["comment"]["id"]
    for body in ({"comment": "two"}, {"comment": "three", "approved": False}):
        await _ok(await client.patch(f"/api/v1/comments/{comment_id}",
                                     params={"tenantId": acme}, headers=KEY, json=body))
    events = (await _ok(await client.get(f"/events/{acme}",
                                         params={"urlId": "article", "since": 0})))["events"]
    assert [(e["type"], e["comment"]["comment"]) for e in events] == [
        ("new-comment", "one"), ("updated-comment", "two"), ("updated-comment", "three")]
