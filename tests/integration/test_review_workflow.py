"""The review workflow over the API, on SQLite and PostgreSQL: resolve and reopen, mentions,
reactions, and the notifications they make."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.auth import sso
from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant, services

SECRET = "review-secret"
TENANT = "studio"
KEY = {"X-API-Key": SECRET}


@pytest.fixture
async def studio(app: FastAPI) -> str:
    await make_tenant(app, TENANT, api_secret=SECRET)
    await make_tenant(app, "other", api_secret="other-secret")
    return TENANT


class People:
    """Signed-in users of the studio, by id; each token made when asked."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock

    def token(self, user_id: str, name: str, *, secret: str = SECRET, **extra: Any) -> str:
        user = {"id": user_id, "username": name, **extra}
        return json.dumps(sso.make_token(secret, user, self.clock.now_ms() - 1000))


@pytest.fixture
def people(clock: FixedClock) -> People:
    return People(clock)


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "success"
    return body


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def post(client: httpx.AsyncClient, thread: str, text: str, *, sso_token: str | None = None,
               anon: str | None = None, tenant: str = TENANT, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"comment": text, "commenterName": "Visitor", **extra}
    if sso_token is not None:
        body["sso"] = sso_token
    if anon is not None:
        body["anonUserId"] = anon
    return await ok(await client.post(f"/comments/{tenant}", params={"urlId": thread},
                                      json=body))


async def bell(client: httpx.AsyncClient, *, sso_token: str | None = None,
               anon: str | None = None, tenant: str = TENANT) -> list[dict[str, Any]]:
    params = {"tenantId": tenant, **({"sso": sso_token} if sso_token else {}),
              **({"anonUserId": anon} if anon else {})}
    found: list[dict[str, Any]] = (await ok(await client.get(
        "/user-notifications", params=params)))["notifications"]
    return found


async def signed_conversation(client: httpx.AsyncClient, token: str,
                              **extra: Any) -> dict[str, Any]:
    return await ok(await client.post(f"/comment-image-chats/{TENANT}", json={
        "urlId": "mockup.png", "x": 30, "y": 40, "comment": "Header too big", "sso": token,
        **extra}))


# --- resolve and reopen -------------------------------------------------------------------

async def resolve(client: httpx.AsyncClient, chat_id: str, resolved: bool,
                  **body: Any) -> httpx.Response:
    return await client.post(f"/comment-image-chats/{TENANT}/{chat_id}/resolve",
                             json={"resolved": resolved, "broadcastId": "tab-r", **body})


async def test_who_may_resolve_and_reopen(
    client: httpx.AsyncClient, studio: str, people: People, clock: FixedClock
) -> None:
    ann = people.token("ann", "Ann")
    conversation = await signed_conversation(client, ann)
    chat_id = conversation["createdChatId"]
    stranger = people.token("sam", "Sam")
    refused(await resolve(client, chat_id, True, sso=stranger), 403, "not-allowed-to-resolve")
    refused(await resolve(client, chat_id, True, anonUserId="anon-x"), 403,
            "not-allowed-to-resolve")
    clock.advance(1000)
    done = (await ok(await resolve(client, chat_id, True, sso=ann)))["chat"]
    assert (done["resolved"], done["resolvedBy"], done["resolvedAt"]) == (True, "Ann",
                                                                          clock.now_ms())
    # A reply does not reopen it; only an explicit reopen does, here by a moderator.
    await post(client, done["windowUrlId"], "Fixed in v2", sso_token=stranger)
    listing = await ok(await client.get(f"/comment-image-chats/{TENANT}",
                                        params={"urlId": "mockup.png"}))
    assert listing["conversations"][0]["resolved"] is True
    moderator = people.token("mo", "Mo", isModerator=True)
    reopened = (await ok(await resolve(client, chat_id, False, sso=moderator)))["chat"]
    assert reopened["resolved"] is False and reopened["resolvedBy"] == "Ann"
    # Every viewer learns it from the log, with the writer's broadcastId.
    events = (await ok(await client.get(f"/events/{TENANT}", params={
        "urlId": "mockup.png", "since": 0})))["events"]
    updates = [e for e in events if e["type"] == "image-chat-updated"
               and e["broadcastId"] == "tab-r"]
    assert [(e["chat"]["resolved"], e["broadcastId"]) for e in updates] == [
        (True, "tab-r"), (False, "tab-r")]
    # Doing what is done already changes nothing and records nothing.
    await ok(await resolve(client, chat_id, False, sso=ann))
    again = (await ok(await client.get(f"/events/{TENANT}", params={
        "urlId": "mockup.png", "since": events[-1]["seq"]})))["events"]
    assert again == []
    refused(await client.post(f"/comment-image-chats/{TENANT}/{chat_id}/resolve",
                              json={"resolved": "yes", "sso": ann}), 400, "bad-input")


async def test_anonymous_author_resolves_with_the_edit_key_and_the_site_may_open_it_to_all(
    app: FastAPI, client: httpx.AsyncClient, studio: str
) -> None:
    conversation = await create_conversation(client, TENANT, "mockup.png")
    chat_id = conversation["createdChatId"]
    await ok(await resolve(client, chat_id, True, editKey=conversation["editKey"]))
    refused(await resolve(client, chat_id, False, editKey="guess"), 403,
            "not-allowed-to-resolve")
    listing = await ok(await client.get(f"/comment-image-chats/{TENANT}",
                                        params={"urlId": "mockup.png"}))
    assert listing["visitorsResolve"] is False
    await services(app).tenants.update(TENANT, visitors_resolve=True)
    await ok(await resolve(client, chat_id, False, anonUserId="anon-anyone"))
    listing = await ok(await client.get(f"/comment-image-chats/{TENANT}",
                                        params={"urlId": "mockup.png"}))
    assert listing["visitorsResolve"] is True


async def test_banned_and_locked_refuse_resolving_but_not_to_moderators(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    ann = people.token("ann", "Ann")
    chat_id = (await signed_conversation(client, ann))["createdChatId"]
    await ok(await client.post("/api/v1/image-lock", headers=KEY,
                               params={"tenantId": TENANT, "urlId": "mockup.png"},
                               json={"locked": True}))
    refused(await resolve(client, chat_id, True, sso=ann), 403, "image-locked")
    await ok(await resolve(client, chat_id, True, sso=people.token("mo", "Mo", isAdmin=True)))
    await ok(await client.post("/api/v1/image-lock", headers=KEY,
                               params={"tenantId": TENANT, "urlId": "mockup.png"},
                               json={"locked": False}))
    await ok(await client.post("/api/v1/bans", headers=KEY, params={"tenantId": TENANT},
                               json={"userId": "ann"}))
    refused(await resolve(client, chat_id, False, sso=ann), 403, "banned")
    refused(await client.post(f"/comment-image-chats/{TENANT}/nope/resolve",
                              json={"resolved": True, "sso": ann}), 404, "chat-not-found")


# --- mentions -----------------------------------------------------------------------------

async def test_mentions_name_known_users_only(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    # Known users: they wrote (signed in) at least once.
    for user_id, name in (("u-ann", "Ann Smith"), ("u-bo", "Bo"), ("u-bob", "Bobby")):
        await post(client, "warmup", "hello", sso_token=people.token(user_id, name))
    writer = people.token("u-cy", "Cy")
    text = ("@Ann Smith and @Bo, not @Nobody nor bo@Bo.example; "
            "<script>@Bobby</script> <b>@Bobby</b>")
    comment = (await post(client, "blog/1", text, sso_token=writer))["comment"]
    assert comment["mentions"] == [{"id": "u-ann", "tag": "@Ann Smith"},
                                   {"id": "u-bo", "tag": "@Bo"},
                                   {"id": "u-bob", "tag": "@Bobby"}]
    html = comment["commentHTML"]
    assert '<span class="mention" data-user-id="u-ann">@Ann Smith</span>' in html
    assert '<span class="mention" data-user-id="u-bo">@Bo</span>, not @Nobody' in html
    assert "bo@Bo.example" in html  # an address is not a mention
    assert html.count("u-bob") == 1  # the one inside <script> was sanitized away
    # The reference's body field: a pick from the suggestions, by id.
    picked = (await post(client, "blog/1", "thanks @Bob", sso_token=writer,
                         mentions=[{"id": "u-bob", "tag": "@Bob"}]))["comment"]
    assert picked["mentions"] == [{"id": "u-bob", "tag": "@Bob"}]
    # Anonymous visitors are never mentioned, however they call themselves.
    await post(client, "warmup", "me too", anon="anon-zed", commenterName="Zed")
    plain = (await post(client, "blog/1", "@Zed?", sso_token=writer))["comment"]
    assert plain["mentions"] == [] and "mention" not in plain["commentHTML"]
    refused(await client.post(f"/comments/{TENANT}", params={"urlId": "blog/1"}, json={
        "comment": "x", "sso": writer, "mentions": "u-ann"}), 400, "invalid-mentions")


async def test_one_comment_mentions_at_most_twenty_people(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    for n in range(25):
        await post(client, f"warmup-{n}", "hello",
                   sso_token=people.token(f"u-{n}", f"User{n:02}"))
    text = " ".join(f"@User{n:02}" for n in range(25))
    comment = (await post(client, "blog/1", text,
                          sso_token=people.token("u-cy", "Cy")))["comment"]
    assert [m["id"] for m in comment["mentions"]] == [f"u-{n}" for n in range(20)]
    assert comment["commentHTML"].count('class="mention"') == 20
    # Only the twenty named hear of it.
    for n in (0, 19, 20, 24):
        heard = [x["kind"] for x in await bell(client, sso_token=people.token(f"u-{n}",
                                                                             f"User{n:02}"))]
        assert heard == (["mention"] if n < 20 else [])


async def test_user_search_lists_signed_in_users_by_prefix(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    for user_id, name in (("u-ann", "Ann Smith"), ("u-anna", "anna"), ("u-bo", "Bo")):
        await post(client, "warmup", "hi", sso_token=people.token(user_id, name))
    await post(client, "warmup", "hi", anon="anon-1", commenterName="Annie")
    found = await ok(await client.get(f"/user-search/{TENANT}", params={
        "urlId": "warmup", "usernameStartsWith": "an"}))
    assert [u["id"] for u in found["users"]] == ["u-ann", "u-anna"]
    assert found["users"][0] == {"id": "u-ann", "name": "Ann Smith",
                                 "displayName": "Ann Smith", "avatarSrc": None, "type": "sso"}
    other = await ok(await client.get("/user-search/other", params={
        "usernameStartsWith": "an"}))
    assert other["users"] == []


# --- reactions ----------------------------------------------------------------------------

async def react(client: httpx.AsyncClient, comment_id: str, emoji: str, on: bool,
                **who: Any) -> httpx.Response:
    return await client.post(f"/comments/{TENANT}/{comment_id}/reactions",
                             json={"emoji": emoji, "on": on, **who})


async def test_reactions_toggle_and_count_exactly_under_concurrency(
    client: httpx.AsyncClient, studio: str
) -> None:
    conversation = await create_conversation(client, TENANT, "mockup.png")
    comment_id = conversation["comment"]["_id"]
    # Two tabs of one visitor at once, and five other visitors at once.
    tabs = await asyncio.gather(*(react(client, comment_id, "👍", True, anonUserId="anon-a")
                                  for _ in range(2)))
    others = await asyncio.gather(*(react(client, comment_id, "👍", True,
                                          anonUserId=f"anon-{n}") for n in range(5)))
    for response in (*tabs, *others):
        assert response.status_code == 200, response.text
    hearts = await asyncio.gather(*(react(client, comment_id, "❤", True,
                                          anonUserId=f"anon-{n}") for n in range(3)))
    assert sorted(hearts[0].json()["comment"]["myReactions"]) == sorted(["❤️", "👍"])
    await ok(await react(client, comment_id, "👍", False, anonUserId="anon-0"))
    await ok(await react(client, comment_id, "👍", False, anonUserId="anon-0"))  # no-op
    thread = await ok(await client.get(f"/comments/{TENANT}", params={
        "urlId": conversation["chat"]["windowUrlId"], "anonUserId": "anon-1"}))
    [listed] = thread["comments"]
    assert listed["reactions"] == {"👍": 5, "❤️": 3}
    assert sorted(listed["myReactions"]) == sorted(["👍", "❤️"])
    # Every change went out live with the counts after it, in order: the last says it all.
    events = (await ok(await client.get(f"/events/{TENANT}", params={
        "urlId": "mockup.png", "since": 0})))["events"]
    updates = [e["comment"]["reactions"] for e in events if e["type"] == "updated-comment"]
    assert len(updates) == 6 + 3 + 1  # the repeated tab and the repeated removal: nothing
    assert updates[-1] == {"👍": 5, "❤️": 3}
    assert sum(updates[i]["👍"] for i in range(6)) == sum(range(1, 7))
    refused(await react(client, comment_id, "🍕", True, anonUserId="anon-a"), 400,
            "invalid-emoji")
    refused(await react(client, comment_id, "👍", True), 400, "missing-field")


# --- notifications ------------------------------------------------------------------------

async def test_replies_and_mentions_notify_the_right_people_once(
    client: httpx.AsyncClient, studio: str, people: People, clock: FixedClock
) -> None:
    ann, bo, cy, dee = (people.token(u, n) for u, n in (
        ("ann", "Ann"), ("bo", "Bo"), ("cy", "Cy"), ("dee", "Dee")))
    conversation = await signed_conversation(client, ann)
    thread = conversation["chat"]["windowUrlId"]
    await post(client, "warmup", "hi", sso_token=dee)  # Dee is known, and follows nothing
    reply = (await post(client, thread, "Agreed", sso_token=bo,
                        parentId=conversation["comment"]["_id"]))["comment"]
    # Ann wrote first: Bo's reply to her is a RepliedToMe (0). Bo hears nothing of his own.
    [to_ann] = await bell(client, sso_token=ann)
    assert (to_ann["kind"], to_ann["type"], to_ann["fromCommentId"]) == ("reply", 0,
                                                                         reply["_id"])
    assert (to_ann["urlId"], to_ann["urlIdWS"], to_ann["conversationId"]) == (
        thread, "mockup.png", conversation["createdChatId"])
    assert await bell(client, sso_token=bo) == []
    # Cy mentions Dee: Dee gets a mention (7); Ann and Bo, who wrote there, a reply (1).
    clock.advance(10)
    await post(client, thread, "cc @Dee", sso_token=cy)
    assert [(n["kind"], n["type"]) for n in await bell(client, sso_token=dee)] == [
        ("mention", 7)]
    assert [(n["kind"], n["type"]) for n in await bell(client, sso_token=bo)] == [("reply", 1)]
    assert [n["kind"] for n in await bell(client, sso_token=ann)] == ["reply", "reply"]
    # Mentioning someone who writes in the thread gives them one notification, the mention.
    clock.advance(10)
    await post(client, thread, "@Ann what do you think?", sso_token=cy)
    assert [n["kind"] for n in await bell(client, sso_token=ann)] == ["mention", "reply",
                                                                     "reply"]
    # Resolving tells the author, unless the author did it.
    clock.advance(10)
    await ok(await resolve(client, conversation["createdChatId"], True,
                           sso=people.token("mo", "Mo", isModerator=True)))
    assert (await bell(client, sso_token=ann))[0]["kind"] == "resolved"
    await ok(await resolve(client, conversation["createdChatId"], False, sso=ann))
    assert (await bell(client, sso_token=ann))[0]["kind"] == "resolved"


async def test_a_follower_who_never_wrote_hears_replies_and_an_author_hears_a_reopen(
    client: httpx.AsyncClient, studio: str, people: People, clock: FixedClock
) -> None:
    ann, bo, dee = (people.token(u, n) for u, n in (("ann", "Ann"), ("bo", "Bo"),
                                                       ("dee", "Dee")))
    conversation = await signed_conversation(client, ann)
    thread = conversation["chat"]["windowUrlId"]
    await post(client, "warmup", "hi", sso_token=dee)  # Dee is known, and follows nothing
    # Dee follows the thread with the bell's button, without writing in it.
    state = await ok(await client.post("/user-notifications/set-subscription-state/subscribe",
                                       params={"tenantId": TENANT, "urlId": thread,
                                               "url": "", "pageTitle": "", "sso": dee}))
    assert state["modifiedCount"] == 1
    await post(client, thread, "A reply", sso_token=bo)
    assert [(n["kind"], n["fromUserName"]) for n in await bell(client, sso_token=dee)] == [
        ("reply", "Bo")]
    # Someone else reopens Ann's resolved conversation: she hears of both.
    moderator = people.token("mo", "Mo", isModerator=True)
    clock.advance(10)
    await ok(await resolve(client, conversation["createdChatId"], True, sso=moderator))
    clock.advance(10)
    await ok(await resolve(client, conversation["createdChatId"], False, sso=moderator))
    kinds = [n["kind"] for n in await bell(client, sso_token=ann)]
    assert kinds[:2] == ["reopened", "resolved"]


async def test_banned_unfollowed_and_other_tenants_hear_nothing(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    ann, bo = people.token("ann", "Ann"), people.token("bo", "Bo")
    conversation = await signed_conversation(client, ann)
    thread = conversation["chat"]["windowUrlId"]
    await ok(await client.post("/api/v1/bans", headers=KEY, params={"tenantId": TENANT},
                               json={"userId": "ann"}))
    await post(client, thread, "reply to a banned author", sso_token=bo)
    assert await bell(client, sso_token=ann) == []
    await ok(await client.request("DELETE", "/api/v1/bans", headers=KEY,
                                  params={"tenantId": TENANT, "userId": "ann"}))
    # Ann stops following; Bo's next comment is no news to her.
    state = await ok(await client.post("/user-notifications/set-subscription-state/unsubscribe",
                                       params={"tenantId": TENANT, "urlId": thread,
                                               "url": "", "pageTitle": "", "sso": ann}))
    assert (state["matchedCount"], state["modifiedCount"]) == (1, 1)
    listed = await ok(await client.get("/user-notifications", params={
        "tenantId": TENANT, "sso": ann, "urlId": thread}))
    assert listed["isSubscribed"] is False
    await post(client, thread, "still here", sso_token=bo)
    assert await bell(client, sso_token=ann) == []
    # The same user id at another tenant is someone else.
    other = people.token("ann", "Ann", secret="other-secret")
    assert await bell(client, sso_token=other, tenant="other") == []
    refused(await client.get("/user-notifications", params={"tenantId": TENANT,
                                                            "sso": other}), 401,
            "sso-bad-signature")


async def test_anonymous_visitors_get_notifications_by_their_browser_id(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    conversation = await create_conversation(client, TENANT, "mockup.png",
                                             anonUserId="anon-browser-1")
    await post(client, conversation["chat"]["windowUrlId"], "nice",
               sso_token=people.token("bo", "Bo"))
    [note] = await bell(client, anon="anon-browser-1")
    assert note["kind"] == "reply" and note["fromUserName"] == "Bo"
    assert await bell(client, anon="anon-browser-2") == []
    refused(await client.get("/user-notifications", params={"tenantId": TENANT}), 401,
            "visitor-unknown")


async def test_reading_marks_and_counts(
    client: httpx.AsyncClient, studio: str, people: People
) -> None:
    ann = people.token("ann", "Ann")
    conversation = await signed_conversation(client, ann)
    for n in range(3):
        await post(client, conversation["chat"]["windowUrlId"], f"reply {n}",
                   sso_token=people.token(f"u{n}", f"U{n}"))
    count = await ok(await client.get("/user-notifications/get-count",
                                      params={"tenantId": TENANT, "sso": ann}))
    assert count["count"] == 3
    notes = await bell(client, sso_token=ann)
    marked = await ok(await client.post(f"/user-notifications/{notes[0]['_id']}/mark/read",
                                        params={"tenantId": TENANT, "sso": ann}))
    assert (marked["matchedCount"], marked["modifiedCount"]) == (1, 1)
    assert (await ok(await client.get("/user-notifications/get-count", params={
        "tenantId": TENANT, "sso": ann})))["count"] == 2
    # Someone else's notification is not theirs to mark.
    refused(await client.post(f"/user-notifications/{notes[1]['_id']}/mark/read",
                              params={"tenantId": TENANT, "sso": people.token("u0", "U0")}),
            404, "notification-not-found")
    page = await ok(await client.get("/user-notifications", params={
        "tenantId": TENANT, "sso": ann, "pageSize": 2}))
    assert page["hasMore"] is True and len(page["notifications"]) == 2
    rest = await ok(await client.get("/user-notifications", params={
        "tenantId": TENANT, "sso": ann, "afterId": page["notifications"][-1]["_id"]}))
    assert [n["_id"] for n in rest["notifications"]] == [notes[2]["_id"]]
    await ok(await client.post("/user-notifications/reset", params={"tenantId": TENANT,
                                                                   "sso": ann}))
    assert (await ok(await client.get("/user-notifications/get-count", params={
        "tenantId": TENANT, "sso": ann})))["count"] == 0
    refused(await client.post(f"/user-notifications/{notes[0]['_id']}/mark/seen",
                              params={"tenantId": TENANT, "sso": ann}), 400, "invalid-state")
