"""What every dashboard page shares: templates, the session cookie, CSRF, HTML errors.

Dashboard routes answer with HTML, not the API's JSON: `DashboardRoute` turns a missing
session into a redirect to the sign-in page, a bad CSRF token into a 403 page, and any
ImageChatError into a page with its status and reason.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from imagechat.auth.sessions import Session, SessionCodec, csrf_ok
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, ImageChatError, NotFound
from imagechat.domain.models import Tenant
from imagechat.http.deps import services_of
from imagechat.services.container import Services
from imagechat.services.dashboard import author_of, image_address, web_address

WEB = Path(__file__).resolve().parents[2] / "web" / "dashboard"
COOKIE = "imagechat_dashboard"
PREFIX = "/dashboard"
COOKIE_PATH = PREFIX
# Longest form body the dashboard accepts (its forms carry a few short fields).
MAX_FORM_BYTES = 16 * 1024

# Sent with every dashboard page: no caching of private pages, no framing (the forms act
# on a click), scripts and styles only from this server, and no Referer, so the address
# of a page never reaches the image hosts it shows.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src * data: blob:; script-src 'self'; style-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}

# Notices a redirect may ask a page to show (`?notice=`); only these texts are shown.
NOTICES = {
    "signed-out": "You are signed out.",
    "expired": "Your session expired. Sign in again.",
    "sign-in": "Sign in to open the dashboard.",
    "secret-changed": "The site's API secret changed. Sign in again with the new one.",
    "locked": "The image is locked: visitors can read but not write.",
    "unlocked": "The image is unlocked.",
    "page-locked": "The page is locked: visitors can read but not write.",
    "page-unlocked": "The page is unlocked.",
    "deleted": "The conversation was deleted.",
    "placed": "The conversation is in its new place.",
    "comment-deleted": "The comment was deleted, with its replies.",
    "banned": "The user is banned.",
    "unbanned": "The ban was lifted.",
    "bounce-forgotten": "The address will get email again.",
    "webhook-removed": "The endpoint was removed.",
    "webhook-tested": "A test event was sent: its outcome is at the top of the deliveries.",
    "sent-again": "The delivery is on its way again, with the same id.",
}


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TEMPLATES = Environment(
    loader=FileSystemLoader(WEB / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["when"] = _when
TEMPLATES.filters["iso"] = _iso
TEMPLATES.filters["address"] = lambda image: image_address(image.src, image.page_url)
TEMPLATES.filters["link"] = web_address
TEMPLATES.filters["author"] = author_of


class SignInRequired(Exception):
    def __init__(self, notice: str, next_path: str | None = None) -> None:
        super().__init__(notice)
        self.notice = notice
        self.next_path = next_path


class CsrfRejected(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Admin:
    """A signed-in dashboard admin and the tenant they manage."""

    session: Session
    tenant: Tenant

    @property
    def name(self) -> str:
        if self.session.method == "sso":
            return self.session.user_name or self.session.user_id or "SSO admin"
        return "API secret holder"

    @property
    def actor(self) -> Actor:
        """Who the dashboard's own moderation actions are recorded as."""
        if self.session.method == "sso" and self.session.user_id:
            return Actor(tenant_id=self.tenant.id, user_id=self.session.user_id,
                         display_name=self.session.user_name, verified=True, is_admin=True)
        return Actor(tenant_id=self.tenant.id, is_backend=True)


def codec(request: Request) -> SessionCodec:
    found: SessionCodec = request.app.state.sessions
    return found


def now_ms(request: Request) -> int:
    return services_of(request).clock.now_ms()


def session_of(request: Request) -> Session | None:
    return codec(request).decode(request.cookies.get(COOKIE))


async def admin_of(request: Request) -> Admin:
    """The signed-in admin, or SignInRequired (the route redirects to the sign-in page)."""
    session = session_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session is None or not session.signed_in or session.tenant_id is None:
        raise SignInRequired("sign-in", here)
    if session.expired(now_ms(request)):
        raise SignInRequired("expired", here)
    try:
        tenant = await services_of(request).tenants.get(session.tenant_id)
    except NotFound:
        raise SignInRequired("sign-in") from None
    if not codec(request).matches_secret(session, tenant.api_secret):
        raise SignInRequired("secret-changed")
    return Admin(session=session, tenant=tenant)


async def form_of(request: Request, session: Session | None) -> dict[str, str]:
    """The posted form's fields, once its CSRF token matched the session's."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ImageChatError("The form is too large.", "too-large")
    try:
        fields = dict(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=50))
    except (UnicodeDecodeError, ValueError):
        raise ImageChatError("The form could not be read.", "bad-form") from None
    if session is None or not csrf_ok(session, fields.get("csrf")):
        raise CsrfRejected
    return fields


def set_session(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE, codec(request).encode(session),
        max_age=max(0, (session.expires_at - now_ms(request)) // 1000), path=COOKIE_PATH,
        httponly=True, samesite="lax", secure=request.url.scheme == "https",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")


def render(
    request: Request, template: str, *, status: int = 200, admin: Admin | None = None,
    **context: Any,
) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    html = TEMPLATES.get_template(template).render(
        request=request, admin=admin, csrf=admin.session.csrf if admin else context.pop(
            "csrf", ""), notice=notice, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(path: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303,
                            headers={"Cache-Control": "no-store"})


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only back into the dashboard, never elsewhere."""
    where = (value or "").partition("?")[0]
    if where.startswith("/dashboard/") and "//" not in where and "\\" not in (value or ""):
        return value or ""
    return "/dashboard/usage"


def list_query(request: Request) -> tuple[int, str]:
    """The page number and the sort ("recent" or "oldest") a list is asked for."""
    query = request.query_params
    raw = query.get("page")
    if raw and (not raw.isdigit() or not 1 <= int(raw) <= 1_000_000):
        raise BadInput("`page` is a page number (1, 2, ...).", "invalid-page")
    return int(raw or 1), "oldest" if query.get("sort") == "oldest" else "recent"


def services(request: Request) -> Services:
    return services_of(request)


Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class DashboardRoute(APIRoute):
    """Errors become pages (or a redirect to sign in), never the API's JSON."""

    def get_route_handler(self) -> Endpoint:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return redirect("/dashboard/sign-in", notice=exc.notice,
                                next=(exc.next_path or "") if request.method == "GET" else "")
            except CsrfRejected:
                return render(request, "error.html", status=403, title="Form refused",
                              reason="The form expired or was sent from another site. "
                                     "Go back, reload the page and try again.")
            except ImageChatError as exc:
                return render(request, "error.html", status=exc.status,
                              title="That did not work", reason=exc.reason)

        return guarded
