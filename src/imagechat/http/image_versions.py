"""Versions of an image: the widget's list and report (`/image-versions/{tenantId}`), the
thumbnails of the compare view, and the site backend's `POST /api/v1/images/versions`."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import ValidationError

from imagechat.domain.errors import BadInput, TooLarge
from imagechat.http.deps import (
    READ_QUERY,
    WRITE_QUERY,
    actor_of,
    broadcast_id_of,
    services_of,
    tenant_of,
)
from imagechat.http.openapi import IMAGE_FAILURES, READ_FAILURES, failures, replies
from imagechat.http.rate_limits import limit_writes
from imagechat.http.reply_models import ImageVersions, ReportedImage, SubmittedVersion
from imagechat.http.schemas import ImageVersionBody, ReportImageBody
from imagechat.http.server_api import API_KEY_QUERY, backend_of
from imagechat.imaging.decode import THUMBNAIL_MEDIA_TYPE
from imagechat.services.image_versions import VersionOutcome
from imagechat.wire.present import version_json

router = APIRouter(tags=["image versions"], dependencies=[Depends(limit_writes)])
backend_router = APIRouter(prefix="/api/v1", tags=["server-to-server"],
                           dependencies=API_KEY_QUERY)

# The API's own path for uploads, whose bodies are images (http/body_limit.py lets them be
# as large as IMAGECHAT_IMAGE_MAX_BYTES).
UPLOAD_PATH = "/api/v1/images/versions"
# A version's thumbnail never changes once it is there (a new content is a new version).
THUMBNAIL_CACHE = "public, max-age=86400, immutable"


@router.get("/image-versions/{tenantId}", dependencies=READ_QUERY,
            responses=replies(ImageVersions, READ_FAILURES))
async def list_versions(request: Request, tenantId: str, urlId: str) -> dict[str, Any]:
    """The versions of an image, oldest first: the widget's version switcher."""
    tenant = await tenant_of(request, tenantId)
    actor_of(request, tenant)  # a token that does not verify is a 401 here too
    found = await services_of(request).image_versions.versions(tenant, urlId)
    return {"status": "success", "versions": [version_json(v) for v in found],
            "latestVersion": found[-1].version if found else None}


@router.post("/image-versions/{tenantId}", dependencies=WRITE_QUERY,
             responses=replies(ReportedImage, IMAGE_FAILURES))
async def report_image(request: Request, tenantId: str, body: ReportImageBody
                       ) -> dict[str, Any]:
    """The widget tells which image it shows for `urlId`. The answer says which version
    that is; when its content is new, a new version is made first and every conversation is carried
    over to it (viewers get `image-version`). The server fetches `src` (the site's origins
    only) unless it checked that address within IMAGECHAT_IMAGE_RECHECK_SECS."""
    tenant = await tenant_of(request, tenantId)
    raw = body.model_dump()
    actor = actor_of(request, tenant, raw)
    services = services_of(request)
    outcome = await services.image_versions.report(tenant, actor, body.urlId, body.src,
                                                   body.url, broadcast_id_of(request, raw))
    latest = await services.image_versions.versions(tenant, body.urlId)
    return {"status": "success", "version": outcome.version.version,
            "latest": bool(latest) and latest[-1].version == outcome.version.version,
            "created": outcome.created, "image": version_json(outcome.version)}


@router.get("/image-versions/{tenantId}/thumbnail", response_class=Response,
            responses={200: {"content": {THUMBNAIL_MEDIA_TYPE: {}},
                             "description": "The thumbnail (WebP)."},
                       **failures(400, 404, 503)})
async def thumbnail(request: Request, tenantId: str, urlId: str,
                    version: int = Query(ge=1, le=1_000_000)) -> Response:
    """A version's thumbnail (long side at most 1,024 pixels), for the compare view."""
    tenant = await tenant_of(request, tenantId)
    data = await services_of(request).image_versions.thumbnail(tenant, urlId, version)
    return Response(data, media_type=THUMBNAIL_MEDIA_TYPE,
                    headers={"Cache-Control": THUMBNAIL_CACHE,
                             "X-Content-Type-Options": "nosniff"})


_UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ImageVersionBody.model_json_schema()},
    "image/*": {"schema": {"type": "string", "format": "binary",
                           "description": "The image itself; `urlId` (and optionally `src`, "
                                          "its name) in the query."}}}}}


@backend_router.post("/images/versions", openapi_extra=_UPLOAD_BODY,
                     responses=replies(SubmittedVersion, IMAGE_FAILURES))
async def submit_version(
    request: Request, tenantId: str,
    urlId: str | None = Query(None, description="With an image body: the image's urlId."),
    src: str | None = Query(None, description="With an image body: its address, if any."),
    x_api_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """The image `urlId` is now at `src` (JSON `{urlId, src}`: the server fetches it), or
    is the image in the body (`Content-Type: image/…`). Answers once the conversations are carried
    over: `{version, created, carried: {same, changed, lost}}`."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    versions = services_of(request).image_versions
    if kind.startswith("image/") or kind == "application/octet-stream":
        if len(raw) > versions.limits.fetch.max_bytes:
            raise TooLarge(f"The image is larger than {versions.limits.fetch.max_bytes:,} "
                           "bytes.", "image-too-large")
        if not raw:
            raise BadInput("The image body is empty.", "missing-field")
        outcome = await versions.submit(tenant, urlId, src, raw, broadcast_id_of(request))
    else:
        try:
            parsed = ImageVersionBody.model_validate(_json_object(raw))
        except ValidationError as exc:
            raise BadInput(f"The body must be {{urlId, src}}: {exc.errors()[0]['msg']}.",
                           "bad-input") from None
        outcome = await versions.submit(tenant, parsed.urlId, parsed.src, None,
                                        broadcast_id_of(request))
    return _submitted(outcome)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadInput("The request body is not valid JSON.", "malformed-json") from None
    if not isinstance(value, dict):
        raise BadInput("The request body must be a JSON object {urlId, src}.",
                       "malformed-json")
    return value


def _submitted(outcome: VersionOutcome) -> dict[str, Any]:
    v = outcome.version
    return {"status": "success", "version": v.version, "created": outcome.created,
            "carried": {"same": v.carried_same, "changed": v.carried_changed,
                        "lost": v.carried_lost}}
