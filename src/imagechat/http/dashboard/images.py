"""The site's images: a list by last activity, and one image with its conversations.

An image's page shows the image through the real widget in moderator mode: the page gets
a Secure SSO token, signed here with the tenant's API secret, for an admin user
`dashboard:<who>`, so the widget lists everything with delete, lock and ban actions. The
page's own forms do the same things without the widget (and without JavaScript).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from imagechat.auth.sso import make_token
from imagechat.domain import limits
from imagechat.http.dashboard.common import (
    PREFIX,
    Admin,
    DashboardRoute,
    admin_of,
    form_of,
    list_query,
    now_ms,
    redirect,
    render,
    services,
)
from imagechat.http.dashboard.moderation import banned_of

if TYPE_CHECKING:
    from imagechat.live.hub import Hub

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)

# The widget's user on the dashboard; the prefix keeps it apart from the site's own ids.
WIDGET_USER_PREFIX = "dashboard:"


async def _viewers(request: Request, tenant_id: str, url_ids: list[str]) -> dict[str, int]:
    hub: Hub | None = getattr(request.app.state, "hub", None)
    if hub is None or not url_ids:
        return {}
    counts = await asyncio.gather(*(hub.viewers(tenant_id, u) for u in url_ids),
                                  return_exceptions=True)
    # A count the broker could not give is left out rather than failing the page.
    return {u: n for u, n in zip(url_ids, counts, strict=True) if isinstance(n, int)}


@router.get("/images")
async def images_page(request: Request) -> Response:
    admin = await admin_of(request)
    page, sort = list_query(request)
    listing = await services(request).dashboard.images(admin.tenant, page=page,
                                                       newest_first=sort == "recent")
    viewers = await _viewers(request, admin.tenant.id, [i.url_id for i in listing.rows])
    return render(request, "images.html", admin=admin, listing=listing, viewers=viewers,
                  sort=sort)


@router.get("/images/view")
async def image_page(request: Request) -> Response:
    admin = await admin_of(request)
    url_id = request.query_params.get("urlId", "")
    detail = await services(request).dashboard.image(admin.tenant, url_id)
    viewers = await _viewers(request, admin.tenant.id, [detail.image.url_id])
    return render(request, "image.html", admin=admin, detail=detail,
                  viewers=viewers.get(detail.image.url_id, 0),
                  banned=await banned_of(request, admin),
                  widget=_widget_config(request, admin, detail.image.url_id))


def _widget_config(request: Request, admin: Admin, url_id: str) -> dict[str, Any]:
    who = admin.session.user_id if admin.session.method == "sso" else "api-secret"
    user = {
        "id": f"{WIDGET_USER_PREFIX}{who}"[:limits.MAX_ID_CHARS],
        "username": admin.session.user_name or "Dashboard admin",
        "isAdmin": True,
    }
    return {
        "tenantId": admin.tenant.id,
        "urlId": url_id,
        "sso": make_token(admin.tenant.api_secret, user, now_ms(request)),
        "locale": "en",
    }


@router.post("/images/lock")
async def lock_image(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    url_id = form.get("urlId", "")
    locked = form.get("locked") == "1"
    await services(request).moderation.set_locked(admin.tenant, admin.actor, url_id, locked)
    return redirect("/dashboard/images/view", urlId=url_id,
                    notice="locked" if locked else "unlocked")


@router.post("/conversations/delete")
async def delete_conversation(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    conversation = await services(request).image_chats.delete(admin.tenant, admin.actor,
                                                              form.get("chatId"), None, None)
    return redirect("/dashboard/images/view", urlId=conversation.url_id, notice="deleted")
