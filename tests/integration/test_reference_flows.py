"""The reference's own flows, driven as its clients drive them, every answer checked against
the reference's schemas (tests/reference_schemas.py): comments at a page urlId received
live on the `urlIdWS` that `GET /comments` hands out; the two-step image-chat creation; the
server-to-server comment and page API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from tests import reference_schemas as ref
from tests.helpers import make_tenant
from tests.integration.conftest import Live
from tests.live_server import live_client

PAGE = "https://Blog.example/posts/42"
THREAD = "my-page:/images/photo.jpg:25.5:30.2"
SECRET = "acme-secret-for-reference-flows"
KEY = {"X-API-Key": SECRET}


def parsed(model: type[BaseModel], response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return model.model_validate(response.json())


async def post_comment(http: httpx.AsyncClient, url_id: str, text: str, *,
                       broadcast_id: str, **extra: Any) -> ref.SaveCommentsResponseWithPresence:
    # As the reference widget sends it: urlId and broadcastId in the query, CommentData body.
    response = await http.post("/comments/demo", params={"urlId": url_id,
                                                         "broadcastId": broadcast_id},
                               json={"commenterName": "Ann", "comment": text, "url": PAGE,
                                     "urlId": url_id, "anonUserId": "anon-ann", **extra})
    saved: ref.SaveCommentsResponseWithPresence = parsed(ref.SaveCommentsResponseWithPresence,
                                                         response)
    return saved


async def test_page_comments_reach_the_subscriber_of_their_url_id_ws(live: Live) -> None:
    http = live.http
    first = await post_comment(http, PAGE, "First on the page", broadcast_id="w-1")
    assert first.comment.urlId == "blog.example/posts/42"
    listing = parsed(ref.GetCommentsResponseWithPresence,
                     await http.get("/comments/demo", params={"urlId": PAGE}))
    assert [c.id for c in listing.comments] == [first.comment.id]
    assert listing.urlIdWS == listing.urlIdClean == "blog.example/posts/42"

    subscribe = {"tenantIdWS": listing.tenantIdWS, "urlId": listing.urlIdWS,
                 "userIdWS": listing.userIdWS}
    async with live_client(live.address, **subscribe) as viewer:
        await asyncio.sleep(0.1)
        reply = await post_comment(http, PAGE, "A reply", broadcast_id="w-2",
                                   parentId=first.comment.id)
        key = reply.comment.editKey
        assert key is not None
        edited = parsed(ref.PublicAPISetCommentTextResponse, await http.post(
            f"/comments/demo/{reply.comment.id}/update-text", params={"editKey": key},
            json={"comment": "A better reply", "broadcastId": "w-3"}))
        assert "A better reply" in edited.comment.commentHTML
        vote = parsed(ref.VoteResponse, await http.post(
            f"/comments/demo/{first.comment.id}/vote", params={"urlId": PAGE},
            json={"voteDir": "up", "anonUserId": "anon-bo", "broadcastId": "w-4"}))
        assert vote.status == "success" and vote.voteId
        unvote = parsed(ref.VoteDeleteResponse, await http.delete(
            f"/comments/demo/{first.comment.id}/vote/{vote.voteId}",
            params={"anonUserId": "anon-bo", "broadcastId": "w-5"}))
        assert unvote.status == "success"
        gone = parsed(ref.PublicAPIDeleteCommentResponse, await http.delete(
            f"/comments/demo/{reply.comment.id}", params={"editKey": key,
                                                          "broadcastId": "w-6"}))
        assert gone.status == "success"

        events = [ref.LiveEvent.model_validate(e) for e in await viewer.events(5)]
        assert [e.type for e in events] == ["new-comment", "updated-comment", "new-vote",
                                            "deleted-vote", "deleted-comment"]
        # broadcastId in the body counts as much as in the query (update-text and vote).
        assert [e.broadcastId for e in events] == ["w-2", "w-3", "w-4", "w-5", "w-6"]
        seqs = [(e.model_extra or {})["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5
        assert events[1].comment is not None and events[1].comment.comment == "A better reply"
        assert events[4].comment is not None and events[4].comment.id == reply.comment.id

    # Resume and the reference's event log cover the page's channel like an image's.
    async with live_client(live.address, **subscribe, since=seqs[0]) as back:
        replayed = await back.events(5)
        assert [e.get("seq") for e in replayed] == [*seqs[1:], seqs[-1]]
        assert replayed[-1]["type"] == "resumed"
    log = parsed(ref.GetEventLogResponse, await http.get("/event-log/demo", params={
        "urlId": PAGE, "startTime": 0, "endTime": 10**13}))
    assert [e.data for e in log.events][-1].count("deleted-comment") == 1
    assert [e.broadcastId for e in log.events] == [f"w-{n}" for n in range(1, 7)]


async def test_two_step_image_chat_creation_as_the_reference_widget_does(live: Live) -> None:
    http = live.http
    async with live_client(live.address, tenantIdWS="demo", urlId="my-page") as viewer:
        await asyncio.sleep(0.1)
        # Step 1: the first message, as a comment at the conversation's windowUrlId.
        first = await post_comment(http, THREAD, "Is this photo too dark?", broadcast_id="t-1")
        # Step 2: the conversation over it.
        body = {"urlId": "my-page", "windowUrlId": THREAD, "pageTitle": "Gallery",
                "src": "/images/photo.jpg", "x": 25.5, "y": 30.2,
                "createdFromCommentId": first.comment.id, "broadcastId": "t-2",
                "anonUserId": "anon-ann"}
        created = parsed(ref.CreatedImageChat, await http.post("/comment-image-chats/demo",
                                                               json=body))
        marker = await viewer.next_of("new-image-chat")
        follows = await viewer.next_of("new-comment")
        assert marker["chat"]["_id"] == created.createdChatId
        assert marker["chat"]["urlId"] == THREAD and marker["chat"]["commentCount"] == 1
        assert ref.LiveEvent.model_validate(follows).comment is not None
        assert follows["comment"]["_id"] == first.comment.id
        assert follows["seq"] == marker["seq"] + 1

        # Another tab does the same at the same moment: still one conversation.
        again = await http.post("/comment-image-chats/demo", json={**body, "broadcastId": "t-3"})
        assert again.status_code == 200 and again.json()["createdChatId"] == created.createdChatId
        assert again.json()["existing"] is True

        listing = parsed(ref.ImageChatList,
                         await http.get("/comment-image-chats/demo", params={"urlId": "my-page"}))
        [conversation] = listing.conversations
        assert (conversation.id, conversation.urlId, listing.urlIdClean) == (
            created.createdChatId, THREAD, "my-page")
        assert listing.urlIdWS == "my-page"
        thread = parsed(ref.GetCommentsResponseWithPresence,
                        await http.get("/comments/demo", params={"urlId": THREAD}))
        assert thread.urlIdWS == "my-page"  # its events ride on the image's channel
        reply = await post_comment(http, THREAD, "A little", broadcast_id="t-4")
        assert (await viewer.next_of("new-comment"))["comment"]["_id"] == reply.comment.id
        assert (await viewer.next_of("image-chat-updated"))["chat"]["commentCount"] == 2


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"createdFromCommentId": "0123456789abcdef01234567"}, 404, "comment-not-found"),
    ({"windowUrlId": "my-page:/images/other.jpg:1:2"}, 400, "comment-not-in-thread"),
    ({"urlId": "another-image"}, 409, "chat-exists"),
])
async def test_two_step_creation_refusals_name_the_problem(
    live: Live, change: dict[str, Any], status: int, code: str
) -> None:
    http = live.http
    first = await post_comment(http, THREAD, "First", broadcast_id="r-1")
    body = {"urlId": "my-page", "windowUrlId": THREAD, "x": 25.5, "y": 30.2,
            "createdFromCommentId": first.comment.id, "anonUserId": "anon-ann"}
    if code == "chat-exists":
        assert (await http.post("/comment-image-chats/demo", json=body)).status_code == 200
    response = await http.post("/comment-image-chats/demo", json={**body, **change})
    error = parsed(ref.APIError, response, status)
    assert error.code == code
    if code == "chat-exists":
        assert "my-page" in error.reason  # names the conversation's image
    listing = (await http.get("/comment-image-chats/demo", params={"urlId": "another-image"}))
    assert listing.json()["conversations"] == []


async def test_two_tabs_creating_the_same_conversation_at_once_make_one(live: Live) -> None:
    http = live.http
    first = await post_comment(http, THREAD, "Both tabs saw this", broadcast_id="c-1")
    body = {"urlId": "my-page", "windowUrlId": THREAD, "x": 25.5, "y": 30.2,
            "createdFromCommentId": first.comment.id, "anonUserId": "anon-ann"}
    answers = await asyncio.gather(*(
        http.post("/comment-image-chats/demo", json={**body, "broadcastId": f"c-{n}"})
        for n in range(2, 6)))
    created = [parsed(ref.CreatedImageChat, answer) for answer in answers]
    assert len({c.createdChatId for c in created}) == 1
    assert sorted(bool((c.model_extra or {}).get("existing")) for c in created) == [
        False, True, True, True]
    listing = parsed(ref.ImageChatList,
                     await http.get("/comment-image-chats/demo", params={"urlId": "my-page"}))
    assert [c.id for c in listing.conversations] == [created[0].createdChatId]
    assert listing.conversations[0].model_extra["commentCount"] == 1


async def test_server_to_server_comments_and_pages_in_the_reference_shapes(
    live: Live,
) -> None:
    http = live.http
    await make_tenant(live.app, "acme", api_secret=SECRET)
    api = {"tenantId": "acme"}
    saved = parsed(ref.APISaveCommentResponse, await http.post(
        "/api/v1/comments", params=api, headers=KEY,
        json={"commenterName": "Site bot", "comment": "Welcome <b>all</b>", "url": PAGE,
              "urlId": PAGE, "locale": "en_us", "pageTitle": "Post 42", "userId": "bot-1",
              "date": 1_700_000_000_000}))
    assert saved.comment.userId == "bot-1" and saved.comment.date == 1_700_000_000_000
    second = parsed(ref.APISaveCommentResponse, await http.post(
        "/api/v1/comments", params=api, headers=KEY,
        json={"commenterName": "Cy", "comment": "Thanks", "url": PAGE, "urlId": PAGE,
              "locale": "en_us", "parentId": saved.comment.id}))

    listed = parsed(ref.APIGetCommentsResponse, await http.get(
        "/api/v1/comments", params={**api, "urlId": PAGE}, headers=KEY))
    assert [c.id for c in listed.comments] == [saved.comment.id, second.comment.id]
    newest = parsed(ref.APIGetCommentsResponse, await http.get(
        "/api/v1/comments", params={**api, "direction": "NF", "limit": 1}, headers=KEY))
    assert [c.id for c in newest.comments] == [second.comment.id]
    replies = parsed(ref.APIGetCommentsResponse, await http.get(
        "/api/v1/comments", params={**api, "parentId": saved.comment.id}, headers=KEY))
    assert [c.id for c in replies.comments] == [second.comment.id]

    parsed(ref.APIEmptyResponse, await http.patch(
        f"/api/v1/comments/{second.comment.id}", params=api, headers=KEY,
        json={"comment": "Thanks a lot", "commenterName": "Cyd", "isPinned": True}))
    got = parsed(ref.APIGetCommentResponse, await http.get(
        f"/api/v1/comments/{second.comment.id}", params=api, headers=KEY))
    assert (got.comment.comment, got.comment.commenterName) == ("Thanks a lot", "Cyd")

    bad = parsed(ref.APIError, await http.patch(
        f"/api/v1/comments/{second.comment.id}", params=api, headers=KEY,
        json={"comment": "  "}), 400)
    assert bad.code == "missing-field"

    pages = parsed(ref.GetPagesAPIResponse, await http.get("/api/v1/pages", params=api,
                                                           headers=KEY))
    assert pages.pages is not None and len(pages.pages) == 1
    page = pages.pages[0]
    assert (page.urlId, page.title, page.commentCount, page.rootCommentCount) == (
        "blog.example/posts/42", "Post 42", 2, 1)
    one = parsed(ref.GetPageByURLIdAPIResponse, await http.get(
        "/api/v1/pages/by-url-id", params={**api, "urlId": PAGE}, headers=KEY))
    assert one.page == page
    none = parsed(ref.GetPageByURLIdAPIResponse, await http.get(
        "/api/v1/pages/by-url-id", params={**api, "urlId": "never"}, headers=KEY))
    assert none.page is None

    deleted = parsed(ref.DeleteCommentResult, await http.delete(
        f"/api/v1/comments/{saved.comment.id}", params=api, headers=KEY))
    assert deleted.action == "hard-removed"
    after = parsed(ref.APIGetCommentsResponse, await http.get(
        "/api/v1/comments", params=api, headers=KEY))
    assert after.comments == []  # the reply went with its parent
    missing = parsed(ref.APIError, await http.get(
        f"/api/v1/comments/{saved.comment.id}", params=api, headers=KEY), 404)
    assert missing.code == "comment-not-found"
    wrong = parsed(ref.APIError, await http.get("/api/v1/comments", params=api,
                                                headers={"X-API-Key": "nope"}), 401)
    assert wrong.status == "failed"
