"""Signed one-click unsubscribe links (RFC 8058): who may turn a user's email off without
signing in is whoever holds the link we mailed to them.

The signature is an HMAC of the tenant and the user id, keyed by a key derived from the
tenant's API secret, so every node can check it without shared state, and a link made for
one user (or one site) is worth nothing for another. Rotating the site's API secret voids
the links of every email sent before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import orjson

PATH = "/email/unsubscribe"
# Separates the unsubscribe key from every other use of the API secret.
_PURPOSE = b"imagechat email unsubscribe v1"


def _key(api_secret: str) -> bytes:
    return hmac.new(api_secret.encode(), _PURPOSE, hashlib.sha256).digest()


def signature(api_secret: str, tenant_id: str, user_id: str) -> str:
    # JSON keeps the two apart whatever characters the user id holds.
    signed = orjson.dumps([tenant_id, user_id])
    mac = hmac.new(_key(api_secret), signed, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def valid(api_secret: str, tenant_id: str, user_id: str, given: str) -> bool:
    try:
        expected = signature(api_secret, tenant_id, user_id)
    except orjson.JSONEncodeError:  # text no user id can be (a lone surrogate)
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def link(public_url: str, api_secret: str, tenant_id: str, user_id: str) -> str:
    """The absolute link for one user; GET shows a button, POST unsubscribes."""
    query = urlencode({"tenantId": tenant_id, "user": user_id,
                       "sig": signature(api_secret, tenant_id, user_id)})
    return f"{public_url.rstrip('/')}{PATH}?{query}"
