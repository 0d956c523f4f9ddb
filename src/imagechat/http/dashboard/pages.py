"""The site's pages (urlIds with comments that are not a conversation's thread): a list by
last activity, and one page with its comments, their moderation forms and its lock.

A conversation's thread is not listed: its image's view shows it. Deleting a comment and
banning its author are the moderation module's forms, sent back here with `view=page`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from imagechat.http.dashboard.common import (
    PREFIX,
    DashboardRoute,
    admin_of,
    form_of,
    list_query,
    redirect,
    render,
    services,
)
from imagechat.http.dashboard.moderation import banned_of
from imagechat.services.dashboard import MAX_VIEW_COMMENTS

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)


@router.get("/pages")
async def pages_page(request: Request) -> Response:
    admin = await admin_of(request)
    page, sort = list_query(request)
    listing = await services(request).dashboard.pages(admin.tenant, page=page,
                                                      newest_first=sort == "recent")
    return render(request, "pages.html", admin=admin, listing=listing, sort=sort)


@router.get("/pages/view")
async def page_view(request: Request) -> Response:
    admin = await admin_of(request)
    detail = await services(request).dashboard.page(admin.tenant,
                                                    request.query_params.get("urlId", ""))
    return render(request, "page.html", admin=admin, detail=detail,
                  banned=await banned_of(request, admin), shown=MAX_VIEW_COMMENTS)


@router.post("/pages/lock")
async def lock_page(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    # Only a page of this site: not another tenant's, nor a conversation's thread.
    state = await services(request).dashboard.page_state(admin.tenant, form.get("urlId", ""))
    locked = form.get("locked") == "1"
    url_id = state.page.url_id
    await services(request).moderation.set_locked(admin.tenant, admin.actor, url_id, locked)
    return redirect("/dashboard/pages/view", urlId=url_id,
                    notice="page-locked" if locked else "page-unlocked")
