"""Live delivery over the WebSocket endpoint, against a real listening server."""

from __future__ import annotations

import asyncio

import orjson

from imagechat.store import event_log
from tests.helpers import services
from tests.integration.conftest import Live
from tests.live_server import live_client

# Each test runs on the fast path and on the ASGI route (tests/integration/conftest.py).
BOTH_LIVE_PATHS = True

MARKER = {"urlId": "img-1", "x": 12.5, "y": 40, "comment": "Look here", "commenterName": "Ann"}


async def test_a_new_marker_reaches_every_subscriber_in_reference_shape(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as a, \
            live_client(live.address, urlId="img-1", tenantIdWS="demo") as b:
        created = await live.http.post("/comment-image-chats/demo",
                                       json={**MARKER, "broadcastId": "op-1"})
        assert created.status_code == 200
        for client in (a, b):
            marker = await client.next_of("new-image-chat")
            comment = await client.next_of("new-comment")
            assert marker["chat"]["_id"] == created.json()["createdChatId"]
            assert marker["broadcastId"] == comment["broadcastId"] == "op-1"
            assert isinstance(marker["timestamp"], int)
            assert (marker["seq"], comment["seq"]) == (1, 2)
            assert {"_id", "tenantId", "urlId", "commenterName", "commentHTML", "comment",
                    "verified", "url", "approved", "locale", "date"} <= set(comment["comment"])


async def test_a_new_marker_frame_is_small(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as a:
        await live.http.post("/comment-image-chats/demo", json={
            **MARKER, "broadcastId": "0f8fad5b-d9cb-469f-a165-70867728950e"})
        while True:
            raw = await asyncio.wait_for(a.ws.recv(), 5)
            if orjson.loads(raw)["type"] == "new-image-chat":
                break
        assert len(raw.encode() if isinstance(raw, str) else raw) <= 350


async def test_other_images_and_tenants_receive_nothing(live: Live) -> None:
    await services(live.app).tenants.create("Other", tenant_id="other")
    async with live_client(live.address, urlId="img-2", tenantIdWS="demo") as other_image, \
            live_client(live.address, urlId="img-1", tenantIdWS="other") as other_tenant:
        await live.http.post("/comment-image-chats/demo", json=MARKER)
        assert await other_image.quiet()
        assert await other_tenant.quiet()


async def test_two_tabs_of_one_user_sync_and_the_writer_can_filter_its_echo(live: Live) -> None:
    params = {"urlId": "img-1", "tenantIdWS": "demo", "userIdWS": "user-7"}
    async with live_client(live.address, **params) as tab1, \
            live_client(live.address, **params) as tab2:
        await live.http.post("/comment-image-chats/demo", json={**MARKER, "broadcastId": "tab1"})
        seen_by_tab2 = await tab2.next_of("new-image-chat")
        seen_by_tab1 = await tab1.next_of("new-image-chat")
        assert seen_by_tab2["broadcastId"] == "tab1"  # tab 2 applies it: not its own id
        assert seen_by_tab1["broadcastId"] == "tab1"  # tab 1 recognises its own echo


async def test_resume_sends_missed_events_once_in_order_then_live_ones(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as first:
        await live.http.post("/comment-image-chats/demo", json=MARKER)
        await first.events(2)
    # While nobody watches, three more changes happen.
    created = await live.http.post("/comment-image-chats/demo", json={**MARKER, "x": 50})
    thread = created.json()["chat"]["windowUrlId"]
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=2) as back:
        replayed = await back.events(3)
        assert [e["seq"] for e in replayed[:2]] == [3, 4]
        assert replayed[2]["type"] == "resumed"
        assert replayed[2]["seq"] == 4
        await live.http.post(f"/comments/demo?urlId={thread}",
                             json={"comment": "live one", "commenterName": "Bo"})
        assert [e["seq"] for e in await back.events(2)] == [5, 6]
        assert await back.quiet()


async def test_resume_with_another_epoch_requires_a_resync(live: Live) -> None:
    await live.http.post("/comment-image-chats/demo", json=MARKER)
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=1,
                           epoch="not-the-epoch") as client:
        event = await client.next_of("resync-required", "new-comment")
        assert event["type"] == "resync-required"
        assert event["seq"] == 2


async def test_resume_past_trimmed_history_requires_a_resync(live: Live) -> None:
    for x in (1, 2, 3):
        await live.http.post("/comment-image-chats/demo", json={**MARKER, "x": x})
    async with services(live.app).db.write() as conn:
        await event_log.trim(conn, "demo", "img-1", keep_after_seq=4)
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=2) as client:
        event = await client.next()
        assert event["type"] == "resync-required"
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=4) as client:
        assert [e["seq"] for e in await client.events(2)] == [5, 6]


async def test_a_client_can_ask_for_a_gap_by_seq(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as client:
        await live.http.post("/comment-image-chats/demo", json=MARKER)
        await client.events(2)
        await client.send({"op": "resync", "urlId": "img-1", "since": 0})
        again = await client.events(3)
        assert [e.get("seq") for e in again] == [1, 2, 2]
        assert again[2]["type"] == "resumed"


async def test_one_socket_watches_several_images(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo") as client:
        await client.send({"op": "join", "urlId": "img-2"})
        await asyncio.sleep(0.1)
        await live.http.post("/comment-image-chats/demo", json={**MARKER, "urlId": "img-2"})
        assert (await client.next_of("new-image-chat"))["urlId"] == "img-2"
        assert (await client.next_of("new-comment"))["seq"] == 2
        await client.send({"op": "leave", "urlId": "img-2"})
        await asyncio.sleep(0.1)
        await live.http.post("/comment-image-chats/demo", json={**MARKER, "urlId": "img-2"})
        assert await client.quiet()


async def test_presence_reports_joins_leaves_and_count(live: Live) -> None:
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo",
                           userIdWS="watcher") as watcher:
        async with live_client(live.address, urlId="img-1", tenantIdWS="demo", userIdWS="guest"):
            joined = await watcher.next_of("p-u")
            while "guest" not in joined["uj"]:
                joined = await watcher.next_of("p-u")
            assert joined["sc"] == 2
        left = await watcher.next_of("p-u")
        assert left["ul"] == ["guest"]
        assert left["sc"] == 1


async def test_batching_coalesces_a_burst_and_loses_nothing(live: Live) -> None:
    created = await live.http.post("/comment-image-chats/demo", json=MARKER)
    thread = created.json()["chat"]["windowUrlId"]
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", batch=1) as client:
        await asyncio.sleep(0.1)
        await asyncio.gather(*(
            live.http.post(f"/comments/demo?urlId={thread}",
                           json={"comment": f"burst {i}", "commenterName": "Bo"})
            for i in range(40)
        ))
        events = await client.events(80)
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(3, 83))
        assert client.frames < 80  # several events shared a frame


async def test_batching_viewers_share_frames_and_late_or_resyncing_ones_lose_nothing(
    live: Live,
) -> None:
    created = await live.http.post("/comment-image-chats/demo", json=MARKER)  # seqs 1, 2
    thread = created.json()["chat"]["windowUrlId"]

    async def burst(first: int, count: int) -> None:
        await asyncio.gather(*(
            live.http.post(f"/comments/demo?urlId={thread}",
                           json={"comment": f"burst {i}", "commenterName": "Bo"})
            for i in range(first, first + count)))

    params = {"urlId": "img-1", "tenantIdWS": "demo", "batch": 1}
    async with live_client(live.address, **params) as a, \
            live_client(live.address, **params) as b:
        await burst(0, 20)  # seqs 3..42
        # One joins during the stream from an old seq; another asks to resync from the last
        # event it has read, while more of the burst may wait in the shared queue.
        seen = [e["seq"] for e in await a.events(10)]
        async with live_client(live.address, **params, since=10) as late:
            await a.ws.send(orjson.dumps(
                {"op": "resync", "urlId": "img-1", "since": seen[-1]}).decode())
            await burst(20, 20)  # seqs 43..82
            expected = list(range(3, 83))
            assert [e["seq"] for e in await b.events(80)] == expected
            assert [e["seq"] for e in await late.events(72, skip=("p-u", "resumed"))] == \
                list(range(11, 83))
            # `a` may get again what was already on its way to it (it skips those), never
            # loses one, and ends with every event up to 82.
            while not seen or seen[-1] < 82:
                event = await a.next()
                if event["type"] not in ("p-u", "resumed"):
                    seen.append(event["seq"])
            applied = [seq for n, seq in enumerate(seen) if seq > max(seen[:n], default=0)]
            assert applied == list(range(3, 83))
            assert sorted(set(seen)) == list(range(3, 83))
            assert b.frames < 80  # several events shared a frame
            assert await b.quiet() and await late.quiet()


async def test_a_lock_reaches_viewers_and_comes_back_on_resume(live: Live) -> None:
    demo = await services(live.app).tenants.get("demo")
    key = {"X-API-Key": demo.api_secret}
    await live.http.post("/comment-image-chats/demo", json=MARKER)
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=2) as viewer:
        assert (await viewer.events(1))[0]["type"] == "resumed"
        response = await live.http.post("/api/v1/image-lock", headers=key,
                                        params={"tenantId": "demo", "urlId": "img-1"},
                                        json={"locked": True})
        assert response.status_code == 200, response.text
        event = await viewer.next_of("image-locked")
        assert (event["locked"], event["urlId"], event["seq"]) == (True, "img-1", 3)
    # A viewer that was away replays the lock like any other change.
    async with live_client(live.address, urlId="img-1", tenantIdWS="demo", since=2) as back:
        replayed = await back.events(2)
        assert [(e["type"], e.get("locked")) for e in replayed] == [("image-locked", True),
                                                                   ("resumed", None)]


async def test_frames_and_bytes_sent_are_metered_per_tenant(live: Live) -> None:
    tenant = await services(live.app).tenants.create("Metered", tenant_id="metered")
    async with live_client(live.address, urlId="img-1", tenantIdWS="metered") as a, \
            live_client(live.address, urlId="img-1", tenantIdWS="metered") as b:
        await asyncio.sleep(0.1)
        await live.http.post("/comment-image-chats/metered", json={
            "urlId": "img-1", "x": 1, "y": 1, "comment": "hello", "commenterName": "A"})
        sizes = []
        for client in (a, b):
            for _ in range(2):
                raw = await asyncio.wait_for(client.ws.recv(), 5)
                assert isinstance(raw, str)
                sizes.append(len(raw.encode()) + 2)  # + the 2-byte frame header
        await live.app.state.hub.meter.flush()
    usage = (await live.http.get("/api/v1/usage", params={"tenantId": "metered"},
                                 headers={"X-API-Key": tenant.api_secret})).json()["usage"]
    assert len(usage) == 1
    bucket = usage[0]
    assert bucket["conversationCreateCount"] == 1
    # Two clients, two events each (presence may add frames of its own).
    assert bucket["pubSubMessageCount"] >= 4
    assert bucket["pubSubBandwidth"] >= sum(sizes)
