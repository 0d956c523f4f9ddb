"""Webhooks: the site's endpoints (add, with the secret shown once; remove; test) and each
endpoint's recent deliveries with a "send again" button."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from imagechat.domain.errors import BadInput
from imagechat.domain.webhooks import EVENT_TYPES
from imagechat.http.dashboard.common import (
    MAX_FORM_BYTES,
    PREFIX,
    Admin,
    DashboardRoute,
    admin_of,
    form_of,
    redirect,
    render,
    services,
)
from imagechat.services.outbox import DeliveryWorker

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)

# Deliveries an endpoint's view lists.
VIEW_DELIVERIES = 50


async def _list(request: Request, admin: Admin, *, status: int = 200,
                **context: object) -> Response:
    endpoints = await services(request).webhooks.list(admin.tenant)
    return render(request, "webhooks.html", status=status, admin=admin, endpoints=endpoints,
                  event_types=EVENT_TYPES, **context)


@router.get("/webhooks")
async def webhooks_page(request: Request) -> Response:
    return await _list(request, await admin_of(request))


@router.post("/webhooks")
async def add_webhook(request: Request) -> Response:
    """Answers with the list and the new secret, once (never a redirect that could show
    it again)."""
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    # The event checkboxes repeat one field name: read them all.
    body = (await request.body())[:MAX_FORM_BYTES].decode()
    events = [value for key, value in parse_qsl(body, max_num_fields=50) if key == "event"]
    try:
        added = await services(request).webhooks.add(admin.tenant, form.get("url", ""), events)
    except BadInput as exc:
        return await _list(request, admin, status=400, refused=exc.reason,
                           url=form.get("url", ""))
    return await _list(request, admin, added=added)


@router.get("/webhooks/view")
async def webhook_view(request: Request) -> Response:
    admin = await admin_of(request)
    webhooks = services(request).webhooks
    endpoint = await webhooks.get(admin.tenant, request.query_params.get("id", ""))
    deliveries = await webhooks.deliveries(admin.tenant, endpoint.id, limit=VIEW_DELIVERIES)
    return render(request, "webhook.html", admin=admin, endpoint=endpoint,
                  deliveries=deliveries)


@router.post("/webhooks/remove")
async def remove_webhook(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    await services(request).webhooks.remove(admin.tenant, form.get("id", ""))
    return redirect("/dashboard/webhooks", notice="webhook-removed")


@router.post("/webhooks/test")
async def test_webhook(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    webhooks = services(request).webhooks
    delivery = await webhooks.test(admin.tenant, form.get("id", ""))
    worker: DeliveryWorker = request.app.state.outbox
    await worker.attempt_now(delivery)
    return redirect("/dashboard/webhooks/view", id=delivery.target, notice="webhook-tested")


@router.post("/webhooks/send-again")
async def send_again(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    delivery = await services(request).webhooks.send_again(admin.tenant,
                                                           form.get("deliveryId", ""))
    return redirect("/dashboard/webhooks/view", id=delivery.target, notice="sent-again")
