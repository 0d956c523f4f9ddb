"""`GET /api/v1/images/export`: an image's comments as a file people read (CSV, or the
PDF review report), for the site's backend with its API secret (README "Exports")."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Request, Response

from imagechat.http.deps import services_of
from imagechat.http.openapi import failures
from imagechat.http.responses import download_headers
from imagechat.http.server_api import API_KEY_QUERY, backend_of
from imagechat.services.image_export import FORMATS, ExportFile

router = APIRouter(prefix="/api/v1", tags=["server-to-server"], dependencies=API_KEY_QUERY)


def attachment(found: ExportFile) -> Response:
    """The file as a download, under its own name; never sniffed as anything else."""
    return Response(found.body, media_type=found.media_type,
                    headers=download_headers(found.filename))


@router.get("/images/export", response_class=Response, responses={
    200: {"content": {f.media_type: {} for f in FORMATS.values()},
          "description": "The export, as an attachment named after the urlId."},
    **failures(400, 401, 404, 429, 503)})
async def export_image(
    request: Request, tenantId: str, urlId: str,
    format: str = Query(description="`csv` (one row per comment), `pdf` (the review "
                        "report: the image with numbered markers, then every thread) or "
                        "`jsonld` (the W3C AnnotationCollection, as the annotation "
                        "container serves it)."),
    x_api_key: str | None = Header(default=None),
) -> Response:
    """One image's conversations on its latest version, with every comment. A PDF draws
    the image, fetched like a version's (the site's origins only); when it cannot be
    fetched the report says why and shows the stored thumbnail, or no image."""
    tenant, _ = await backend_of(request, tenantId, x_api_key)
    return attachment(await services_of(request).exports.export(
        tenant, urlId, format, base_url=str(request.base_url)))
