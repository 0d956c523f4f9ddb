"""The W3C Web Annotation Protocol server (docs/annotations.md): every MUST of the
protocol that applies to a server, for containers and annotations, and the mapping onto
conversations, comments and the live channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from imagechat.annotations.vocabulary import ANNO_CONTEXT, ANNO_MEDIA_TYPE, MEDIA_FRAGMENTS
from imagechat.app import create_app
from imagechat.domain.actor import Actor
from imagechat.domain.clock import FixedClock
from imagechat.domain.models import ImageVersion
from imagechat.settings import Settings
from imagechat.store import image_versions
from tests.helpers import make_tenant, services

IMAGE = "shop/home.png"
SRC = "https://shop.example/home.png"
CONTAINER = f"/annotations/demo/{quote(IMAGE, safe='')}/"
BASE = "http://testserver"
ANNO = {"Content-Type": ANNO_MEDIA_TYPE, "Accept": ANNO_MEDIA_TYPE}
ANN = {"anonUserId": "anon-ann-0001", "commenterName": "Ann"}
BOB = {"anonUserId": "anon-bob-0001", "commenterName": "Bob"}
PREFER = 'return=representation;include="{}"'


def rect(value: str, **extra: Any) -> dict[str, Any]:
    """An annotation on a Media Fragments rectangle, with a comment."""
    return {
        "@context": ANNO_CONTEXT, "type": "Annotation",
        "body": {"type": "TextualBody", "value": "Could this be bigger?"},
        "target": {"source": SRC, "selector": {"type": "FragmentSelector",
                                               "conformsTo": MEDIA_FRAGMENTS, "value": value}},
        **extra,
    }


async def post(client: httpx.AsyncClient, doc: Any, who: dict[str, str] = ANN,
               container: str = CONTAINER, expected: int = 201) -> httpx.Response:
    response = await client.post(container, json=doc, params=who, headers=ANNO)
    assert response.status_code == expected, response.text
    return response


async def conversations(client: httpx.AsyncClient, url_id: str = IMAGE) -> list[dict[str, Any]]:
    response = await client.get("/comment-image-chats/demo", params={"urlId": url_id})
    assert response.status_code == 200
    found: list[dict[str, Any]] = response.json()["conversations"]
    return found


def path_of(iri: str) -> str:
    assert iri.startswith(BASE)
    return iri[len(BASE):]


def links(response: httpx.Response) -> str:
    return response.headers.get("link", "")


# --- the container ---------------------------------------------------------------------

async def test_an_empty_container_answers_with_every_required_header(
        client: httpx.AsyncClient) -> None:
    response = await client.get(CONTAINER, headers={"Accept": ANNO_MEDIA_TYPE})
    assert response.status_code == 200
    assert response.headers["content-type"] == ANNO_MEDIA_TYPE
    assert '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"' in links(response)
    assert ('<http://www.w3.org/TR/annotation-protocol/>; '
            'rel="http://www.w3.org/ns/ldp#constrainedBy"') in links(response)
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "Accept" in response.headers["vary"] and "Prefer" in response.headers["vary"]
    assert response.headers["etag"].startswith('"')
    assert response.headers["accept-post"] == ANNO_MEDIA_TYPE
    body = response.json()
    assert response.headers["content-location"] == body["id"] == f"{BASE}{CONTAINER}"
    assert body["type"] == ["BasicContainer", "AnnotationCollection"]
    assert body["@context"][0] == ANNO_CONTEXT and body["total"] == 0


async def test_head_and_options_carry_the_headers_of_get(client: httpx.AsyncClient) -> None:
    await post(client, rect("xywh=percent:10,20,30,15"))
    got = await client.get(CONTAINER)
    head = await client.head(CONTAINER)
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "link", "allow", "vary", "content-type", "content-location"):
        assert head.headers[name] == got.headers[name], name
    options = await client.options(CONTAINER)
    assert options.status_code == 200
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert "ldp#BasicContainer" in links(options)
    annotation = got.json()["first"]["items"][0]["id"]
    options = await client.options(path_of(annotation))
    assert options.headers["allow"] == "GET, HEAD, OPTIONS, PUT, DELETE"
    head = await client.head(path_of(annotation))
    assert head.status_code == 200 and head.headers["etag"] == (
        await client.get(path_of(annotation))).headers["etag"]


async def test_accept_is_negotiated_and_turtle_is_not_acceptable(
        client: httpx.AsyncClient) -> None:
    for accept in ("application/ld+json", "*/*", "application/json;q=0.5, */*;q=0.1"):
        response = await client.get(CONTAINER, headers={"Accept": accept})
        assert response.status_code == 200, accept
    json_only = await client.get(CONTAINER, headers={"Accept": "application/json"})
    assert json_only.headers["content-type"] == "application/json"
    turtle = await client.get(CONTAINER, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 406 and turtle.json()["code"] == "not-acceptable"


# --- creating: the mapping ------------------------------------------------------------------

async def test_post_creates_a_conversation_on_its_region_and_keeps_what_it_was_given(
        client: httpx.AsyncClient) -> None:
    given = rect("xywh=percent:10,20,30,15", id="urn:uuid:0b6c", canonical="urn:x:anno-1",
                 creator=[{"type": "Person", "name": "Ann"}, {"type": "Software",
                                                               "name": "Annotorious"}])
    given["body"] = [given["body"], {"type": "TextualBody", "purpose": "tagging",
                                     "value": "layout"}]
    created = await post(client, given)
    assert created.headers["content-type"] == ANNO_MEDIA_TYPE
    body = created.json()
    assert created.headers["location"] == body["id"] == created.headers["content-location"]
    assert body["id"].startswith(f"{BASE}{CONTAINER}")
    assert created.headers["etag"] and "ldp#Resource" in links(created)
    assert body["motivation"] == "commenting" and body["type"] == "Annotation"
    assert body["canonical"] == "urn:x:anno-1" and body["via"] == ["urn:uuid:0b6c"]
    assert body["creator"] == given["creator"] and body["body"] == given["body"]
    assert body["target"]["source"] == SRC
    assert body["target"]["selector"]["value"] == "xywh=percent:10,20,30,15"
    # It is a conversation on that region, its marker at the region's top-left corner, its
    # TextualBody the first comment.
    [conversation] = await conversations(client)
    assert conversation["_id"] == body["id"].rsplit("/", 1)[1]
    assert (conversation["x"], conversation["y"]) == (10, 20)
    assert conversation["region"] == {"shape": "rect", "x": 10, "y": 20, "w": 30, "h": 15}
    thread = (await client.get("/comments/demo",
                               params={"urlId": conversation["windowUrlId"]})).json()
    assert [c["comment"] for c in thread["comments"]] == ["Could this be bigger?"]
    # Read back: the same document, the same ETag.
    again = await client.get(path_of(body["id"]), headers={"Accept": ANNO_MEDIA_TYPE})
    assert again.status_code == 200 and again.json() == body
    assert again.headers["etag"] == created.headers["etag"]
    assert again.headers["content-location"] == body["id"]
    assert again.headers["allow"] == "GET, HEAD, OPTIONS, PUT, DELETE"
    assert again.headers["vary"] == "Accept"


async def test_a_zero_size_fragment_is_a_point(client: httpx.AsyncClient) -> None:
    body = (await post(client, rect("xywh=percent:42.5,18,0,0"))).json()
    [conversation] = await conversations(client)
    assert (conversation["x"], conversation["y"]) == (42.5, 18)
    assert conversation.get("region") is None
    assert body["target"]["selector"]["value"] == "xywh=percent:42.5,18,0,0"


async def test_pixels_need_the_natural_size_and_are_served_beside_percent(
        app: FastAPI, client: httpx.AsyncClient, clock: FixedClock) -> None:
    refused = await post(client, rect("xywh=pixel:100,50,200,100"), expected=400)
    assert refused.json()["code"] == "image-size-unknown"
    assert await conversations(client) == []
    async with services(app).db.write() as conn:
        await image_versions.add(conn, ImageVersion(
            tenant_id="demo", url_id=IMAGE, version=1, src=SRC, content_hash="0" * 64,
            width=1000, height=500, created_at=clock.now_ms()), None)
    created = await post(client, rect("xywh=pixel:100,50,200,100"))
    body = created.json()
    [conversation] = await conversations(client)
    assert conversation["region"] == {"shape": "rect", "x": 10, "y": 10, "w": 20, "h": 20}
    # Pixels first (what pixel-only clients read), then percent (what is kept).
    assert [s["value"] for s in body["target"]["selector"]] == [
        "xywh=pixel:100,50,200,100", "xywh=percent:10,10,20,20"]
    # A pixel-only client sends back a rounded rectangle: the same place, nothing moves.
    body["target"]["selector"] = {"type": "FragmentSelector",
                                  "value": "xywh=pixel:100.4,49.6,200,100"}
    put = await client.put(path_of(body["id"]), json=body, headers={
        **ANNO, "If-Match": created.headers["etag"]},
        params={**ANN, "editKey": created.headers["imagechat-edit-key"]})
    assert put.status_code == 200, put.text
    assert (await conversations(client))[0]["region"] == conversation["region"]
    events = (await client.get("/events/demo", params={"urlId": IMAGE, "since": 0})).json()
    assert "image-chat-updated" not in [e["type"] for e in events["events"]]


async def test_a_target_without_selector_is_kept_listed_and_has_no_marker(
        client: httpx.AsyncClient) -> None:
    whole = {"@context": ANNO_CONTEXT, "type": "Annotation", "target": SRC,
             "body": {"type": "TextualBody", "value": "Lovely colours overall"}}
    other = {**whole, "target": {"id": "https://shop.example/brief.pdf", "type": "Text"},
             "bodyValue": "See the brief", "body": None}
    other.pop("body")
    first = (await post(client, whole)).json()
    second = (await post(client, other)).json()
    assert first["target"] == SRC
    assert second["target"] == {"id": "https://shop.example/brief.pdf", "type": "Text"}
    assert second["bodyValue"] == "See the brief"
    assert await conversations(client) == []  # no marker on the image
    listed = (await client.get(CONTAINER)).json()
    assert sorted(a["id"] for a in listed["first"]["items"]) == sorted(
        [first["id"], second["id"]])


async def test_replies_target_their_parent_and_are_annotations_too(
        client: httpx.AsyncClient, clock: FixedClock) -> None:
    root = (await post(client, rect("xywh=percent:5,5,10,10"))).json()
    clock.advance(1000)
    reply = {"@context": ANNO_CONTEXT, "type": "Annotation", "motivation": "replying",
             "target": root["id"], "body": {"type": "TextualBody", "value": "Agreed"}}
    answer = (await post(client, reply, who=BOB)).json()
    clock.advance(1000)
    assert answer["id"].startswith(root["id"] + "/replies/")
    assert answer["motivation"] == "replying" and answer["target"] == root["id"]
    nested = (await post(client, {**reply, "target": answer["id"],
                                  "body": {"type": "TextualBody", "value": "Me too"}})).json()
    assert nested["target"] == answer["id"]
    got = await client.get(path_of(answer["id"]))
    assert got.status_code == 200 and got.json() == answer
    [conversation] = await conversations(client)
    assert conversation["commentCount"] == 3
    listed = (await client.get(CONTAINER)).json()
    assert [a["id"] for a in listed["first"]["items"]] == [root["id"], answer["id"],
                                                           nested["id"]]
    unknown = await post(client, {**reply, "target": f"{BASE}{CONTAINER}nope"}, expected=400)
    assert unknown.json()["code"] == "reply-target-unknown"


# --- paging and Prefer ----------------------------------------------------------------------

@pytest.fixture
async def paged_client(sqlite_url: str, clock: FixedClock
                       ) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=sqlite_url, annotation_page_size=2), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            yield c


async def test_pages_link_first_last_next_prev_with_total_and_start_index(
        paged_client: httpx.AsyncClient, clock: FixedClock) -> None:
    ids = []
    for i in range(5):
        clock.advance(1000)
        ids.append((await post(paged_client, rect(f"xywh=percent:{i},{i},5,5"))).json()["id"])
    container = (await paged_client.get(CONTAINER)).json()
    assert container["total"] == 5
    assert container["last"] == f"{BASE}{CONTAINER}?page=2"
    first = container["first"]
    assert first["type"] == "AnnotationPage" and first["startIndex"] == 0
    assert [a["id"] for a in first["items"]] == ids[:2]
    assert first["next"] == f"{BASE}{CONTAINER}?page=1" and "prev" not in first
    middle = await paged_client.get(path_of(first["next"]))
    page = middle.json()
    assert middle.headers["content-location"] == page["id"] == first["next"]
    assert page["partOf"]["id"] == f"{BASE}{CONTAINER}" and page["partOf"]["total"] == 5
    assert page["startIndex"] == 2 and [a["id"] for a in page["items"]] == ids[2:4]
    assert page["prev"] == f"{BASE}{CONTAINER}?page=0"
    last = (await paged_client.get(path_of(page["next"]))).json()
    assert [a["id"] for a in last["items"]] == ids[4:] and "next" not in last
    iris = (await paged_client.get(CONTAINER, params={"page": 1, "iris": 1})).json()
    assert iris["items"] == ids[2:4]
    beyond = await paged_client.get(CONTAINER, params={"page": 3})
    assert beyond.status_code == 404 and beyond.json()["code"] == "page-not-found"
    bad = await paged_client.get(CONTAINER, params={"page": "x"})
    assert bad.status_code == 400


async def test_prefer_minimal_iris_or_descriptions(client: httpx.AsyncClient) -> None:
    made = (await post(client, rect("xywh=percent:1,1,5,5"))).json()
    minimal = await client.get(CONTAINER, headers={
        "Prefer": PREFER.format("http://www.w3.org/ns/ldp#PreferMinimalContainer")})
    assert minimal.json()["first"] == f"{BASE}{CONTAINER}?page=0"
    assert minimal.headers["preference-applied"] == "return=representation"
    iris = await client.get(CONTAINER, headers={
        "Prefer": PREFER.format("http://www.w3.org/ns/oa#PreferContainedIRIs")})
    assert iris.json()["first"]["items"] == [made["id"]]
    both = await client.get(CONTAINER, headers={"Prefer": PREFER.format(
        "http://www.w3.org/ns/ldp#PreferMinimalContainer "
        "http://www.w3.org/ns/oa#PreferContainedIRIs")})
    assert both.json()["first"] == f"{BASE}{CONTAINER}?page=0&iris=1"
    described = await client.get(CONTAINER, headers={
        "Prefer": PREFER.format("http://www.w3.org/ns/oa#PreferContainedDescriptions")})
    assert described.json()["first"]["items"] == [made]
    assert iris.headers["etag"] != described.headers["etag"]


# --- changing and deleting ----------------------------------------------------------------

async def test_put_needs_the_current_etag_then_moves_and_rewrites(
        client: httpx.AsyncClient) -> None:
    created = await post(client, rect("xywh=percent:10,20,30,15"))
    iri, tag = created.json()["id"], created.headers["etag"]
    edit_key = created.headers["imagechat-edit-key"]
    changed = rect("xywh=percent:50,50,10,10", canonical="urn:x:2")
    changed["body"] = {"type": "TextualBody", "value": "Much bigger, please"}
    params = {**ANN, "editKey": edit_key}
    missing = await client.put(path_of(iri), json=changed, params=params, headers=ANNO)
    assert missing.status_code == 428 and missing.json()["code"] == "if-match-required"
    stale = await client.put(path_of(iri), json=changed, params=params,
                             headers={**ANNO, "If-Match": '"not-it"'})
    assert stale.status_code == 412 and stale.json()["code"] == "etag-mismatch"
    assert (await conversations(client))[0]["region"]["x"] == 10  # nothing changed
    done = await client.put(path_of(iri), json=changed, params=params,
                            headers={**ANNO, "If-Match": tag})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] != tag and done.json()["canonical"] == "urn:x:2"
    assert done.json()["body"]["value"] == "Much bigger, please"
    [conversation] = await conversations(client)
    assert conversation["region"] == {"shape": "rect", "x": 50, "y": 50, "w": 10, "h": 10}
    # The old ETag is stale now.
    again = await client.put(path_of(iri), json=changed, params=params,
                             headers={**ANNO, "If-Match": tag})
    assert again.status_code == 412
    # What a client read comes back unchanged: its own id is no `via`, and nothing moves.
    current = done.json()
    same = await client.put(path_of(iri), json=current, params=params,
                            headers={**ANNO, "If-Match": done.headers["etag"]})
    assert same.status_code == 200, same.text
    assert "via" not in same.json() and same.json()["target"] == current["target"]
    # Once set, `canonical` stays.
    renamed = await client.put(path_of(iri), json={**current, "canonical": "urn:x:3"},
                               params=params, headers={**ANNO, "If-Match": same.headers["etag"]})
    assert renamed.status_code == 400 and renamed.json()["code"] == "canonical-changed"
    other_id = await client.put(path_of(iri), json={**current, "id": "urn:x:other"},
                                params=params, headers={**ANNO, "If-Match": same.headers["etag"]})
    assert other_id.status_code == 400 and other_id.json()["code"] == "id-mismatch"
    assert (await client.get(path_of(iri))).json()["canonical"] == "urn:x:2"


async def test_delete_answers_204_and_the_annotation_is_gone(
        client: httpx.AsyncClient) -> None:
    created = await post(client, rect("xywh=percent:10,20,30,15"))
    iri = created.json()["id"]
    params = {**ANN, "editKey": created.headers["imagechat-edit-key"]}
    foreign = await client.delete(path_of(iri), params=BOB)
    assert foreign.status_code == 403 and await conversations(client) != []
    gone = await client.delete(path_of(iri), params=params)
    assert gone.status_code == 204 and gone.content == b""
    assert (await client.get(path_of(iri))).status_code == 404
    assert await conversations(client) == [] and (await client.get(CONTAINER)).json()["total"] == 0


async def test_the_api_secret_and_sign_in_rules_apply(app: FastAPI,
                                                      client: httpx.AsyncClient) -> None:
    tenant = await make_tenant(app, "acme", api_secret="acme-secret",
                               allow_anonymous=False)
    container = f"/annotations/acme/{quote(IMAGE, safe='')}/"
    refused = await post(client, rect("xywh=percent:1,1,5,5"), container=container,
                         expected=401)
    assert refused.json()["code"] == "sign-in-required"
    wrong = await client.post(container, json=rect("xywh=percent:1,1,5,5"),
                              headers={**ANNO, "X-API-Key": "nope"})
    assert wrong.status_code == 401
    made = await client.post(container, json=rect("xywh=percent:1,1,5,5"),
                             headers={**ANNO, "X-API-Key": tenant.api_secret})
    assert made.status_code == 201 and "imagechat-edit-key" not in made.headers


async def test_a_locked_image_refuses_annotations(app: FastAPI,
                                                  client: httpx.AsyncClient) -> None:
    tenant = await services(app).tenants.get("demo")
    await services(app).moderation.set_locked(
        tenant, Actor(tenant_id="demo", is_backend=True), IMAGE, True, None)
    refused = await post(client, rect("xywh=percent:1,1,5,5"), expected=403)
    assert refused.json()["code"] == "image-locked"
    assert await conversations(client) == []


async def test_each_write_is_an_event_on_the_image_channel(
        client: httpx.AsyncClient, clock: FixedClock) -> None:
    created = (await post(client, rect("xywh=percent:1,1,5,5"))).json()
    clock.advance(1000)
    await post(client, {"@context": ANNO_CONTEXT, "type": "Annotation",
                        "motivation": "replying", "target": created["id"],
                        "body": {"type": "TextualBody", "value": "Yes"}}, who=BOB)
    events = (await client.get("/events/demo", params={"urlId": IMAGE, "since": 0})).json()
    assert [e["type"] for e in events["events"]][:3] == [
        "new-image-chat", "new-comment", "new-comment"]


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(("doc", "code"), [
    ({"type": "Annotation", "target": SRC}, "context-missing"),
    ({"@context": ANNO_CONTEXT, "target": SRC}, "type-missing"),
    ({"@context": ANNO_CONTEXT, "type": "Annotation"}, "target-missing"),
    ([1, 2], "invalid-annotation"),
    (rect("xywh=percent:90,10,20,5"), "region-out-of-bounds"),
    (rect("t=10,20"), "selector-unsupported"),
    ({**rect(""), "target": {"source": SRC, "selector": {
        "type": "SvgSelector", "value": "<svg/>"}}}, "selector-unsupported"),
])
async def test_bad_annotations_get_400_with_a_reason_and_change_nothing(
        client: httpx.AsyncClient, doc: Any, code: str) -> None:
    response = await post(client, doc, expected=400)
    assert response.json()["code"] == code and response.json()["reason"]
    assert (await client.get(CONTAINER)).json()["total"] == 0


async def test_not_json_or_not_json_ld_is_refused(client: httpx.AsyncClient) -> None:
    broken = await client.post(CONTAINER, content=b"{not json", params=ANN, headers=ANNO)
    assert broken.status_code == 400 and broken.json()["code"] == "malformed-json"
    form = await client.post(CONTAINER, content=b"a=b", params=ANN,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    for method, path in (("PUT", CONTAINER), ("PATCH", f"{CONTAINER}abc")):
        refused = await client.request(method, path, json={})
        assert refused.status_code == 405
        assert "GET" in refused.headers["allow"] and method not in refused.headers["allow"]
    unknown = await client.get("/annotations/no-such-tenant/x/")
    assert unknown.status_code == 404
    missing = await client.get(f"{CONTAINER}0123456789abcdef01234567")
    assert missing.status_code == 404 and missing.json()["code"] == "annotation-not-found"


# --- CORS -----------------------------------------------------------------------------------

async def test_allowed_origins_may_read_the_protocol_headers(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    await make_tenant(app, "shop", origins=["https://shop.example"])
    container = f"/annotations/shop/{quote(IMAGE, safe='')}/"
    origin = {"Origin": "https://shop.example"}
    preflight = await client.options(container, headers={
        **origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, if-match, prefer, accept"})
    assert preflight.status_code == 200
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    assert "if-match" in preflight.headers["access-control-allow-headers"]
    got = await client.get(container, headers=origin)
    assert got.headers["access-control-allow-origin"] == "https://shop.example"
    exposed = {h.strip() for h in got.headers["access-control-expose-headers"].split(",")}
    assert {"ETag", "Link", "Allow", "Vary", "Location", "Content-Location"} <= exposed
    foreign = await client.get(container, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_the_openapi_document_lists_the_protocol_routes() -> None:
    paths = create_app(Settings(database_url="sqlite+aiosqlite:///unused.db")).openapi()["paths"]
    assert set(paths["/annotations/{tenantId}/{urlId}/"]) == {"get", "post"}
    assert set(paths["/annotations/{tenantId}/{urlId}/{annotationId}"]) == {
        "get", "put", "delete"}
    assert set(paths["/annotations/{tenantId}/{urlId}/{annotationId}/replies/{replyId}"]) == {
        "get", "put", "delete"}
