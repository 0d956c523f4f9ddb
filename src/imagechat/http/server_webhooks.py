"""/api/v1 webhooks for a site's backend: endpoints (add, list, remove, test) and their
deliveries (list, send again). See README "Webhooks"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request

from imagechat.http.deps import services_of
from imagechat.http.openapi import BACKEND_WRITE_FAILURES, READ_FAILURES, replies
from imagechat.http.reply_models import (
    AddedWebhook,
    Deliveries,
    DeliveryResult,
    Success,
    Webhooks,
)
from imagechat.http.schemas import WebhookBody
from imagechat.http.server_api import backend_of
from imagechat.services.outbox import DeliveryWorker
from imagechat.services.webhooks import MAX_LISTED_DELIVERIES
from imagechat.wire.present import delivery_json, webhook_json

router = APIRouter(prefix="/api/v1", tags=["server-to-server"])


@router.get("/webhooks", responses=replies(Webhooks, READ_FAILURES))
async def list_webhooks(
    request: Request, tenantId: str, x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    """The site's endpoints, oldest first (never their secrets)."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    endpoints = await services_of(request).webhooks.list(tenant)
    return {"status": "success", "webhooks": [webhook_json(e) for e in endpoints]}


@router.post("/webhooks", responses=replies(AddedWebhook, BACKEND_WRITE_FAILURES))
async def add_webhook(
    request: Request, tenantId: str, body: WebhookBody,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Add an endpoint; the answer holds its signing secret, which is never shown again. A
    URL that is not http(s), or that resolves to a loopback, private or link-local address,
    is refused with 400 (`target-refused`) and the reason."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    added = await services_of(request).webhooks.add(tenant, body.url, body.events)
    return {"status": "success", "webhook": webhook_json(added.endpoint),
            "secret": added.secret}


@router.delete("/webhooks/{webhookId}", responses=replies(Success, BACKEND_WRITE_FAILURES))
async def remove_webhook(
    request: Request, webhookId: str, tenantId: str,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Remove an endpoint; its deliveries not yet made are failed."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    await services_of(request).webhooks.remove(tenant, webhookId)
    return {"status": "success"}


@router.post("/webhooks/{webhookId}/test",
             responses=replies(DeliveryResult, BACKEND_WRITE_FAILURES))
async def test_webhook(
    request: Request, webhookId: str, tenantId: str,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Send a `test` event to the endpoint now and answer with how it went (a failed test
    is retried like any delivery). A disabled endpoint is enabled again when it succeeds."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    webhooks = services_of(request).webhooks
    delivery = await webhooks.test(tenant, webhookId)
    worker: DeliveryWorker = request.app.state.outbox
    await worker.attempt_now(delivery)
    return {"status": "success",
            "delivery": delivery_json(await webhooks.delivery(tenant, delivery.id))}


@router.get("/webhooks/{webhookId}/deliveries", responses=replies(Deliveries, READ_FAILURES))
async def list_deliveries(
    request: Request, webhookId: str, tenantId: str,
    limit: int = Query(50, ge=1, le=MAX_LISTED_DELIVERIES),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """The endpoint's recent deliveries, newest first: status, attempts, the last answer's
    status code and first bytes, or why it failed."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    found = await services_of(request).webhooks.deliveries(tenant, webhookId, limit=limit)
    return {"status": "success", "deliveries": [delivery_json(d) for d in found]}


@router.post("/webhook-deliveries/{deliveryId}/send-again",
             responses=replies(DeliveryResult, BACKEND_WRITE_FAILURES))
async def send_delivery_again(
    request: Request, deliveryId: str, tenantId: str,
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Put a delivery back in line now, with the same id (receivers may drop it as a
    repeat if it had arrived). 409 if its endpoint was removed."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    delivery = await services_of(request).webhooks.send_again(tenant, deliveryId)
    return {"status": "success", "delivery": delivery_json(delivery)}
