"""Bans (list, ban, lift) and the moderation log (who did what, when)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from imagechat.domain.errors import BadInput
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

# Log entries per page.
LOG_PAGE = 50


def _before(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 16:
        raise BadInput("`before` is a time in epoch milliseconds.", "invalid-time")
    return int(raw)


@router.get("/moderation")
async def moderation_page(request: Request) -> Response:
    admin = await admin_of(request)
    moderation = services(request).moderation
    before = _before(request.query_params.get("before"))
    bans = await moderation.list_bans(admin.tenant)
    entries = await moderation.log(admin.tenant, limit=LOG_PAGE + 1, before_ms=before)
    older = entries[LOG_PAGE - 1].created_at if len(entries) > LOG_PAGE else None
    return render(request, "moderation.html", admin=admin, bans=bans,
                  entries=entries[:LOG_PAGE], older=older, paged=before is not None)


def _subject(form: dict[str, str]) -> dict[str, str]:
    kind, ident = form.get("kind", ""), form.get("id", "").strip()
    if kind not in ("user", "anon") or not ident:
        raise BadInput("Choose who to ban: a user id or an anonymous id.", "ban-subject-invalid")
    return {"user_id": ident} if kind == "user" else {"anon_user_id": ident}


def _back(form: dict[str, str], notice: str) -> Response:
    # Back to the image the action was taken from, else to the moderation page.
    if form.get("urlId"):
        return redirect("/dashboard/images/view", urlId=form["urlId"], notice=notice)
    return redirect("/dashboard/moderation", notice=notice)


@router.post("/bans")
async def ban(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    await services(request).moderation.ban(admin.tenant, admin.actor, **_subject(form),
                                           reason=form.get("reason", "").strip())
    return _back(form, "banned")


@router.post("/bans/remove")
async def unban(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    await services(request).moderation.unban(admin.tenant, admin.actor, **_subject(form))
    return _back(form, "unbanned")
