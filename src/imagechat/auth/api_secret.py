"""Server-to-server calls: authenticated with the tenant's API secret."""

from __future__ import annotations

import hmac

from imagechat.domain.actor import Actor
from imagechat.domain.errors import NotAuthenticated
from imagechat.domain.models import Tenant


def backend_actor(tenant: Tenant, presented: str | None) -> Actor:
    """The site's own backend, once it has shown the tenant's API secret."""
    if not presented:
        raise NotAuthenticated("Send the tenant's API secret in the X-API-Key header.",
                               "api-key-missing")
    if not hmac.compare_digest(presented.encode(), tenant.api_secret.encode()):
        raise NotAuthenticated("The API secret does not match this tenant.", "api-key-invalid")
    return Actor(tenant_id=tenant.id, is_backend=True)
