"""Email: whether the site's users get notification emails, and the addresses that
refused mail for good (no email goes to them until the bounce is forgotten here)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from imagechat.http.dashboard.common import (
    PREFIX,
    DashboardRoute,
    admin_of,
    form_of,
    redirect,
    render,
    services,
)

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)


@router.get("/email")
async def email_page(request: Request) -> Response:
    admin = await admin_of(request)
    server_sends: bool = request.app.state.settings.email_enabled
    bounces = await services(request).users.bounces(admin.tenant)
    return render(request, "email.html", admin=admin, bounces=bounces,
                  server_sends=server_sends)


@router.post("/email/bounces/forget")
async def forget_bounce(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    await services(request).users.forget_bounce(admin.tenant, form.get("address", ""))
    return redirect("/dashboard/email", notice="bounce-forgotten")
