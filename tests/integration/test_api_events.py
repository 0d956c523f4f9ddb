"""The event log over HTTP (docs/protocol.md, Order and resume): every write appends its
events with consecutive `seq`; /events replays them by `seq`, /event-log by time, and both
say when they cannot."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from imagechat.domain.clock import FixedClock, iso_from_ms
from imagechat.domain.errors import Unavailable
from imagechat.store import event_log, usage
from tests.helpers import create_conversation, make_tenant, services

REFERENCE_FIELDS = {"_id", "tenantId", "urlId", "commenterName", "commentHTML", "comment",
                    "verified", "url", "approved", "date", "userId", "anonUserId", "parentId",
                    "votes", "locale"}
BROADCAST = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == "success"
    return data


async def _since(client: httpx.AsyncClient, since: int, url_id: str = "img-1",
                 tenant: str = "demo", **params: str) -> dict[str, Any]:
    return await _ok(await client.get(f"/events/{tenant}",
                                      params={"urlId": url_id, "since": since, **params}))


async def _post(client: httpx.AsyncClient, window: str, text: str,
                broadcast_id: str | None = None) -> dict[str, Any]:
    params = {"broadcastId": broadcast_id} if broadcast_id else {}
    return await _ok(await client.post("/comments/demo", params=params, json={
        "comment": text, "commenterName": "Bo", "urlId": window}))


async def test_create_appends_events_in_order_with_broadcast_id(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    created = await create_conversation(client, broadcastId=BROADCAST)
    replay = await _since(client, 0)
    assert replay["resyncRequired"] is False and replay["hasMore"] is False
    assert replay["seq"] == 2 and replay["epoch"]
    events = replay["events"]
    assert [(e["type"], e["seq"]) for e in events] == [("new-image-chat", 1), ("new-comment", 2)]
    for event in events:
        assert type(event["timestamp"]) is int and event["timestamp"] == clock.now_ms()
        assert event["broadcastId"] == BROADCAST
    assert events[0]["chat"]["_id"] == created["createdChatId"]
    assert events[0]["chat"]["x"] == 10 and events[0]["chat"]["commentCount"] == 1
    assert events[1]["comment"]["_id"] == created["comment"]["_id"]
    assert set(events[1]["comment"]) >= REFERENCE_FIELDS


async def test_every_write_continues_the_sequence(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    created = await create_conversation(client)
    window = created["chat"]["windowUrlId"]
    clock.advance(1)
    posted = await _post(client, window, "two", "b-post")
    vote = await _ok(await client.post(f"/comments/demo/{posted['comment']['_id']}/vote",
                                       json={"voteDir": "up", "anonUserId": "anon-v"}))
    await _ok(await client.post(f"/comments/demo/{posted['comment']['_id']}/update-text",
                                params={"editKey": posted["editKey"]}, json={"comment": "2!"}))
    await _ok(await client.request("DELETE", f"/comments/demo/{posted['comment']['_id']}/vote/"
                                   f"{vote['voteId']}", json={"anonUserId": "anon-v"}))
    await _ok(await client.delete(f"/comments/demo/{posted['comment']['_id']}",
                                  params={"editKey": posted["editKey"]}))
    await _ok(await client.delete(f"/comment-image-chats/demo/{created['createdChatId']}",
                                  params={"editKey": created["editKey"]}))
    events = (await _since(client, 0))["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["type"] for e in events] == [
        "new-image-chat", "new-comment",
        "new-comment", "image-chat-updated",
        "new-vote",
        "updated-comment",
        "deleted-vote",
        "deleted-comment", "image-chat-updated",
        "deleted-image-chat",
    ]
    assert events[2]["broadcastId"] == events[3]["broadcastId"] == "b-post"
    assert events[3]["chat"]["commentCount"] == 2
    assert events[5]["comment"]["comment"] == "2!"
    assert events[8]["chat"]["commentCount"] == 1
    for event in events:
        if "comment" in event:  # deleted-comment too
            assert set(event["comment"]) >= REFERENCE_FIELDS, event["type"]


async def test_failed_writes_append_nothing(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    window = created["chat"]["windowUrlId"]
    refused = [
        await client.delete(f"/comment-image-chats/demo/{created['createdChatId']}"),
        await client.post("/comments/demo", json={"comment": "x" * 5001, "commenterName": "B",
                                                  "urlId": window}),
        await client.post("/comments/demo", json={"comment": "c", "commenterName": "B",
                                                  "urlId": window, "parentId": "f" * 24}),
        await client.post("/comment-image-chats/demo", json={"urlId": "img-1", "x": 101,
                                                             "y": 1}),
    ]
    assert [r.status_code for r in refused] == [403, 413, 400, 400]
    replay = await _since(client, 0)
    assert replay["seq"] == 2 and len(replay["events"]) == 2


async def test_events_roll_back_with_a_failed_write(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last step of a write fails after the rows and events were inserted: the events
    go with the change (same transaction), nothing is left behind."""
    created = await create_conversation(client)
    window = created["chat"]["windowUrlId"]

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise Unavailable("usage store down (test)")

    monkeypatch.setattr(usage, "add", broken)
    response = await client.post("/comment-image-chats/demo",
                                 json={"urlId": "img-1", "x": 5, "y": 5, "comment": "c",
                                       "commenterName": "A"})
    assert response.status_code == 503
    response = await client.post("/comments/demo", json={"comment": "c", "commenterName": "A",
                                                         "urlId": window})
    assert response.status_code == 503
    replay = await _since(client, 0)
    assert replay["seq"] == 2 and [e["seq"] for e in replay["events"]] == [1, 2]
    listing = await _ok(await client.get("/comment-image-chats/demo", params={"urlId": "img-1"}))
    assert [c["commentCount"] for c in listing["conversations"]] == [1]
    fresh = await _since(client, 0, url_id="img-2")
    assert fresh["seq"] == 0
    response = await client.post("/comment-image-chats/demo",
                                 json={"urlId": "img-2", "x": 5, "y": 5})
    assert response.status_code == 503
    assert (await _since(client, 0, url_id="img-2"))["epoch"] == ""


async def test_since_returns_only_later_events(client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    await _post(client, created["chat"]["windowUrlId"], "later")
    listing = await _ok(await client.get("/comment-image-chats/demo", params={"urlId": "img-1"}))
    assert listing["seq"] == 4
    later = await _since(client, 2, epoch=listing["epoch"])
    assert [e["seq"] for e in later["events"]] == [3, 4]
    assert later["resyncRequired"] is False
    current = await _since(client, 4, epoch=listing["epoch"])
    assert current["events"] == [] and current["resyncRequired"] is False
    assert current["seq"] == 4 and current["epoch"] == listing["epoch"]


async def test_untouched_channel(client: httpx.AsyncClient) -> None:
    fresh = await _since(client, 0, url_id="never-used")
    assert (fresh["resyncRequired"], fresh["seq"], fresh["events"]) == (False, 0, [])
    ahead = await _since(client, 3, url_id="never-used")
    assert ahead["resyncRequired"] is True


async def test_wrong_epoch_or_future_seq_requires_resync(client: httpx.AsyncClient) -> None:
    await create_conversation(client)
    for params in ({"since": 0, "epoch": "not-the-epoch"}, {"since": 1, "epoch": "x"},
                   {"since": 9}, {"since": -1}):
        replay = await _ok(await client.get("/events/demo", params={"urlId": "img-1",
                                                                     **params}))
        assert replay["resyncRequired"] is True, params
        assert replay["events"] == []
        assert replay["seq"] == 2


async def test_trimmed_history_requires_resync(app: FastAPI, client: httpx.AsyncClient) -> None:
    created = await create_conversation(client)
    await _post(client, created["chat"]["windowUrlId"], "later")
    async with services(app).db.write() as conn:
        removed = await event_log.trim(conn, "demo", "img-1", keep_after_seq=2)
    assert removed == 2
    for since in (0, 1):
        replay = await _since(client, since)
        assert replay["resyncRequired"] is True and replay["events"] == []
    # Whoever already had seq 2 misses nothing and can still resume.
    replay = await _since(client, 2)
    assert replay["resyncRequired"] is False
    assert [e["seq"] for e in replay["events"]] == [3, 4]


async def test_event_log_time_window_is_inclusive_and_oldest_first(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    t0 = clock.now_ms()
    created = await create_conversation(client, broadcastId=BROADCAST)
    window = created["chat"]["windowUrlId"]
    clock.advance(1000)
    t1 = clock.now_ms()
    await _post(client, window, "at t1", "b-t1")
    clock.advance(1000)
    await _post(client, window, "at t2")
    middle = await _ok(await client.get("/event-log/demo", params={
        "urlId": "img-1", "startTime": t1, "endTime": t1, "userIdWS": "viewer"}))
    entries = middle["events"]
    assert [json.loads(e["data"])["type"] for e in entries] == ["new-comment",
                                                                "image-chat-updated"]
    for entry in entries:
        assert set(entry) == {"_id", "createdAt", "tenantId", "urlId", "broadcastId", "data"}
        assert isinstance(entry["data"], str)
        assert entry["createdAt"] == iso_from_ms(t1) and entry["broadcastId"] == "b-t1"
        assert (entry["tenantId"], entry["urlId"]) == ("demo", "img-1")
    assert json.loads(entries[0]["data"])["comment"]["comment"] == "at t1"
    everything = await _ok(await client.get("/event-log/demo/", params={
        "urlId": "https://img-1", "startTime": t0, "endTime": t0 + 2000}))
    seqs = [json.loads(e["data"])["seq"] for e in everything["events"]]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert everything["events"][0]["broadcastId"] == BROADCAST
    before = await _ok(await client.get("/event-log/demo", params={
        "urlId": "img-1", "startTime": t0 - 5000, "endTime": t0 - 1}))
    assert before["events"] == []


async def test_event_log_refuses_bad_times(client: httpx.AsyncClient) -> None:
    for params in ({"startTime": 10, "endTime": 5}, {"startTime": -1, "endTime": 5},
                   {"startTime": "soon", "endTime": 5}, {"endTime": 5}):
        response = await client.get("/event-log/demo", params={"urlId": "img-1", **params})
        assert response.status_code == 400, params
        assert response.json()["status"] == "failed"


async def test_new_image_chat_event_is_small(client: httpx.AsyncClient) -> None:
    """A new conversation is small on the wire (docs/protocol.md). `data` is the exact text
    published."""
    await create_conversation(client, broadcastId=BROADCAST, pageTitle="A page title " * 10,
                              windowUrlId="https://example.com/gallery", src="https://example.com/a.png")
    log = await _ok(await client.get("/event-log/demo", params={
        "urlId": "img-1", "startTime": 0, "endTime": 10**13}))
    [data] = [e["data"] for e in log["events"] if json.loads(e["data"])["type"]
              == "new-image-chat"]
    assert len(data.encode()) < 350, data
    conversation = json.loads(data)["chat"]
    assert {"_id", "urlId", "x", "y", "commentCount"} <= set(conversation)
    assert "pageTitle" not in conversation and "src" not in conversation


async def test_events_stay_in_their_tenant_and_image(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_tenant(app, "acme")
    await create_conversation(client, "acme", url_id="img-1")
    await create_conversation(client, "demo", url_id="img-2")
    replay = await _since(client, 0)
    assert (replay["seq"], replay["events"]) == (0, [])
    acme = await _since(client, 0, tenant="acme")
    assert [e["type"] for e in acme["events"]] == ["new-image-chat", "new-comment"]
    log = await _ok(await client.get("/event-log/demo", params={
        "urlId": "img-1", "startTime": 0, "endTime": 10**13}))
    assert log["events"] == []
