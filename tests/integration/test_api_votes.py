"""Votes on comments over HTTP (docs/compatibility.md): one vote per voter and comment."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fastapi import FastAPI

from imagechat.auth.sso import make_token
from imagechat.domain.clock import FixedClock
from tests.helpers import create_conversation, make_tenant

SECRET = "acme-secret-for-tests"


async def _vote(client: httpx.AsyncClient, comment_id: str, direction: str,
                tenant: str = "demo", **body: Any) -> httpx.Response:
    return await client.post(f"/comments/{tenant}/{comment_id}/vote",
                             params={"urlId": "img-1"}, json={"voteDir": direction, **body})


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _counts(client: httpx.AsyncClient, window: str,
                  tenant: str = "demo") -> tuple[int, int, int]:
    body = await _ok(await client.get(f"/comments/{tenant}", params={"urlId": window}))
    [comment] = body["comments"]
    return comment["votes"], comment["votesUp"], comment["votesDown"]


async def _target(client: httpx.AsyncClient, tenant: str = "demo") -> tuple[str, str]:
    created = await create_conversation(client, tenant)
    return created["comment"]["_id"], created["chat"]["windowUrlId"]


async def test_up_and_down_votes_are_counted(client: httpx.AsyncClient) -> None:
    cid, window = await _target(client)
    up = await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    assert up["status"] == "success"
    assert up["votes"] == 1
    assert isinstance(up["voteId"], str) and up["voteId"]
    assert up["vote"]["_id"] == up["voteId"]
    assert up["vote"]["commentId"] == cid and up["vote"]["direction"] == 1
    assert up["isVerified"] is False
    assert await _counts(client, window) == (1, 1, 0)
    await _ok(await _vote(client, cid, "down", anonUserId="anon-v2"))
    await _ok(await _vote(client, cid, "down", anonUserId="anon-v3"))
    assert await _counts(client, window) == (-1, 1, 2)


async def test_same_direction_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    cid, window = await _target(client)
    await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    response = await _vote(client, cid, "up", anonUserId="anon-v1")
    assert response.status_code == 409
    body = response.json()
    assert body == {"status": "failed", "reason": body["reason"], "code": "already-voted"}
    assert "already voted" in body["reason"]
    assert await _counts(client, window) == (1, 1, 0)


async def test_switching_direction_replaces_the_vote(client: httpx.AsyncClient) -> None:
    cid, window = await _target(client)
    up = await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    down = await _ok(await _vote(client, cid, "down", anonUserId="anon-v1"))
    assert down["votes"] == -1
    assert down["voteId"] != up["voteId"]
    assert await _counts(client, window) == (-1, 0, 1)
    # The replaced vote is gone.
    response = await client.delete(f"/comments/demo/{cid}/vote/{up['voteId']}",
                                   params={"anonUserId": "anon-v1"})
    assert response.status_code == 404
    assert response.json()["code"] == "vote-not-found"
    back = await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    assert back["votes"] == 1
    assert await _counts(client, window) == (1, 1, 0)


async def test_voter_can_remove_own_vote(client: httpx.AsyncClient) -> None:
    cid, window = await _target(client)
    up = await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    response = await client.delete(f"/comments/demo/{cid}/vote/{up['voteId']}",
                                   params={"anonUserId": "anon-v1", "broadcastId": "b-1"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    assert await _counts(client, window) == (0, 0, 0)
    # The voter may vote again afterwards.
    await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    assert await _counts(client, window) == (1, 1, 0)


async def test_vote_removal_refused_for_someone_else(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    cid, window = await _target(client, "acme")
    up = await _ok(await _vote(client, cid, "up", tenant="acme", anonUserId="anon-v1"))
    stranger = json.dumps(make_token(SECRET, {"id": "stranger"}, clock.now_ms()))
    for params in ({}, {"anonUserId": "anon-other"}, {"sso": stranger}):
        response = await client.delete(f"/comments/acme/{cid}/vote/{up['voteId']}",
                                       params=params)
        assert response.status_code == 403, (params, response.text)
        assert response.json()["status"] == "failed"
    assert await _counts(client, window, "acme") == (1, 1, 0)
    moderator = json.dumps(make_token(SECRET, {"id": "mod", "isModerator": True},
                                      clock.now_ms()))
    response = await client.delete(f"/comments/acme/{cid}/vote/{up['voteId']}",
                                   params={"sso": moderator})
    assert response.status_code == 200, response.text
    assert await _counts(client, window, "acme") == (0, 0, 0)


async def test_vote_id_must_belong_to_the_comment(client: httpx.AsyncClient) -> None:
    cid, _ = await _target(client)
    other_cid, _ = await _target(client)
    up = await _ok(await _vote(client, cid, "up", anonUserId="anon-v1"))
    response = await client.delete(f"/comments/demo/{other_cid}/vote/{up['voteId']}",
                                   params={"anonUserId": "anon-v1"})
    assert response.status_code == 404


async def test_anonymous_vote_needs_anon_user_id(client: httpx.AsyncClient) -> None:
    cid, window = await _target(client)
    response = await _vote(client, cid, "up")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "missing-field" and "anonUserId" in body["reason"]
    assert await _counts(client, window) == (0, 0, 0)


async def test_anon_user_id_in_query_string_counts(client: httpx.AsyncClient) -> None:
    """The vote route reads `anonUserId` from the query like every other route; the body
    model's `anonUserId: None` must not hide it."""
    cid, window = await _target(client)
    response = await client.post(f"/comments/demo/{cid}/vote",
                                 params={"urlId": "img-1", "anonUserId": "anon-q1"},
                                 json={"voteDir": "up"})
    assert response.status_code == 200, response.text
    assert await _counts(client, window) == (1, 1, 0)


async def test_signed_in_user_votes_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    await make_tenant(app, "acme", api_secret=SECRET)
    cid, window = await _target(client, "acme")
    token = make_token(SECRET, {"id": "u-1"}, clock.now_ms())
    first = await _ok(await _vote(client, cid, "up", tenant="acme", sso=token))
    assert first["isVerified"] is True
    assert first["vote"]["userId"] == "u-1"
    # A different anonymous id does not make the same user a new voter.
    again = await _vote(client, cid, "up", tenant="acme", sso=token, anonUserId="anon-new")
    assert again.status_code == 409
    assert await _counts(client, window, "acme") == (1, 1, 0)


async def test_bad_vote_direction_and_unknown_comment(client: httpx.AsyncClient) -> None:
    cid, window = await _target(client)
    for direction in ("sideways", "", "UP"):
        response = await _vote(client, cid, direction, anonUserId="anon-v1")
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid-vote"
    response = await _vote(client, cid, 1, anonUserId="anon-v1")  # type: ignore[arg-type]
    assert response.status_code == 400
    response = await _vote(client, "0123456789abcdef01234567", "up", anonUserId="anon-v1")
    assert response.status_code == 404
    assert response.json()["code"] == "comment-not-found"
    assert await _counts(client, window) == (0, 0, 0)


async def test_votes_go_with_a_deleted_comment(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    window = created["chat"]["windowUrlId"]
    reply = await _ok(await client.post("/comments/demo", json={
        "comment": "second", "commenterName": "Bo", "urlId": window}))
    rid = reply["comment"]["_id"]
    up = await _ok(await _vote(client, rid, "up", anonUserId="anon-v1"))
    response = await client.delete(f"/comments/demo/{rid}", params={"editKey": reply["editKey"]})
    assert response.status_code == 200, response.text
    response = await client.delete(f"/comments/demo/{rid}/vote/{up['voteId']}",
                                   params={"anonUserId": "anon-v1"})
    assert response.status_code == 404


async def test_simultaneous_identical_votes_count_once_without_a_500(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A double click sends the same vote twice at once. Both transactions see no previous
    vote; on PostgreSQL the second INSERT then hits UNIQUE(comment_id, voter_key) and the
    IntegrityError escapes as a 500 instead of the 409 a sequential repeat gets."""
    cid, window = await _target(client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
        responses = await asyncio.gather(*[
            _vote(web, cid, "up", anonUserId="anon-double") for _ in range(4)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.text for r in responses]
    assert await _counts(client, window) == (1, 1, 0)
