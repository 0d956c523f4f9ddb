"""A site's webhook endpoints: add (the secret is shown once), list, remove, test, and the
deliveries made to them, with "send again".

An endpoint's URL is checked when it is added, as every outbound request is checked when
it is made (imagechat.outbound): http(s) only, and no loopback, private or link-local
address after DNS resolution unless `IMAGECHAT_OUTBOUND_ALLOW_PRIVATE` is on. A refused
URL is bad input (400, CLI exit 2) with the reason.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imagechat.domain import limits
from imagechat.domain.errors import BadInput, Conflict, NotFound
from imagechat.domain.ids import new_id, new_secret
from imagechat.domain.models import Delivery, Tenant, WebhookEndpoint
from imagechat.domain.webhooks import EVENT_TYPES, TEST_EVENT
from imagechat.outbound.addresses import RefusedTarget, parse_target, resolve
from imagechat.services.recorder import Writer
from imagechat.services.webhook_courier import WEBHOOK
from imagechat.store import outbox, webhooks
from imagechat.store.database import Connection

# Deliveries a list shows at most.
MAX_LISTED_DELIVERIES = 200


@dataclass(frozen=True, slots=True)
class AddedEndpoint:
    endpoint: WebhookEndpoint
    # Shown now and never again.
    secret: str


def check_events(events: Sequence[Any] | None) -> tuple[str, ...]:
    """The event types an endpoint wants, checked; none given: every type."""
    chosen: list[str] = []
    for event in events or ():
        if event not in EVENT_TYPES:
            raise BadInput(f"{str(event)[:100]!r} is not an event type; the types are "
                           f"{', '.join(EVENT_TYPES)}.", "invalid-event-type")
        if event not in chosen:
            chosen.append(event)
    return tuple(chosen)


class WebhookService:
    def __init__(self, writer: Writer, *, allow_private: bool, lease_ms: int = 120_000) -> None:
        self.writer = writer
        self.db = writer.db
        self.clock = writer.clock
        self.allow_private = allow_private
        # A test delivery is written already taken by the node that makes it (see test()).
        self.lease_ms = lease_ms

    async def add(self, tenant: Tenant, url: Any, events: Sequence[Any] | None = None
                  ) -> AddedEndpoint:
        if not isinstance(url, str) or not url.strip():
            raise BadInput("`url` is the endpoint's http(s) address.", "missing-field")
        url = url.strip()
        if len(url) > limits.MAX_URL_CHARS:
            raise BadInput(f"`url` is longer than {limits.MAX_URL_CHARS} characters.",
                           "invalid-field")
        chosen = check_events(events)
        try:
            await resolve(parse_target(url), allow_private=self.allow_private)
        except RefusedTarget as exc:
            raise BadInput(exc.reason, exc.code) from None
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id=new_id(), tenant_id=tenant.id, url=url, events=chosen, secret=secret,
            created_at=self.clock.now_ms(), failing_since=None, disabled_at=None,
            disabled_reason="")
        async with self.db.write() as conn:
            if len(await webhooks.of_tenant(conn, tenant.id)) >= webhooks.MAX_ENDPOINTS_PER_TENANT:
                raise Conflict(f"A site may have at most {webhooks.MAX_ENDPOINTS_PER_TENANT} "
                               "webhook endpoints; remove one first.", "too-many-endpoints")
            await webhooks.add(conn, endpoint)
        return AddedEndpoint(endpoint, secret)

    async def list(self, tenant: Tenant) -> list[WebhookEndpoint]:
        async with self.db.read() as conn:
            return await webhooks.of_tenant(conn, tenant.id)

    async def get(self, tenant: Tenant, endpoint_id: Any) -> WebhookEndpoint:
        async with self.db.read() as conn:
            return await _endpoint(conn, tenant, endpoint_id)

    async def remove(self, tenant: Tenant, endpoint_id: Any) -> None:
        """Remove an endpoint; its deliveries not yet made are failed."""
        async with self.db.write() as conn:
            endpoint = await _endpoint(conn, tenant, endpoint_id)
            await webhooks.remove(conn, tenant.id, endpoint.id)
            await outbox.fail_pending_for(conn, endpoint.id, self.clock.now_ms(),
                                          "The endpoint was removed.")

    async def test(self, tenant: Tenant, endpoint_id: Any) -> Delivery:
        """A `test` event for one endpoint (also a disabled one). The delivery is written
        a lease ahead: the caller attempts it at once (DeliveryWorker.attempt_now), and if
        the caller dies first, a worker does after the lease."""
        async with self.writer.transaction() as rec:
            endpoint = await _endpoint(rec.conn, tenant, endpoint_id)
            delivery = rec.deliver(tenant.id, WEBHOOK, endpoint.id, TEST_EVENT, {
                "type": TEST_EVENT, "tenantId": tenant.id, "createdAt": rec.now_ms,
                "data": {"endpointId": endpoint.id}}, at_ms=rec.now_ms + self.lease_ms)
        return delivery

    async def deliveries(self, tenant: Tenant, endpoint_id: Any, *,
                         limit: int = 50) -> builtins.list[Delivery]:
        """The endpoint's deliveries, newest first."""
        async with self.db.read() as conn:
            endpoint = await _endpoint(conn, tenant, endpoint_id)
            return await outbox.recent(conn, tenant.id, kind=WEBHOOK, target=endpoint.id,
                                       limit=max(1, min(limit, MAX_LISTED_DELIVERIES)))

    async def delivery(self, tenant: Tenant, delivery_id: Any) -> Delivery:
        async with self.db.read() as conn:
            return await _delivery(conn, tenant, delivery_id)

    async def send_again(self, tenant: Tenant, delivery_id: Any) -> Delivery:
        """Put a delivery back in line now, with its id (receivers may have seen it)."""
        async with self.db.write() as conn:
            delivery = await _delivery(conn, tenant, delivery_id)
            if await webhooks.get(conn, delivery.target) is None:
                raise Conflict("The delivery's endpoint was removed.", "endpoint-removed")
            await outbox.send_again(conn, tenant.id, delivery.id, self.clock.now_ms())
            found = await outbox.get(conn, tenant.id, delivery.id)
        if self.writer.on_deliveries is not None:
            self.writer.on_deliveries()
        assert found is not None  # read in the transaction that changed it
        return found


async def _endpoint(conn: Connection, tenant: Tenant, endpoint_id: Any) -> WebhookEndpoint:
    found = (await webhooks.get(conn, endpoint_id)
             if isinstance(endpoint_id, str) and len(endpoint_id) <= limits.MAX_ID_CHARS
             else None)
    if found is None or found.tenant_id != tenant.id:
        raise NotFound("No webhook endpoint with that id.", "webhook-not-found")
    return found


async def _delivery(conn: Connection, tenant: Tenant, delivery_id: Any) -> Delivery:
    found = (await outbox.get(conn, tenant.id, delivery_id)
             if isinstance(delivery_id, str) and len(delivery_id) <= limits.MAX_ID_CHARS
             else None)
    if found is None or found.kind != WEBHOOK:
        raise NotFound("No webhook delivery with that id.", "delivery-not-found")
    return found
