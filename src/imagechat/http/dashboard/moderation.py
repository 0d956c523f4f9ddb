"""Bans (list, ban, lift), deleting a comment, and the moderation log (who did what, when).

The image and page views post their forms here too, with the `urlId` (and `view`, "page"
or the image's by default) to come back to.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from imagechat.domain.errors import BadInput
from imagechat.http.dashboard.common import (
    PREFIX,
    Admin,
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
# The views a form may send back to, by its `view` field.
VIEWS = {"image": "/dashboard/images/view", "page": "/dashboard/pages/view"}


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


async def banned_of(request: Request, admin: Admin) -> set[tuple[str, str | None]]:
    """The banned visitors of the site, as ("user"|"anon", id): which ban buttons lift."""
    bans = await services(request).moderation.list_bans(admin.tenant)
    return {("user", b.user_id) if b.user_id else ("anon", b.anon_user_id) for b in bans}


def _subject(form: dict[str, str]) -> dict[str, str]:
    kind, ident = form.get("kind", ""), form.get("id", "").strip()
    if kind not in ("user", "anon") or not ident:
        raise BadInput("Choose who to ban: a user id or an anonymous id.", "ban-subject-invalid")
    return {"user_id": ident} if kind == "user" else {"anon_user_id": ident}


def _back(form: dict[str, str], notice: str) -> Response:
    # Back to the image or page the action was taken from, else to the moderation page.
    if form.get("urlId"):
        view = VIEWS.get(form.get("view", ""), VIEWS["image"])
        return redirect(view, urlId=form["urlId"], notice=notice)
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


@router.post("/comments/delete")
async def delete_comment(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    await services(request).comments.delete(admin.tenant, admin.actor, form.get("commentId"),
                                            None, None)
    return _back(form, "comment-deleted")
