"""Making one webhook delivery: a signed POST to the endpoint, and what it says about the
endpoint's health.

- The body is the delivery's payload with its `id` first; the headers name the delivery,
  the event and the signature (imagechat.domain.webhooks). The request goes through
  imagechat.outbound: the address is checked again now (DNS may have changed since the
  endpoint was added), redirects are not followed, the whole exchange has one deadline.
- Success is a 2xx within the timeout; anything else is retried by the outbox rules,
  except a target refused now, which fails the delivery at once with the reason.
- An endpoint's failing streak starts at its first failure after a success and ends at
  the next success. A streak longer than `disable_after_hours` disables the endpoint and
  fails its pending deliveries. A disabled endpoint gets nothing but test deliveries; one
  of those succeeding enables it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson

from imagechat import __version__
from imagechat.domain.clock import Clock
from imagechat.domain.models import Delivery, WebhookEndpoint
from imagechat.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TEST_EVENT,
    signature,
)
from imagechat.outbound.addresses import RefusedTarget
from imagechat.outbound.client import OutboundError, request
from imagechat.services.outbox import Outcome
from imagechat.store import outbox, webhooks
from imagechat.store.database import Database

log = logging.getLogger("imagechat.webhooks")

WEBHOOK = "webhook"
# Bytes of an endpoint's answer kept for the deliveries list (the column holds 500).
ANSWER_BYTES = 500


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    allow_private: bool = False
    timeout_secs: float = 10.0
    disable_after_hours: float = 24.0


class WebhookCourier:
    def __init__(self, db: Database, clock: Clock, options: WebhookOptions) -> None:
        self.db = db
        self.clock = clock
        self.options = options

    async def attempt(self, delivery: Delivery) -> Outcome:
        async with self.db.read() as conn:
            endpoint = await webhooks.get(conn, delivery.target)
        if endpoint is None or endpoint.tenant_id != delivery.tenant_id:
            return Outcome(False, error="The endpoint was removed.", permanent=True)
        if endpoint.disabled_at is not None and delivery.event_type != TEST_EVENT:
            return Outcome(False, error=f"The endpoint is disabled: {endpoint.disabled_reason}",
                           permanent=True)
        outcome = await self._post(endpoint, delivery)
        return await self._note_health(endpoint, outcome)

    async def _post(self, endpoint: WebhookEndpoint, delivery: Delivery) -> Outcome:
        body = orjson.dumps({"id": delivery.id, **orjson.loads(delivery.payload)})
        timestamp = self.clock.now_ms() // 1000
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"ImageChat-Webhooks/{__version__}",
            DELIVERY_HEADER: delivery.id,
            EVENT_HEADER: delivery.event_type,
            SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
        }
        try:
            answer = await request("POST", endpoint.url, allow_private=self.options.allow_private,
                                   timeout_secs=self.options.timeout_secs,
                                   max_bytes=ANSWER_BYTES, headers=headers, content=body)
        except RefusedTarget as exc:
            return Outcome(False, error=exc.reason, permanent=True)
        except OutboundError as exc:
            return Outcome(False, error=exc.reason)
        response = answer.body.decode("utf-8", "replace")
        if 200 <= answer.status < 300:
            return Outcome(True, status_code=answer.status, response=response)
        if 300 <= answer.status < 400:
            where = answer.headers.get("location", "")[:200]
            error = f"Answered {answer.status}, a redirect (to {where!r}): not followed."
        else:
            error = f"Answered {answer.status}, not a 2xx."
        return Outcome(False, status_code=answer.status, error=error, response=response)

    async def _note_health(self, endpoint: WebhookEndpoint, outcome: Outcome) -> Outcome:
        now = self.clock.now_ms()
        async with self.db.write() as conn:
            if outcome.delivered:
                await webhooks.succeeded(conn, endpoint.id)
                return outcome
            since = await webhooks.failed(conn, endpoint.id, now)
            if now - since < self.options.disable_after_hours * 3_600_000:
                return outcome
            reason = (f"Every delivery failed for {self.options.disable_after_hours:g} h; "
                      f"the last one: {outcome.error}")
            if await webhooks.disable(conn, endpoint.id, now, reason):
                failed = await outbox.fail_pending_for(conn, endpoint.id, now,
                                                       f"The endpoint was disabled: {reason}")
                log.warning("webhook endpoint %s of %s disabled (%d pending deliveries failed)",
                            endpoint.id, endpoint.tenant_id, failed)
        return Outcome(False, status_code=outcome.status_code, error=outcome.error,
                       response=outcome.response, permanent=True)
