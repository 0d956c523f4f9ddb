"""Regions, moving conversations, image versions and carry-over through the API, and the
guards of every image fetch (private address, other origins, redirects, bombs, types,
sizes, failures and time-outs)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from PIL import Image

from imagechat.app import create_app
from imagechat.domain.clock import FixedClock
from imagechat.settings import Settings
from tests.conftest import _empty_postgres
from tests.helpers import make_tenant, services
from tests.image_host import ImageHost, image_host
from tests.integration.dashboard_helpers import sign_in
from tests.mockups import make_pair
from tests.unit.imaging.test_formats import bomb_png

ANON = {"anonUserId": "anon-ann-0001"}


async def _app(database_url: str, clock: FixedClock, **options: Any
               ) -> AsyncIterator[FastAPI]:
    if database_url.startswith("postgresql"):
        await _empty_postgres(database_url)
    settings = Settings(database_url=database_url, outbound_allow_private=True,
                        **{"image_recheck_secs": 0, **options})
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[FastAPI]:
    async for application in _app(database_url, clock):
        yield application


@pytest.fixture
async def host() -> AsyncIterator[ImageHost]:
    async with image_host() as served:
        yield served


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 40, 40)
        ) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def create(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/comment-image-chats/demo",
                             json={"urlId": "mockups/home.png", "comment": "Look",
                                   "commenterName": "Ann", **ANON, **body})


async def listing(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/comment-image-chats/demo",
                                params={"urlId": "mockups/home.png", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def events(client: httpx.AsyncClient, url_id: str = "mockups/home.png"
                 ) -> list[dict[str, Any]]:
    response = await client.get("/events/demo", params={"urlId": url_id, "since": 0})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["events"]
    return found


# --- regions ---------------------------------------------------------------------------

async def test_a_region_is_stored_listed_and_sent(client: httpx.AsyncClient) -> None:
    region = {"shape": "rect", "x": 10, "y": 20, "w": 30.5, "h": 0.5}
    response = await create(client, region=region)
    assert response.status_code == 200, response.text
    conversation = response.json()["chat"]
    assert (conversation["x"], conversation["y"], conversation["region"]) == (10, 20, region)
    listed = (await listing(client))["conversations"]
    assert [c["region"] for c in listed] == [region]
    new = [e for e in await events(client) if e["type"] == "new-image-chat"]
    assert new[0]["chat"]["region"] == region and new[0]["chat"]["x"] == 10
    # A point has no region, and the reference's fields are all there.
    point = (await create(client, x=50, y=60)).json()["chat"]
    assert point["region"] is None and (point["x"], point["y"]) == (50, 60)


@pytest.mark.parametrize(("body", "code"), [
    ({"region": {"shape": "circle", "x": 1, "y": 1, "w": 5, "h": 5}}, "invalid-region"),
    ({"region": {"x": 1, "y": 1, "w": 5}}, "invalid-region"),
    ({"region": {"x": -1, "y": 1, "w": 5, "h": 5}}, "invalid-region"),
    ({"region": {"x": 1, "y": 1, "w": "5", "h": 5}}, "invalid-region"),
    ({"region": [1, 2, 3, 4]}, "invalid-region"),
    ({"region": {"x": 1, "y": 1, "w": 0.4, "h": 5}}, "region-too-small"),
    ({"region": {"x": 1, "y": 1, "w": 5, "h": 0.49}}, "region-too-small"),
    ({"region": {"x": 80, "y": 1, "w": 20.5, "h": 5}}, "region-out-of-bounds"),
    ({"region": {"x": 1, "y": 96, "w": 5, "h": 5}}, "region-out-of-bounds"),
    ({"region": {"x": 1, "y": 1, "w": 5, "h": 5}, "x": 2, "y": 1}, "region-mismatch"),
    ({"x": 101, "y": 1}, "invalid-coordinate"),
    ({}, "invalid-coordinate"),
])
async def test_bad_regions_are_refused_with_a_code(client: httpx.AsyncClient,
                                                   body: dict[str, Any], code: str) -> None:
    response = await create(client, **body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert (await listing(client))["conversations"] == []


async def test_the_author_moves_a_point_and_a_region(client: httpx.AsyncClient) -> None:
    made = (await create(client, region={"x": 10, "y": 10, "w": 20, "h": 10})).json()
    chat_id, key = made["createdChatId"], made["editKey"]
    path = f"/comment-image-chats/demo/{chat_id}/move"
    # A point moves the region with it, keeping its size.
    moved = await client.post(path, json={"x": 50, "y": 40, "editKey": key, **ANON})
    assert moved.status_code == 200, moved.text
    assert moved.json()["chat"]["region"] == {"shape": "rect", "x": 50, "y": 40, "w": 20,
                                              "h": 10}
    too_far = await client.post(path, json={"x": 90, "y": 40, "editKey": key, **ANON})
    assert too_far.json()["code"] == "region-out-of-bounds"
    resized = await client.post(path, json={"region": {"x": 5, "y": 5, "w": 1, "h": 1},
                                             "editKey": key, **ANON})
    assert resized.json()["chat"]["region"]["w"] == 1
    as_point = await client.post(path, json={"x": 7, "y": 8, "region": None, "editKey": key,
                                             **ANON})
    conversation = as_point.json()["chat"]
    assert (conversation["x"], conversation["y"], conversation["region"]) == (7, 8, None)
    # Its thread stays the same: the thread id is an id, not a position.
    assert conversation["windowUrlId"] == made["chat"]["windowUrlId"]
    stranger = await client.post(path, json={"x": 1, "y": 1, "anonUserId": "someone-else"})
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not-author")
    updates = [e for e in await events(client) if e["type"] == "image-chat-updated"]
    assert [(e["chat"]["x"], e["chat"]["y"]) for e in updates] == [(50, 40), (5, 5), (7, 8)]


# --- versions and carry-over -----------------------------------------------------------

async def test_versions_carry_every_pin_over(app: FastAPI, client: httpx.AsyncClient,
                                             host: ImageHost) -> None:
    pair = make_pair(1003, anchors=12)
    v1 = host.put("/home-v1.png", pair.old, headers={"ETag": '"v1"'})
    made = {}
    keys = {}
    for truth in pair.truths:
        anchor = truth.anchor
        place: dict[str, Any] = {"x": anchor.x, "y": anchor.y}
        if anchor.w is not None:
            place = {"region": {"x": anchor.x, "y": anchor.y, "w": anchor.w, "h": anchor.h}}
        response = await create(client, src=v1, comment=f"anchor {anchor.key}", **place)
        assert response.status_code == 200, response.text
        made[response.json()["createdChatId"]] = truth
        keys[response.json()["createdChatId"]] = response.json()["editKey"]
        assert response.json()["chat"]["version"] == 1
    await services(app).image_versions.drain()
    first = (await client.get("/image-versions/demo", params={"urlId": "mockups/home.png"}))
    assert first.status_code == 200, first.text
    [v] = first.json()["versions"]
    assert (v["version"], v["src"], v["width"]) == (1, v1, 640) and v["thumbnail"]
    assert host.hits["/home-v1.png"] == 1
    thumb = await client.get(v["thumbnail"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert thumb.content.startswith(b"RIFF")

    # A resolved conversation is carried too, and stays resolved.
    resolved_id = next(iter(made))
    response = await client.post(f"/comment-image-chats/demo/{resolved_id}/resolve",
                                 json={"resolved": True, "editKey": keys[resolved_id], **ANON})
    assert response.status_code == 200, response.text

    v2 = host.put("/home-v2.png", pair.new)
    reported = await client.post("/image-versions/demo", json={
        "urlId": "mockups/home.png", "src": v2, **ANON})
    assert reported.status_code == 200, reported.text
    assert (reported.json()["version"], reported.json()["created"],
            reported.json()["latest"]) == (2, True, True)
    carried = reported.json()["image"]["carried"]
    assert sum(carried.values()) == len(made)

    latest = await listing(client)
    assert (latest["version"], latest["latestVersion"]) == (2, 2)
    for conversation in latest["conversations"]:
        truth = made[conversation["_id"]]
        assert conversation["version"] == 1 and conversation["positionVersion"] == 2
        assert conversation["carry"] == ("changed" if truth.expected == "changed" and not truth.edge
                                         else conversation["carry"])
        if truth.expected == "lost":
            assert conversation["carry"] == "lost"
            assert (conversation["x"], conversation["y"]) == (truth.anchor.x, truth.anchor.y)
        if conversation["carry"] == "same":
            assert abs(conversation["x"] - truth.x) < 1.5 and abs(conversation["y"] - truth.y) < 1.5
    on_v1 = await listing(client, version=1)
    assert {c["carry"] for c in on_v1["conversations"]} == {"origin"}
    assert {c["positionVersion"] for c in on_v1["conversations"]} == {1}
    missing = await client.get("/comment-image-chats/demo",
                               params={"urlId": "mockups/home.png", "version": 3})
    assert (missing.status_code, missing.json()["code"]) == (404, "version-not-found")

    [event] = [e for e in await events(client) if e["type"] == "image-version"
               and e["version"]["version"] == 2]
    assert event["version"]["carried"] == carried
    assert {c["_id"] for c in event["chats"]} == set(made)
    by_id = {c["_id"]: c for c in latest["conversations"]}
    for moved in event["chats"]:
        assert (moved["x"], moved["y"], moved["carry"]) == (
            by_id[moved["_id"]]["x"], by_id[moved["_id"]]["y"], by_id[moved["_id"]]["carry"])
    assert by_id[resolved_id]["resolved"] is True

    # Reporting v1 again (a stale page): it is version 1, and nothing new is made.
    again = await client.post("/image-versions/demo", json={
        "urlId": "mockups/home.png", "src": v1, **ANON})
    assert (again.json()["version"], again.json()["created"], again.json()["latest"]) == (
        1, False, False)
    # Revalidated with the ETag it had: a 304, not a new download of the bytes.
    assert host.hits["/home-v1.png"] == 2
    # The same content at another address is the same version.
    copy = host.put("/copy-of-v2.png", pair.new)
    same = await client.post("/image-versions/demo", json={
        "urlId": "mockups/home.png", "src": copy, **ANON})
    assert (same.json()["version"], same.json()["created"]) == (2, False)


async def test_a_new_pin_goes_on_the_latest_version_and_a_lost_one_is_placed(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost
) -> None:
    v1 = host.put("/a.png", make_pair(1004).old)
    made = (await create(client, x=50, y=50, src=v1)).json()
    await services(app).image_versions.drain()
    # An unrelated picture: no alignment, every anchor is lost where it was.
    key = {"X-API-Key": (await services(app).tenants.get("demo")).api_secret}
    uploaded = await client.post("/api/v1/images/versions",
                                 params={"tenantId": "demo", "urlId": "mockups/home.png"},
                                 content=png((300, 200)), headers={**key,
                                                                   "Content-Type": "image/png"})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {"status": "success", "version": 2, "created": True,
                               "carried": {"same": 0, "changed": 0, "lost": 1}}
    [conversation] = (await listing(client))["conversations"]
    assert (conversation["x"], conversation["y"], conversation["carry"]) == (50, 50, "lost")
    moved = await client.post(f"/comment-image-chats/demo/{made['createdChatId']}/move",
                              json={"x": 20, "y": 30, "editKey": made["editKey"], **ANON})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["chat"]["carry"], moved.json()["chat"]["positionVersion"]) == (
        "moved", 2)
    [conversation] = (await listing(client))["conversations"]
    assert (conversation["x"], conversation["y"], conversation["carry"]) == (20, 30, "moved")
    [conversation] = (await listing(client, version=1))["conversations"]
    assert (conversation["x"], conversation["y"], conversation["carry"]) == (50, 50, "origin")
    # New conversations are made on the latest version; a stale one is refused.
    stale = await create(client, x=1, y=1, version=1)
    assert (stale.status_code, stale.json()["code"]) == (409, "not-latest-version")
    fresh = (await create(client, x=1, y=1, version=2)).json()["chat"]
    assert (fresh["version"], fresh["carry"]) == (2, "origin")
    assert [c["_id"] for c in (await listing(client, version=1))["conversations"]] == [
        made["createdChatId"]]


# --- fetch guards ------------------------------------------------------------------------

async def report(client: httpx.AsyncClient, src: str) -> httpx.Response:
    return await client.post("/image-versions/demo", json={
        "urlId": "mockups/home.png", "src": src, **ANON})


async def no_versions(client: httpx.AsyncClient) -> bool:
    response = await client.get("/image-versions/demo", params={"urlId": "mockups/home.png"})
    versions: list[Any] = response.json()["versions"]
    return versions == []


async def test_private_addresses_are_refused_unless_allowed(
    sqlite_url: str, clock: FixedClock, host: ImageHost
) -> None:
    src = host.put("/a.png", png())
    application = create_app(Settings(database_url=sqlite_url), clock=clock)
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://t") as client:
        response = await report(client, src)
        assert (response.status_code, response.json()["code"]) == (403, "image-target-refused")
        assert "IMAGECHAT_OUTBOUND_ALLOW_PRIVATE" in response.json()["reason"]
        assert host.hits == {} and await no_versions(client)


@pytest.mark.parametrize(("served", "status", "code"), [
    ({"body": b"<html>hello</html>", "content_type": "text/html"}, 415,
     "image-type-unsupported"),
    ({"body": b"<svg xmlns='http://www.w3.org/2000/svg'/>", "content_type": "image/svg+xml"},
     415, "image-type-unsupported"),
    ({"body": bomb_png(30_000, 30_000)}, 422, "image-too-many-pixels"),
    ({"body": png()[:70]}, 422, "image-undecodable"),
    ({"body": png((600, 600), (1, 2, 3)) + b"\0" * 5000}, 413, "image-too-large"),
    ({"body": b"", "status": 500}, 502, "image-fetch-failed"),
    ({"body": png(), "delay_secs": 2.0}, 504, "image-fetch-timeout"),
])
async def test_bad_images_get_a_clear_error_and_change_nothing(
    sqlite_url: str, clock: FixedClock, host: ImageHost, served: dict[str, Any], status: int,
    code: str,
) -> None:
    body = served.pop("body")
    src = host.put("/bad", body, **served)
    async for application in _app(sqlite_url, clock, image_max_bytes=4096,
                                  image_fetch_timeout_secs=0.5):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://t") as client:
            response = await report(client, src)
            assert (response.status_code, response.json()["code"]) == (status, code), \
                response.text
            assert await no_versions(client)


async def test_redirects_stay_on_the_image_s_origin(
    client: httpx.AsyncClient, host: ImageHost
) -> None:
    async with image_host() as other:
        elsewhere = other.put("/x.png", png())
        host.put("/away", b"", status=302, headers={"Location": elsewhere})
        response = await report(client, host.url("/away"))
        assert (response.status_code, response.json()["code"]) == (403, "image-redirect-refused")
        assert other.hits == {}
        assert await no_versions(client)
    host.put("/real.png", png())
    host.put("/here", b"", status=301, headers={"Location": "/real.png"})
    response = await report(client, host.url("/here"))
    assert (response.status_code, response.json()["version"]) == (200, 1), response.text


async def test_images_come_only_from_the_tenant_s_origins(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost
) -> None:
    await make_tenant(app, "shop")
    await services(app).tenants.set_origins("shop", ["https://shop.example"])
    src = host.put("/a.png", png())
    response = await client.post("/image-versions/shop", json={
        "urlId": "a", "src": src, **ANON})
    assert (response.status_code, response.json()["code"]) == (403, "image-origin-not-allowed")
    for bad in ("data:image/png;base64,AAAA", "/relative.png", "ftp://host/a.png"):
        response = await report(client, bad)
        assert (response.status_code, response.json()["code"]) == (400, "image-src-invalid")
    assert host.hits == {}


async def test_uploads_are_bounded_and_checked(app: FastAPI, client: httpx.AsyncClient
                                               ) -> None:
    key = {"X-API-Key": (await services(app).tenants.get("demo")).api_secret}
    params = {"tenantId": "demo", "urlId": "mockups/home.png"}
    response = await client.post("/api/v1/images/versions", params=params,
                                 content=b"not an image",
                                 headers={**key, "Content-Type": "image/png"})
    assert (response.status_code, response.json()["code"]) == (415, "image-type-unsupported")
    response = await client.post("/api/v1/images/versions", params=params,
                                 content=orjson.dumps({"urlId": "x"}),
                                 headers={**key, "Content-Type": "application/json"})
    assert response.status_code == 400
    # Larger than the JSON bodies' limit, within the images' one.
    big = png((700, 700)) + b"\0" * 100_000
    response = await client.post("/api/v1/images/versions", params=params, content=big,
                                 headers={**key, "Content-Type": "image/png"})
    assert response.status_code == 200, response.text
    response = await client.post("/api/v1/images/versions", params=params, content=big,
                                 headers={"X-API-Key": "wrong", "Content-Type": "image/png"})
    assert response.status_code == 401


async def test_the_dashboard_lists_lost_conversations_and_places_them(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = (await create(client, x=40, y=60)).json()
    secret = (await services(app).tenants.get("demo")).api_secret
    # Two unrelated images: the conversation is lost on version 2.
    for data in (make_pair(1004).old, png((300, 200))):
        response = await client.post(
            "/api/v1/images/versions", params={"tenantId": "demo", "urlId": "mockups/home.png"},
            content=data, headers={"X-API-Key": secret, "Content-Type": "image/png"})
        assert response.status_code == 200, response.text
    csrf = await sign_in(client, "demo", secret)
    page = await client.get("/dashboard/review")
    assert page.status_code == 200
    assert f'data-chat-id="{made["createdChatId"]}"' in page.text
    placed = await client.post("/dashboard/conversations/move", data={
        "csrf": csrf, "chatId": made["createdChatId"], "version": "2", "x": "12.5", "y": "7"})
    assert placed.status_code == 303, placed.text
    [conversation] = (await listing(client))["conversations"]
    assert (conversation["x"], conversation["y"], conversation["carry"]) == (12.5, 7, "moved")
    page = await client.get("/dashboard/review")
    assert "Nothing to review" in page.text
    bad = await client.post("/dashboard/conversations/move", data={
        "csrf": csrf, "chatId": made["createdChatId"], "version": "2", "x": "far", "y": "7"})
    assert bad.status_code == 400


async def test_a_known_address_that_cannot_be_checked_again_stays_its_version(
    client: httpx.AsyncClient, host: ImageHost
) -> None:
    src = host.put("/a.png", png())
    assert (await report(client, src)).json()["version"] == 1
    del host.files["/a.png"]  # the host answers 404 now
    again = await report(client, src)
    assert (again.status_code, again.json()["version"], again.json()["created"]) == (
        200, 1, False)
    assert host.hits["/a.png"] == 2


async def test_new_content_at_a_known_address_is_a_new_version_once_checked_again(
    database_url: str, clock: FixedClock, host: ImageHost
) -> None:
    async for application in _app(database_url, clock, image_recheck_secs=300):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://testserver") as client:
            src = host.put("/same-address.png", png(colour=(200, 40, 40)))
            assert (await report(client, src)).json()["version"] == 1
            # The designer replaces the file behind the same address.
            host.put("/same-address.png", png(colour=(30, 90, 220)))
            soon = await report(client, src)  # within the recheck time: trusted as it was
            assert (soon.json()["version"], soon.json()["created"]) == (1, False)
            assert host.hits["/same-address.png"] == 1
            clock.advance(301_000)
            later = await report(client, src)
            assert later.status_code == 200, later.text
            assert (later.json()["version"], later.json()["created"],
                    later.json()["latest"]) == (2, True, True)
            assert host.hits["/same-address.png"] == 2
