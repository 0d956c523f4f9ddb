"""The one-click unsubscribe link of notification emails (RFC 8058), no sign-in needed.

GET shows a page with a button, so that a link scanner fetching the link changes nothing;
POST (the button, or a mail client's one-click `List-Unsubscribe=One-Click`) turns the
user's email off, and the page then offers to turn it back on (`again=1`). A link that is
altered, or made for another user or site, gets 403 and changes nothing.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from imagechat.auth import unsubscribe
from imagechat.domain.errors import NotFound
from imagechat.domain.models import Tenant
from imagechat.http.dashboard.common import SECURITY_HEADERS
from imagechat.http.deps import services_of
from imagechat.services.email_render import TEMPLATES
from imagechat.services.email_strings import language, strings

router = APIRouter(include_in_schema=False)
# The one-click body is a few bytes; anything much longer is not ours.
MAX_BODY_BYTES = 4096


async def _checked(request: Request, tenant_id: str, user_id: str, sig: str) -> Tenant | None:
    """The tenant if the link is one we made for this user, else None."""
    if not (tenant_id and user_id and sig):
        return None
    try:
        tenant = await services_of(request).tenants.get(tenant_id)
    except NotFound:
        return None
    return tenant if unsubscribe.valid(tenant.api_secret, tenant.id, user_id, sig) else None


async def _page(request: Request, tenant: Tenant | None, user_id: str, state: str
                ) -> HTMLResponse:
    locale = (await services_of(request).users.locale_of(tenant, user_id)
              if tenant is not None else None)
    html = TEMPLATES.get_template("unsubscribe.html").render(
        lang=language(locale), t=strings(locale), site=tenant.name if tenant else "",
        state=state)
    return HTMLResponse(html, status_code=403 if state == "refused" else 200,
                        headers=SECURITY_HEADERS)


@router.get(unsubscribe.PATH)
async def ask(request: Request, tenantId: str = "", user: str = "", sig: str = ""
              ) -> HTMLResponse:
    tenant = await _checked(request, tenantId, user, sig)
    return await _page(request, tenant, user, "ask" if tenant else "refused")


@router.post(unsubscribe.PATH)
async def unsubscribe_user(request: Request, tenantId: str = "", user: str = "",
                           sig: str = "") -> HTMLResponse:
    tenant = await _checked(request, tenantId, user, sig)
    if tenant is None:
        return await _page(request, None, user, "refused")
    body = await request.body()
    again = False
    if len(body) <= MAX_BODY_BYTES and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=10))
        again = fields.get("again") == "1"
    await services_of(request).users.set_email_notifications(tenant, user, again)
    return await _page(request, tenant, user, "resubscribed" if again else "done")
