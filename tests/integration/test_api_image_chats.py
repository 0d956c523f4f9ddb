"""Image chats over HTTP (docs/compatibility.md): list, create (with and without the first
message), delete."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant

SECRET = "acme-secret-for-tests"


async def _acme(app: FastAPI) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)


def _sso(clock: FixedClock, user_id: str, **extra: Any) -> str:
    return json.dumps(make_token(SECRET, {"id": user_id, **extra}, clock.now_ms()))


async def _listing(client: httpx.AsyncClient, url_id: str = "img-1", tenant: str = "demo",
                   **params: str) -> dict[str, Any]:
    response = await client.get(f"/comment-image-chats/{tenant}", params={"urlId": url_id,
                                                                          **params})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _comments(client: httpx.AsyncClient, window_url_id: str,
                    tenant: str = "demo") -> dict[str, Any]:
    response = await client.get(f"/comments/{tenant}", params={"urlId": window_url_id})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_empty_listing_has_every_field_and_position_zero(
    client: httpx.AsyncClient,
) -> None:
    body = await _listing(client, "nothing-here", anonUserId="anon-viewer-1")
    assert body["status"] == "success"
    assert body["conversations"] == []
    assert body["urlIdClean"] == "nothing-here"
    assert body["isSiteAdmin"] is False
    assert body["user"] is None
    assert body["tenantIdWS"] == "demo"
    assert body["urlIdWS"] == "nothing-here"
    assert body["userIdWS"] == "anon-viewer-1"
    assert body["seq"] == 0
    assert body["epoch"] == ""


async def test_listing_shows_created_conversation_with_reference_fields(
    client: httpx.AsyncClient,
) -> None:
    created = await create_conversation(client, x=12.5, y=87.25)
    body = await _listing(client)
    [conversation] = body["conversations"]
    assert conversation["_id"] == created["createdChatId"]
    # As in the reference: a conversation is listed under its thread's urlId, derived in
    # the reference's form `{urlId}:{src}:{x}:{y}` when the client sends none.
    assert conversation["urlId"] == conversation["windowUrlId"] == "img-1::12.5:87.25"
    assert conversation["urlIdClean"] == body["urlIdClean"] == "img-1"
    assert (conversation["x"], conversation["y"]) == (12.5, 87.25)
    assert conversation["commentCount"] == 1
    assert conversation["tenantId"] == "demo"
    assert body["seq"] == 2
    assert isinstance(body["epoch"], str) and body["epoch"]
    # A viewer without an id still gets one to open the live connection with.
    assert isinstance(body["userIdWS"], str) and body["userIdWS"]


async def test_listing_only_shows_conversations_of_that_image(client: httpx.AsyncClient) -> None:
    first = await create_conversation(client, url_id="img-a")
    await create_conversation(client, url_id="img-b")
    body = await _listing(client, "img-a")
    assert [c["_id"] for c in body["conversations"]] == [first["createdChatId"]]


async def test_create_with_first_message_is_atomic_and_returns_edit_key(
    client: httpx.AsyncClient,
) -> None:
    created = await create_conversation(client, comment="Look at this corner", name="Ann")
    assert created["status"] == "success"
    assert created["chat"]["commentCount"] == 1
    assert isinstance(created["editKey"], str) and len(created["editKey"]) >= 16
    comment = created["comment"]
    assert comment["comment"] == "Look at this corner"
    assert comment["commenterName"] == "Ann"
    assert comment["urlId"] == created["chat"]["windowUrlId"]
    assert comment["chatId"] == created["createdChatId"]
    thread = await _comments(client, created["chat"]["windowUrlId"])
    assert thread["commentCount"] == 1
    assert [c["_id"] for c in thread["comments"]] == [comment["_id"]]


async def test_create_without_first_message(client: httpx.AsyncClient) -> None:
    response = await client.post("/comment-image-chats/demo",
                                 json={"urlId": "img-1", "x": 0, "y": 100,
                                       "anonUserId": "anon-1"})
    assert response.status_code == 200, response.text
    created = response.json()
    assert "comment" not in created
    assert created["chat"]["commentCount"] == 0
    assert isinstance(created["editKey"], str)
    body = await _listing(client)
    assert [c["commentCount"] for c in body["conversations"]] == [0]
    assert body["seq"] == 1
    thread = await _comments(client, created["chat"]["windowUrlId"])
    assert thread["commentCount"] == 0


async def test_sso_user_creates_without_edit_key(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await _acme(app)
    token = make_token(SECRET, {"id": "u-1", "username": "Bea"}, clock.now_ms())
    created = await create_conversation(client, "acme", sso=token, name="ignored")
    assert "editKey" not in created
    assert created["user"]["id"] == "u-1"
    assert created["chat"]["userId"] == "u-1"
    assert created["comment"]["verified"] is True
    assert created["comment"]["userId"] == "u-1"
    assert created["comment"]["commenterName"] == "Bea"


async def test_list_reports_signed_in_admin(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await _acme(app)
    body = await _listing(client, tenant="acme", sso=_sso(clock, "boss", isAdmin=True))
    assert body["isSiteAdmin"] is True
    assert body["user"]["id"] == "boss"
    assert body["userIdWS"] == "boss"
    plain = await _listing(client, tenant="acme", sso=_sso(clock, "joe"))
    assert plain["isSiteAdmin"] is False


async def test_url_id_spellings_of_one_image_share_a_channel(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client, url_id="https://Example.com/p#frag")
    assert created["chat"]["urlIdClean"] == "example.com/p"
    for spelling in ("example.com/p", "http://EXAMPLE.com/p/", "https://example.com/p#other"):
        body = await _listing(client, spelling)
        assert body["urlIdClean"] == "example.com/p"
        assert [c["_id"] for c in body["conversations"]] == [created["createdChatId"]]
    # The query string selects the image: it is kept.
    other = await _listing(client, "example.com/p?img=2")
    assert other["conversations"] == []


async def test_delete_by_creator_with_edit_key_removes_conversation_and_comments(
    client: httpx.AsyncClient,
) -> None:
    created = await create_conversation(client)
    chat_id, window = created["createdChatId"], created["chat"]["windowUrlId"]
    response = await client.delete(f"/comment-image-chats/demo/{chat_id}",
                                   params={"editKey": created["editKey"]})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success"}
    assert (await _listing(client))["conversations"] == []
    thread = await _comments(client, window)
    assert thread["commentCount"] == 0 and thread["comments"] == []


async def test_delete_with_edit_key_in_body(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    response = await client.request(
        "DELETE", f"/comment-image-chats/demo/{created['createdChatId']}",
        json={"editKey": created["editKey"], "broadcastId": "b-1"})
    assert response.status_code == 200, response.text
    assert (await _listing(client))["conversations"] == []


async def test_delete_by_sso_creator_needs_no_key(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await _acme(app)
    created = await create_conversation(client, "acme",
                                        sso=make_token(SECRET, {"id": "u-7"}, clock.now_ms()))
    response = await client.delete(f"/comment-image-chats/acme/{created['createdChatId']}",
                                   params={"sso": _sso(clock, "u-7")})
    assert response.status_code == 200, response.text
    assert (await _listing(client, tenant="acme"))["conversations"] == []


async def test_delete_by_moderator(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await _acme(app)
    created = await create_conversation(client, "acme")
    response = await client.delete(f"/comment-image-chats/acme/{created['createdChatId']}",
                                   params={"sso": _sso(clock, "mod", isModerator=True)})
    assert response.status_code == 200, response.text
    assert (await _listing(client, tenant="acme"))["conversations"] == []


async def test_delete_refused_for_other_visitors(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await _acme(app)
    anon_conversation = await create_conversation(client, "acme")
    sso_conversation = await create_conversation(
        client, "acme", x=50, sso=make_token(SECRET, {"id": "owner"}, clock.now_ms()))
    attempts = [
        (anon_conversation, {}),
        (anon_conversation, {"editKey": "not-the-key"}),
        (anon_conversation, {"anonUserId": "anon-ann-0001"}),  # the public id proves nothing
        (anon_conversation, {"sso": _sso(clock, "stranger")}),
        (sso_conversation, {"sso": _sso(clock, "stranger")}),
        (sso_conversation, {"editKey": anon_conversation["editKey"]}),
    ]
    for conversation, params in attempts:
        response = await client.delete(f"/comment-image-chats/acme/{conversation['createdChatId']}",
                                       params=params)
        assert response.status_code == 403, (params, response.text)
        body = response.json()
        assert body["status"] == "failed" and body["code"] == "not-author"
        assert "author" in body["reason"]
    listing = await _listing(client, tenant="acme")
    assert len(listing["conversations"]) == 2
    assert listing["seq"] == 4


async def test_delete_unknown_conversation_is_404(client: httpx.AsyncClient) -> None:
    response = await client.delete("/comment-image-chats/demo/0123456789abcdef01234567")
    assert response.status_code == 404
    assert response.json()["code"] == "chat-not-found"


async def test_conversations_of_another_tenant_are_invisible(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await _acme(app)
    created = await create_conversation(client, "demo")
    assert (await _listing(client, tenant="acme"))["conversations"] == []
    # Even a moderator of acme cannot reach demo's conversation through acme.
    response = await client.delete(f"/comment-image-chats/acme/{created['createdChatId']}",
                                   params={"sso": _sso(clock, "mod", isModerator=True)})
    assert response.status_code == 404
    assert len((await _listing(client))["conversations"]) == 1
