"""Signing in and out of the dashboard.

Two ways in, both proving control of the tenant:
- the tenant id and its API secret (the form);
- a Secure SSO token of a user with `isAdmin`, signed with the tenant's API secret: pasted
  into the form, or as a link the site generates for its own admins,
  `/dashboard/sign-in?tenantId=…&sso=<token JSON>` (the token is fresh when the link is
  made, and the address bar is cleared of it at once by a redirect).

A wrong secret and an unknown tenant get the same answer, so the form does not reveal
which tenants exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from imagechat.auth import sso
from imagechat.auth.api_secret import backend_actor
from imagechat.domain import rules
from imagechat.domain.errors import (
    BadInput,
    Forbidden,
    ImageChatError,
    NotAuthenticated,
    NotFound,
)
from imagechat.domain.models import Tenant
from imagechat.http.dashboard.common import (
    PREFIX,
    DashboardRoute,
    clear_session,
    codec,
    form_of,
    now_ms,
    redirect,
    render,
    safe_next,
    services,
    session_of,
    set_session,
)

router = APIRouter(prefix=PREFIX, route_class=DashboardRoute)

WRONG_SECRET = "The tenant id or the API secret is wrong."
WRONG_SSO = "The tenant id or the SSO token's signature is wrong."


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    session = session_of(request)
    if session is not None and session.signed_in and not session.expired(now_ms(request)):
        return redirect("/dashboard/usage")
    return redirect("/dashboard/sign-in")


@router.get("/sign-in")
async def sign_in_page(
    request: Request, tenantId: str | None = None, sso: str | None = None,
    next: str | None = None,
) -> Response:
    if tenantId and sso:
        return await _sso_sign_in(request, tenantId, sso, safe_next(next))
    return _form(request, tenant_id=tenantId or "", next_path=next or "")


async def _sso_sign_in(request: Request, tenant_id: str, token: str, next_path: str) -> Response:
    try:
        tenant, user = await _verify_sso(request, tenant_id, token)
    except ImageChatError as exc:
        return _form(request, tenant_id=tenant_id, error=exc.reason, status=exc.status,
                     method="sso")
    return _signed_in(request, tenant, "sso", next_path, user=user)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    fields = await form_of(request, session_of(request))
    tenant_id = fields.get("tenantId", "").strip()
    next_path = safe_next(fields.get("next"))
    method = "sso" if fields.get("method") == "sso" else "secret"
    try:
        if method == "sso":
            tenant, user = await _verify_sso(request, tenant_id, fields.get("sso", "").strip())
            return _signed_in(request, tenant, "sso", next_path, user=user)
        tenant = await _verify_secret(request, tenant_id, fields.get("apiSecret", "").strip())
    except ImageChatError as exc:
        return _form(request, tenant_id=tenant_id, error=exc.reason, status=exc.status,
                     method=method, next_path=fields.get("next", ""))
    return _signed_in(request, tenant, "secret", next_path)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await form_of(request, session_of(request))
    response = redirect("/dashboard/sign-in", notice="signed-out")
    clear_session(request, response)
    return response


async def _tenant(request: Request, tenant_id: str, wrong: str) -> Tenant:
    try:
        rules.require_id(tenant_id, "tenantId")
        return await services(request).tenants.get(tenant_id)
    except (NotFound, BadInput):
        raise NotAuthenticated(wrong) from None


async def _verify_secret(request: Request, tenant_id: str, secret: str) -> Tenant:
    if not tenant_id or not secret:
        raise NotAuthenticated("Enter the tenant id and its API secret.")
    tenant = await _tenant(request, tenant_id, WRONG_SECRET)
    try:
        backend_actor(tenant, secret)
    except NotAuthenticated:
        raise NotAuthenticated(WRONG_SECRET) from None
    return tenant


async def _verify_sso(request: Request, tenant_id: str, raw: str) -> tuple[Tenant, sso.SSOUser]:
    if not tenant_id or not raw:
        raise NotAuthenticated("Enter the tenant id and an SSO token.")
    tenant = await _tenant(request, tenant_id, WRONG_SSO)
    token = sso.parse_token(raw)
    if sso.looks_simple(token):
        raise NotAuthenticated("Only Secure SSO tokens (signed with the API secret) open "
                               "the dashboard.")
    try:
        user = sso.verify_secure(token, tenant.api_secret, now_ms(request))
    except sso.SSOError as exc:
        if exc.code == "sso-bad-signature":
            raise NotAuthenticated(WRONG_SSO) from None
        raise
    if not user.is_admin:
        raise Forbidden("This user is not an administrator of the site: the dashboard "
                        "needs an SSO user with isAdmin.", "not-admin")
    return tenant, user


def _signed_in(
    request: Request, tenant: Tenant, method: str, next_path: str,
    user: sso.SSOUser | None = None,
) -> Response:
    session = codec(request).signed_in(
        tenant.id, tenant.api_secret, "sso" if method == "sso" else "secret",
        now_ms(request), user_id=user.id if user else None,
        user_name=user.name if user else None,
    )
    response = redirect(next_path)
    set_session(request, response, session)
    return response


def _form(
    request: Request, *, tenant_id: str, error: str | None = None, status: int = 200,
    method: str = "secret", next_path: str = "",
) -> Response:
    # The form's CSRF token lives in an anonymous session; a valid one is kept, so two
    # tabs with the form open both work.
    session = session_of(request)
    now = now_ms(request)
    if session is None or session.expired(now):
        session = codec(request).anonymous(now)
    response = render(request, "sign_in.html", status=status, csrf=session.csrf,
                      tenant_id=tenant_id, error=error, method=method, next_path=next_path)
    set_session(request, response, session)
    return response
