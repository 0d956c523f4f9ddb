"""The widget calls the API from other sites' pages: browsers must be allowed to."""

from __future__ import annotations

import httpx


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
