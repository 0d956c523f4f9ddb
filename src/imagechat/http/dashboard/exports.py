"""Exports from the dashboard: one image as CSV, as the PDF review report or as JSON-LD,
and every image of the site as one CSV, as one JSON-LD document or as a ZIP archive of
the review reports (README "Exports"). The site-wide ones stream as they are read."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from imagechat.http.dashboard.common import PREFIX, DashboardRoute, admin_of, services
from imagechat.http.image_export import attachment
from imagechat.http.responses import download_headers
from imagechat.services.image_export import FORMATS, file_name

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)


@router.get("/images/export")
async def export_image(request: Request) -> Response:
    admin = await admin_of(request)
    found = await services(request).exports.export(
        admin.tenant, request.query_params.get("urlId", ""),
        request.query_params.get("format", ""), base_url=str(request.base_url))
    return attachment(found)


def _download(stem: str, extension: str, media_type: str,
              body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type=media_type,
                             headers=download_headers(file_name(stem, extension)))


@router.get("/images/export.csv")
async def export_site(request: Request) -> Response:
    """Every image's comments, one image after the other."""
    admin = await admin_of(request)
    return _download(f"imagechat-{admin.tenant.id}-images", "csv", FORMATS["csv"].media_type,
                     services(request).exports.site_csv(admin.tenant))


@router.get("/images/export.jsonld")
async def export_site_annotations(request: Request) -> Response:
    """Every image's W3C AnnotationCollection, in one JSON-LD array."""
    admin = await admin_of(request)
    return _download(f"imagechat-{admin.tenant.id}-annotations", "jsonld",
                     FORMATS["jsonld"].media_type,
                     services(request).exports.site_jsonld(admin.tenant,
                                                           base_url=str(request.base_url)))


@router.get("/images/reports.zip")
async def export_site_reports(request: Request) -> Response:
    """Every image's PDF review report, a file each, in one ZIP archive."""
    admin = await admin_of(request)
    return _download(f"imagechat-{admin.tenant.id}-reports", "zip", "application/zip",
                     services(request).exports.site_reports(admin.tenant))
