"""Reading a channel's history: the reference's time window and our seq-based resume."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request

from imagechat.domain.clock import iso_from_ms
from imagechat.domain.models import StoredEvent
from imagechat.http.deps import services_of, tenant_of
from imagechat.http.openapi import ANONYMOUS_READ_FAILURES, replies
from imagechat.http.reply_models import EventLog, EventsSince

router = APIRouter(tags=["live sync"])


def _entry(event: StoredEvent) -> dict[str, Any]:
    return {
        "_id": event.id,
        "createdAt": iso_from_ms(event.created_at),
        "tenantId": event.tenant_id,
        "urlId": event.url_id,
        "broadcastId": event.broadcast_id,
        "data": event.data,
    }


@router.get("/event-log/{tenantId}",
            responses=replies(EventLog, ANONYMOUS_READ_FAILURES))
@router.get("/event-log/{tenantId}/", include_in_schema=False)
async def event_log(
    request: Request, tenantId: str, urlId: str, startTime: int, endTime: int,
    userIdWS: str | None = None,
) -> dict[str, Any]:
    """Events of one image between two times (epoch ms, inclusive), oldest first."""
    tenant = await tenant_of(request, tenantId)
    found = await services_of(request).history.by_time(tenant, urlId, startTime, endTime)
    return {"status": "success", "events": [_entry(e) for e in found]}


@router.get("/events/{tenantId}", responses=replies(EventsSince, ANONYMOUS_READ_FAILURES))
async def events_since(
    request: Request, tenantId: str, urlId: str, since: int, epoch: str | None = None
) -> dict[str, Any]:
    """Every event after `since` in `seq` order, or `resyncRequired` when that is impossible.

    Pages hold at most 1,000 events; `hasMore` asks for another page from the last `seq`.
    """
    tenant = await tenant_of(request, tenantId)
    replay = await services_of(request).history.since(tenant, urlId, since, epoch)
    return {
        "status": "success",
        "resyncRequired": replay.resync_required,
        "seq": replay.position.seq,
        "epoch": replay.position.epoch,
        "hasMore": replay.has_more,
        "events": [orjson.loads(e.data) for e in replay.events],
    }
