"""Which web pages may talk to a tenant: its allowed origins (docs/data-model.md, Identity).

One rule for both doors: the REST API's CORS answers and the live handshake's Origin
check. A tenant with no origins listed (like `demo`), or with `*`, accepts any page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from imagechat.domain.models import Tenant


def normalize_origin(origin: str) -> str:
    # Scheme and host are case-insensitive; browsers send them lowercased.
    return origin.strip().rstrip("/").lower()


def origin_allowed(tenant: Tenant, origin: str) -> bool:
    allowed = tenant.allowed_origins
    if not allowed or "*" in allowed:
        return True
    wanted = normalize_origin(origin)
    return any(normalize_origin(a) == wanted for a in allowed)


def same_host(origin: str, host: str | None) -> bool:
    """A page of this very server (the demo, the dashboard): its origin names the host the
    request was sent to. Such pages may always connect, whatever the tenant lists."""
    if not host:
        return False
    return urlsplit(normalize_origin(origin)).netloc == host.strip().lower()
