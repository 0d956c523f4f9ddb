"""Exports from the dashboard: one image as CSV or as the PDF review report, and every
image of the site in one CSV (README "Exports")."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from imagechat.http.dashboard.common import PREFIX, DashboardRoute, admin_of, services
from imagechat.http.image_export import attachment
from imagechat.services.image_export import FORMATS, file_name

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)


@router.get("/images/export")
async def export_image(request: Request) -> Response:
    admin = await admin_of(request)
    found = await services(request).exports.export(
        admin.tenant, request.query_params.get("urlId", ""),
        request.query_params.get("format", ""), base_url=str(request.base_url))
    return attachment(found)


@router.get("/images/export.csv")
async def export_site(request: Request) -> Response:
    """Every image's comments, one image after the other, streamed as it is read."""
    admin = await admin_of(request)
    name = file_name(f"imagechat-{admin.tenant.id}-images", FORMATS["csv"].extension)
    return StreamingResponse(services(request).exports.site_csv(admin.tenant),
                             media_type=FORMATS["csv"].media_type, headers={
                                 "Content-Disposition": f'attachment; filename="{name}"',
                                 "X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "no-store"})
