"""Small helpers the API tests share."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute

from imagechat.domain.models import Tenant
from imagechat.services.container import Services


def services(app: FastAPI) -> Services:
    found: Services = app.state.services
    return found


async def make_tenant(app: FastAPI, tenant_id: str, **options: Any) -> Tenant:
    return await services(app).tenants.create(tenant_id.title(), tenant_id=tenant_id, **options)


async def create_conversation(
    client: httpx.AsyncClient, tenant_id: str = "demo", url_id: str = "img-1", *,
    x: float = 10, y: float = 20, comment: str = "First!", name: str = "Ann",
    **extra: Any,
) -> dict[str, Any]:
    """Create a marker with its first message; returns the response body."""
    body = {"urlId": url_id, "x": x, "y": y, "comment": comment, "commenterName": name,
            "anonUserId": "anon-ann-0001", **extra}
    response = await client.post(f"/comment-image-chats/{tenant_id}", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def api_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """(path, methods) of every APIRoute, including those of included routers.

    FastAPI >= 0.16x keeps included routers as nodes in `app.routes`; `iter_route_contexts`
    flattens them with their full paths. Older versions list APIRoute objects directly.
    """
    flatten = getattr(fastapi_routing, "iter_route_contexts", None)
    found: list[tuple[str, set[str]]] = []
    if flatten is None:
        for route in app.routes:
            if isinstance(route, APIRoute):
                found.append((route.path, set(route.methods)))
        return found
    for context in flatten(app.routes):
        if isinstance(context.original_route, APIRoute):
            found.append((context.path, set(context.methods or ())))
    return found
