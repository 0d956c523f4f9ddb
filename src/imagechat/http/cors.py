"""CORS by tenant: a browser page may call a tenant's routes only from an allowed origin.

The widget runs on customers' pages and calls this server cross-origin. Each tenant lists
the origins of its sites (`imagechat tenant origins`); none listed means any page, as for
the `demo` tenant. A request from another page is refused with 403 before it reaches a
route, rather than merely hidden from the page: writes from a foreign page never happen.
No cookies are involved (identity travels as SSO tokens and edit keys), so answers never
allow credentials. The server-to-server API is not offered to browsers at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagechat.auth.origins import origin_allowed, same_host
from imagechat.domain import rules
from imagechat.domain.errors import ImageChatError
from imagechat.domain.models import Tenant

# First path segment of the routes whose second segment is a tenant id.
TENANT_ROUTES = frozenset(
    {"comment-image-chats", "comments", "event-log", "events", "lock-image", "ban-user",
     "user-search", "image-versions", "annotations"})
# First path segment of the routes that name their tenant in the query (`tenantId`), as
# the reference's do.
QUERY_TENANT_ROUTES = frozenset({"user-notifications"})
# Public files any page may fetch (the widget's script and styles, the demo).
PUBLIC_PREFIXES = ("/js/", "/css/", "/demo", "/healthz")
ALLOWED_METHODS = "GET, POST, DELETE"
ALLOWED_HEADERS = frozenset({"content-type"})
EXPOSED_HEADERS = "Retry-After"
# The Web Annotation Protocol's routes take more methods and headers, and clients must read
# the headers of their answers (ETag for If-Match, Link, Location, ...).
ANNOTATION_PREFIX = "/annotations/"
ANNOTATION_METHODS = "GET, HEAD, POST, PUT, DELETE"
ANNOTATION_HEADERS = frozenset({"content-type", "accept", "prefer", "if-match"})
ANNOTATION_EXPOSED = ("Retry-After, ETag, Link, Allow, Vary, Location, Content-Location, "
                      "Accept-Post, Preference-Applied, ImageChat-Edit-Key")
# Browsers may cache a preflight answer this long (seconds): origins change rarely.
PREFLIGHT_MAX_AGE_SECS = 600


def _tenant_id(path: str, query: bytes) -> str | None:
    parts = path.split("/", 3)
    if len(parts) >= 3 and parts[1] in TENANT_ROUTES and parts[2]:
        return parts[2]
    if len(parts) >= 2 and parts[1] in QUERY_TENANT_ROUTES:
        # Without a tenant the route answers 400 itself; an empty id finds no tenant here.
        found = parse_qs(query.decode("latin-1")).get("tenantId")
        return found[0] if found else ""
    return None


class TenantCORSMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Most requests carry no Origin (same-origin pages, servers): one scan of the raw
        # headers settles those without building a Headers mapping.
        if not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or same_host(origin, headers.get("host")):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        preflight = (scope["method"] == "OPTIONS"
                     and "access-control-request-method" in headers)
        tenant_id = _tenant_id(path, scope.get("query_string", b""))
        if tenant_id is None:
            if path.startswith(PUBLIC_PREFIXES) and not preflight:
                await self.app(scope, receive, self._with_cors(send, "*"))
            elif preflight:
                await _refuse(send, 400, "Cross-origin calls are not offered on this path.",
                              "cors-not-offered")
            else:
                await self.app(scope, receive, send)
            return
        tenant = await self._tenant(scope, tenant_id)
        if tenant is None:  # unknown tenant or bad id: the route gives the right error
            await self.app(scope, receive, send)
            return
        if not origin_allowed(tenant, origin):
            await _refuse(send, 403, f"This site does not accept calls from {origin[:200]}.",
                          "origin-not-allowed")
            return
        allow = "*" if not tenant.allowed_origins or "*" in tenant.allowed_origins else origin
        annotations = path.startswith(ANNOTATION_PREFIX)
        if preflight:
            await self._preflight(headers, allow, send, annotations)
            return
        await self.app(scope, receive, self._with_cors(
            send, allow, ANNOTATION_EXPOSED if annotations else EXPOSED_HEADERS))

    async def _tenant(self, scope: Scope, tenant_id: str) -> Tenant | None:
        try:
            rules.require_id(tenant_id, "tenantId")
            services: Any = scope["app"].state.services
            tenant: Tenant = await services.tenants.get(tenant_id)
        except ImageChatError:
            return None
        return tenant

    async def _preflight(self, headers: Headers, allow: str, send: Send,
                         annotations: bool = False) -> None:
        method = headers["access-control-request-method"].upper()
        requested = {h.strip().lower() for h in
                     headers.get("access-control-request-headers", "").split(",") if h.strip()}
        methods = ANNOTATION_METHODS if annotations else ALLOWED_METHODS
        allowed_headers = ANNOTATION_HEADERS if annotations else ALLOWED_HEADERS
        if method not in methods.split(", ") or not requested <= allowed_headers:
            await _refuse(send, 400, "This method or header is not allowed cross-origin.",
                          "cors-not-allowed")
            return
        response_headers = [
            (b"access-control-allow-origin", allow.encode("latin-1")),
            (b"access-control-allow-methods", methods.encode()),
            (b"access-control-allow-headers",
             ", ".join(sorted(allowed_headers)).encode() if annotations else b"Content-Type"),
            (b"access-control-max-age", str(PREFLIGHT_MAX_AGE_SECS).encode()),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})

    def _with_cors(self, send: Send, allow: str, exposed: str = EXPOSED_HEADERS) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"access-control-allow-origin", allow.encode("latin-1")),
                         (b"access-control-expose-headers", exposed.encode())]
                if allow != "*":
                    extra.append((b"vary", b"Origin"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return wrapped


async def _refuse(send: Send, status: int, reason: str, code: str) -> None:
    body = orjson.dumps({"status": "failed", "reason": reason, "code": code})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
