"""Comments over HTTP (docs/compatibility.md): page, post, edit, delete, sanitise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant

SECRET = "acme-secret-for-tests"
REFERENCE_FIELDS = {"_id", "tenantId", "urlId", "commenterName", "commentHTML", "comment",
                    "verified", "url", "approved", "date", "userId", "anonUserId", "parentId",
                    "votes", "locale"}


def _sso(clock: FixedClock, user_id: str, **extra: Any) -> str:
    return json.dumps(make_token(SECRET, {"id": user_id, **extra}, clock.now_ms()))


async def _post(client: httpx.AsyncClient, window: str, text: str = "hello",
                tenant: str = "demo", params: dict[str, str] | None = None,
                **body: Any) -> httpx.Response:
    payload = {"comment": text, "commenterName": "Bob", "anonUserId": "anon-bob-1",
               "urlId": window, **body}
    return await client.post(f"/comments/{tenant}", params=params or {}, json=payload)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _thread(client: httpx.AsyncClient, window: str, tenant: str = "demo",
                  **params: Any) -> dict[str, Any]:
    return await _ok(await client.get(f"/comments/{tenant}", params={"urlId": window,
                                                                      **params}))


async def _conversation_count(client: httpx.AsyncClient, tenant: str = "demo") -> list[int]:
    listing = await _ok(await client.get(f"/comment-image-chats/{tenant}",
                                         params={"urlId": "img-1"}))
    return [c["commentCount"] for c in listing["conversations"]]


async def test_comments_are_paged_oldest_first(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    created = await create_conversation(client, comment="m0")
    window = created["chat"]["windowUrlId"]
    for i in range(1, 5):
        clock.advance(1000)
        await _ok(await _post(client, window, f"m{i}"))
    first = await _thread(client, window, page=0, count=2)
    assert [c["comment"] for c in first["comments"]] == ["m0", "m1"]
    assert (first["pageNumber"], first["commentCount"], first["hasMore"]) == (0, 5, True)
    middle = await _thread(client, window, page=1, count=2)
    assert [c["comment"] for c in middle["comments"]] == ["m2", "m3"]
    assert middle["hasMore"] is True
    last = await _thread(client, window, page=2, count=2)
    assert [c["comment"] for c in last["comments"]] == ["m4"]
    assert (last["pageNumber"], last["hasMore"]) == (2, False)
    everything = await _thread(client, window)
    assert [c["comment"] for c in everything["comments"]] == [f"m{i}" for i in range(5)]
    # The thread's events ride on its image's channel: that is the one to join.
    assert everything["tenantIdWS"] == "demo" and everything["urlIdWS"] == "img-1"
    assert everything["isSiteAdmin"] is False
    assert await _conversation_count(client) == [5]


async def test_posted_comment_carries_every_reference_field(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    created = await create_conversation(client)
    window = created["chat"]["windowUrlId"]
    clock.advance(5)
    body = await _ok(await _post(client, window, "A *note*", url="https://example.com/page"))
    comment = body["comment"]
    assert set(comment) >= REFERENCE_FIELDS
    assert comment["tenantId"] == "demo"
    assert comment["urlId"] == window
    assert comment["commenterName"] == "Bob"
    assert comment["comment"] == "A *note*"
    assert comment["url"] == "https://example.com/page"
    assert comment["verified"] is False and comment["approved"] is True
    assert comment["userId"] is None and comment["anonUserId"] == "anon-bob-1"
    assert comment["parentId"] is None and comment["votes"] == 0
    parsed = datetime.fromisoformat(comment["date"].replace("Z", "+00:00"))
    assert parsed == datetime.fromtimestamp(clock.now_ms() / 1000, tz=UTC)
    assert isinstance(body["editKey"], str)
    # The reference hands the key back inside the comment; ImageChat also beside it.
    assert comment.pop("editKey") == body["editKey"]
    assert body["user"] is None
    listed = (await _thread(client, window))["comments"]
    assert all(set(c) >= REFERENCE_FIELDS for c in listed)
    assert listed[1] == comment


async def test_a_comment_at_any_url_id_starts_a_thread(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    # Neither the image's urlId nor an unknown chat-<id> is a conversation's thread: each
    # is a page with a thread of its own, and no conversation appears.
    for page in ("img-1", "chat-0123456789abcdef01234567", "https://Example.com/blog/post"):
        comment = (await _ok(await _post(client, page)))["comment"]
        assert comment["chatId"] is None
        thread = await _thread(client, page)
        assert [c["_id"] for c in thread["comments"]] == [comment["_id"]]
        assert thread["urlIdWS"] == thread["urlIdClean"] == comment["urlId"]
    assert comment["urlId"] == "example.com/blog/post"
    assert await _conversation_count(client) == [1]
    # urlId may also come in the query string.
    window = created["chat"]["windowUrlId"]
    response = await client.post("/comments/demo", params={"urlId": window},
                                 json={"comment": "via query", "commenterName": "Q"})
    assert (await _ok(response))["comment"]["urlId"] == window


async def test_anonymous_needs_a_name_signed_in_does_not(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    created = await create_conversation(client, "acme")
    window = created["chat"]["windowUrlId"]
    for name in (None, "", "   ", "<b></b>"):
        response = await _post(client, window, tenant="acme", commenterName=name)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["code"] == "missing-field"
        assert "commenterName" in response.json()["reason"]
    body = await _ok(await _post(client, window, tenant="acme", commenterName=None,
                                 sso=json.loads(_sso(clock, "u-1", displayName="Cat"))))
    assert body["comment"]["commenterName"] == "Cat"
    assert body["comment"]["verified"] is True and body["comment"]["userId"] == "u-1"
    assert "editKey" not in body
    assert body["user"]["id"] == "u-1"
    assert await _conversation_count(client, "acme") == [2]


async def test_parent_id_must_be_a_comment_of_the_same_conversation(
    client: httpx.AsyncClient,
) -> None:
    one = await create_conversation(client)
    two = await create_conversation(client, x=60)
    window = one["chat"]["windowUrlId"]
    reply = await _ok(await _post(client, window, "reply", parentId=one["comment"]["_id"]))
    assert reply["comment"]["parentId"] == one["comment"]["_id"]
    bad = [("0123456789abcdef01234567", "invalid-parent"),
           (two["comment"]["_id"], "invalid-parent"),
           ("<script>", "invalid-id")]
    for parent, code in bad:
        response = await _post(client, window, "orphan", parentId=parent)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == code
    assert sorted(await _conversation_count(client)) == [1, 2]


async def test_update_text_by_edit_key_author_and_moderator(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    created = await create_conversation(client, "acme", comment="v1")
    cid = created["comment"]["_id"]
    url = f"/comments/acme/{cid}/update-text"
    body = await _ok(await client.post(url, params={"editKey": created["editKey"]},
                                       json={"comment": "v2 <b>bold</b>"}))
    assert body["comment"]["comment"] == "v2 <b>bold</b>"
    assert body["comment"]["commentHTML"] == "v2 <b>bold</b>"
    body = await _ok(await client.post(url, json={"comment": "v3", "editKey": created["editKey"]}))
    assert body["comment"]["comment"] == "v3"
    moderator = json.loads(_sso(clock, "m", isModerator=True))
    body = await _ok(await client.post(url, json={"comment": "v4 by mod", "sso": moderator}))
    assert body["comment"]["comment"] == "v4 by mod"
    signed = await create_conversation(client, "acme", comment="mine",
                                       sso=make_token(SECRET, {"id": "u-9"}, clock.now_ms()))
    body = await _ok(await client.post(
        f"/comments/acme/{signed['comment']['_id']}/update-text",
        json={"comment": "mine, edited", "sso": json.loads(_sso(clock, "u-9"))}))
    assert body["comment"]["comment"] == "mine, edited"


async def test_update_text_refused_for_others(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    created = await create_conversation(client, "acme", comment="original")
    cid = created["comment"]["_id"]
    for extra in ({}, {"editKey": "wrong"}, {"anonUserId": "anon-ann-0001"},
                  {"sso": json.loads(_sso(clock, "someone"))}):
        response = await client.post(f"/comments/acme/{cid}/update-text",
                                     json={"comment": "hijacked", **extra})
        assert response.status_code == 403, (extra, response.text)
        assert response.json()["code"] == "not-author"
    response = await client.post("/comments/acme/0123456789abcdef01234567/update-text",
                                 json={"comment": "x"})
    assert response.status_code == 404
    thread = await _thread(client, created["chat"]["windowUrlId"], tenant="acme")
    assert [c["comment"] for c in thread["comments"]] == ["original"]


async def test_delete_comment_keeps_conversation_until_last_comment(
    client: httpx.AsyncClient,
) -> None:
    created = await create_conversation(client, comment="first")
    window = created["chat"]["windowUrlId"]
    second = await _ok(await _post(client, window, "second"))
    response = await client.delete(f"/comments/demo/{second['comment']['_id']}",
                                   params={"editKey": second["editKey"]})
    assert response.status_code == 200, response.text
    assert await _conversation_count(client) == [1]
    assert [c["comment"] for c in (await _thread(client, window))["comments"]] == ["first"]
    response = await client.delete(f"/comments/demo/{created['comment']['_id']}",
                                   params={"editKey": created["editKey"], "broadcastId": "b-9"})
    assert response.status_code == 200, response.text
    assert await _conversation_count(client) == []
    events = (await _ok(await client.get("/events/demo",
                                         params={"urlId": "img-1", "since": 0})))["events"]
    assert events[-1]["type"] == "deleted-image-chat"
    assert events[-1]["broadcastId"] == "b-9"
    assert events[-1]["chat"]["_id"] == created["createdChatId"]


async def test_delete_comment_takes_its_replies(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client, comment="root")
    window = created["chat"]["windowUrlId"]
    parent = await _ok(await _post(client, window, "parent"))
    await _ok(await _post(client, window, "child", parentId=parent["comment"]["_id"]))
    response = await client.delete(f"/comments/demo/{parent['comment']['_id']}",
                                   params={"editKey": parent["editKey"]})
    assert response.status_code == 200, response.text
    thread = await _thread(client, window)
    assert [c["comment"] for c in thread["comments"]] == ["root"]
    assert thread["commentCount"] == 1
    assert await _conversation_count(client) == [1]


async def test_delete_comment_refused_for_others(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    created = await create_conversation(client, "acme")
    cid = created["comment"]["_id"]
    for params in ({}, {"editKey": "nope"}, {"sso": _sso(clock, "other")}):
        response = await client.delete(f"/comments/acme/{cid}", params=params)
        assert response.status_code == 403, response.text
        assert response.json()["status"] == "failed"
    response = await client.delete("/comments/acme/0123456789abcdef01234567")
    assert response.status_code == 404
    assert await _conversation_count(client, "acme") == [1]
    response = await client.delete(f"/comments/acme/{cid}",
                                   params={"sso": _sso(clock, "mod", isModerator=True)})
    assert response.status_code == 200, response.text
    assert await _conversation_count(client, "acme") == []


async def test_a_page_comment_is_deleted_by_its_author_and_no_one_else(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    page = "acme.example/blog/launch"
    anonymous = await _ok(await _post(client, page, "by key", tenant="acme"))
    signed = await _ok(await _post(client, page, "by ann", tenant="acme",
                                   params={"sso": _sso(clock, "ann", username="Ann")}))
    for comment, author in ((anonymous, {"editKey": anonymous["editKey"]}),
                            (signed, {"sso": _sso(clock, "ann", username="Ann")})):
        cid = comment["comment"]["_id"]
        for other in ({}, {"editKey": "nope"}, {"sso": _sso(clock, "bob")}):
            refused = await client.delete(f"/comments/acme/{cid}", params=other)
            assert refused.status_code == 403, refused.text
        response = await client.delete(f"/comments/acme/{cid}", params=author)
        assert response.status_code == 200, response.text
    assert (await _thread(client, page, tenant="acme"))["comments"] == []


@pytest.mark.parametrize("kind", ["conversation", "page"])
async def test_comment_html_is_sanitised(client: httpx.AsyncClient, kind: str) -> None:
    if kind == "conversation":
        window = (await create_conversation(client))["chat"]["windowUrlId"]
    else:
        window = "example.com/articles/7"
    text = ('<script>alert(1)</script><b>ok</b> <img src=x onerror="alert(2)">'
            '<a href="javascript:alert(3)">x</a> <a href="https://example.com">y</a>\nline2')
    posted = await _ok(await _post(client, window, text))
    comment = posted["comment"]
    html = comment["commentHTML"].lower()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<img" not in html
    assert "<b>ok</b>" in html
    assert 'href="https://example.com"' in html
    assert "<br>line2" in html
    assert comment["comment"] == text
    edited = await _ok(await client.post(f"/comments/demo/{comment['_id']}/update-text",
                                         params={"editKey": posted["editKey"]},
                                         json={"comment": "<script>x()</script>safe"}))
    assert edited["comment"]["commentHTML"] == "safe"
    listed = (await _thread(client, window))["comments"]
    assert all("<script" not in c["commentHTML"] for c in listed)


async def test_commenter_name_is_plain_text(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    window = created["chat"]["windowUrlId"]
    comment = (await _ok(await _post(client, window, commenterName="<i>Eve</i> <script>")))[
        "comment"]
    assert "<" not in comment["commenterName"]
    assert "Eve" in comment["commenterName"]


async def test_sso_in_query_string_is_honoured_on_routes_with_a_json_body(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    """The token may come as JSON text in the `sso` query parameter. Routes whose body is a
    pydantic model dump `"sso": None` and that None overrides the query token."""
    await make_tenant(app, "acme", api_secret=SECRET)
    created = await create_conversation(client, "acme", comment="v1")
    response = await client.post(f"/comments/acme/{created['comment']['_id']}/update-text",
                                 params={"sso": _sso(clock, "m", isModerator=True)},
                                 json={"comment": "edited by a moderator"})
    assert response.status_code == 200, response.text
    response = await client.post("/comments/acme", params={"sso": _sso(clock, "u-5")},
                                 json={"comment": "signed in", "urlId":
                                       created["chat"]["windowUrlId"]})
    assert response.status_code == 200, response.text
    assert response.json()["comment"]["userId"] == "u-5"
