"""The widget calls the API from other sites' pages: browsers must be allowed to."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from imagechat.app import create_app
from imagechat.http.cors import TENANT_ROUTES
from imagechat.settings import Settings
from tests.helpers import api_routes, make_tenant


async def test_preflight_allows_a_cross_origin_write(client: httpx.AsyncClient) -> None:
    response = await client.options("/comment-image-chats/demo", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_cross_origin_reads_carry_the_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/comment-image-chats/demo", params={"urlId": "img"},
                                headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


async def test_the_api_secret_header_is_not_offered_to_browsers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/v1/usage", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-api-key"})
    assert response.status_code == 400


async def _shop(app: FastAPI) -> None:
    await make_tenant(app, "shop", origins=["https://shop.example", "https://www.shop.example"])


async def test_a_tenant_with_origins_answers_only_its_own_pages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _shop(app)
    ok = await client.get("/comment-image-chats/shop", params={"urlId": "img"},
                          headers={"Origin": "https://www.shop.example"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://www.shop.example"
    assert ok.headers["vary"] == "Origin"
    assert "Retry-After" in ok.headers["access-control-expose-headers"]
    preflight = await client.options("/comments/shop", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"


async def test_a_foreign_page_is_refused_before_anything_is_written(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _shop(app)
    evil = {"Origin": "https://evil.example"}
    preflight = await client.options("/comment-image-chats/shop", headers={
        **evil, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    # A "simple" request needs no preflight: it is refused all the same, and nothing is stored.
    write = await client.post("/comment-image-chats/shop", headers=evil, json={
        "urlId": "img", "x": 1, "y": 1, "comment": "hi", "commenterName": "E",
        "anonUserId": "anon-evil-01"})
    assert write.status_code == 403
    assert write.json() == {"status": "failed", "code": "origin-not-allowed",
                            "reason": "This site does not accept calls from https://evil.example."}
    listing = await client.get("/comment-image-chats/shop", params={"urlId": "img"})
    assert listing.json()["conversations"] == []
    # The demo tenant allows every origin.
    demo = await client.get("/comment-image-chats/demo", params={"urlId": "img"}, headers=evil)
    assert demo.headers["access-control-allow-origin"] == "*"


async def test_same_origin_pages_and_server_calls_are_not_cross_origin(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _shop(app)
    # The server's own pages (the dashboard's widget) send their own origin.
    own = await client.get("/comment-image-chats/shop", params={"urlId": "img"},
                           headers={"Origin": "http://testserver"})
    assert own.status_code == 200 and "access-control-allow-origin" not in own.headers
    # Without an Origin (a backend, curl) the origin list does not apply.
    assert (await client.get("/comment-image-chats/shop", params={"urlId": "img"})
            ).status_code == 200


async def test_unknown_methods_and_headers_are_not_offered(client: httpx.AsyncClient) -> None:
    for method, header in (("PUT", ""), ("POST", "x-api-key")):
        response = await client.options("/comments/demo", headers={
            "Origin": "https://shop.example", "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": header})
        assert response.status_code == 400, (method, header)
        assert response.json()["code"] == "cors-not-allowed"


def test_every_tenant_route_is_under_the_origin_check() -> None:
    """The middleware knows tenant routes by their first path segment; a new route with a
    `{tenantId}` must be in that list, or pages of any origin could call it."""
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    heads = {path.split("/")[1] for path, _ in api_routes(app)
             if path.split("/")[2:3] == ["{tenantId}"]}
    assert "comments" in heads  # the enumeration sees the API
    assert heads == TENANT_ROUTES
