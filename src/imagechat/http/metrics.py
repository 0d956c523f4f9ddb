"""GET /metrics: Prometheus text exposition, mounted only when metrics are enabled.

With `IMAGECHAT_METRICS_TOKEN` set, a scrape must carry `Authorization: Bearer <token>`;
the comparison takes the same time whatever the token, so it leaks nothing by timing.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from imagechat.ops.metrics import CONTENT_TYPE, Metrics
from imagechat.services.outbox import DeliveryWorker

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    token: str = request.app.state.settings.metrics_token
    if token and not _bearer_matches(request.headers.get("authorization", ""), token):
        raise HTTPException(401, "A valid `Authorization: Bearer <token>` header is required.",
                            headers={"WWW-Authenticate": "Bearer"})
    found: Metrics = request.app.state.metrics
    worker: DeliveryWorker = request.app.state.outbox
    found.outbox_depth = await worker.depth()
    return Response(found.render(), media_type=CONTENT_TYPE)


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    # Digests first, so the comparison sees equal lengths whatever was sent; compare_digest
    # then takes the same time wherever the two differ.
    matches = hmac.compare_digest(_digest(given.strip()), _digest(token))
    return scheme.lower() == "bearer" and matches


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()
