"""Needs review: conversations carry-over could not place on the latest version of their
image (`lost`), for a person to put in place. This page does it with two numbers, without
JavaScript; each row links to the image's page, whose widget (showing the latest version)
lets a moderator drag it into place."""

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
from imagechat.services.image_chats import MoveInput

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)


@router.get("/review")
async def review_page(request: Request) -> Response:
    admin = await admin_of(request)
    lost = await services(request).dashboard.needs_review(admin.tenant)
    return render(request, "review.html", admin=admin, lost=lost)


def _number(value: str | None, field: str) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise BadInput(f"`{field}` must be a number from 0 to 100.",
                       "invalid-coordinate") from None


@router.post("/conversations/move")
async def place_conversation(request: Request) -> Response:
    admin = await admin_of(request)
    form = await form_of(request, admin.session)
    await services(request).image_chats.move(
        admin.tenant, admin.actor, form.get("chatId"),
        MoveInput(x=_number(form.get("x"), "x"), y=_number(form.get("y"), "y"),
                  version=form.get("version") or None), None, None)
    return redirect("/dashboard/review", notice="placed")
