"""Signed session cookies for the tenant dashboard.

Stateless: the cookie itself says who signed in, for which tenant, until when, and holds
the session's CSRF token, signed with the server's session secret (HMAC-SHA256). Nothing
is kept on the server, so any node with the same secret accepts the cookie, and:
- signing out deletes the cookie from the browser; a copy taken before stays valid until
  it expires (`SESSION_TTL_MS`), or until the tenant's API secret is rotated, since every
  session carries a tag of the secret it was opened under;
- without a configured secret (`IMAGECHAT_SESSION_SECRET`) the key is random per start,
  and a restart signs everybody out.

A visitor of the sign-in page gets an anonymous session first: it only carries the CSRF
token the sign-in form must return. Signing in replaces it with a new session and a new
token, so a token seen before signing in is worthless after.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any, Literal

import orjson

# A signed-in session lasts this long, then the admin signs in again.
SESSION_TTL_MS = 12 * 3_600_000
# The sign-in form's anonymous session: long enough to fill the form in.
SIGN_IN_TTL_MS = 2 * 3_600_000
# A configured session secret shorter than this is refused at start.
MIN_SECRET_CHARS = 16
# Cookies longer than this are not ours (browsers allow about 4 KB per cookie).
MAX_COOKIE_CHARS = 3000

Method = Literal["secret", "sso"]


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    expires_at: int
    tenant_id: str | None = None
    # How the admin proved it: the tenant's API secret, or a Secure SSO admin token.
    method: Method | None = None
    # The SSO admin's id and name (empty for the API secret).
    user_id: str | None = None
    user_name: str | None = None
    # Ties the session to the API secret it was opened under (see SessionCodec.secret_tag).
    secret_tag: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.tenant_id is not None

    def expired(self, now_ms: int) -> bool:
        return now_ms >= self.expires_at


class SessionCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_setting(cls, configured: str) -> SessionCodec:
        """The configured secret, or a random key for this process when none is set."""
        if not configured:
            return cls(secrets.token_bytes(32))
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(f"IMAGECHAT_SESSION_SECRET needs at least {MIN_SECRET_CHARS} "
                             "characters (use a long random string).")
        return cls(configured.encode())

    def _mac(self, purpose: bytes, data: bytes) -> bytes:
        return hmac.new(self._key, purpose + b"\x00" + data, hashlib.sha256).digest()

    def secret_tag(self, api_secret: str) -> str:
        """A short keyed digest of an API secret: it shows whether the secret changed,
        and nothing about the secret itself (the cookie is readable by its holder)."""
        return _b64(self._mac(b"api-secret", api_secret.encode())[:12])

    def encode(self, session: Session) -> str:
        payload = _b64(orjson.dumps({k: v for k, v in asdict(session).items()
                                     if v is not None}))
        return f"{payload}.{_b64(self._mac(b'session', payload.encode()))}"

    def decode(self, value: str | None) -> Session | None:
        """The session in a cookie, or None if it is missing, altered or not ours.
        Expiry is the caller's to check (it tells the admin why they must sign in)."""
        if not value or len(value) > MAX_COOKIE_CHARS or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        expected = _b64(self._mac(b"session", payload.encode()))
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            return None
        try:
            data: Any = orjson.loads(_unb64(payload))
            return Session(**data) if isinstance(data, dict) else None
        except (orjson.JSONDecodeError, binascii.Error, ValueError, TypeError):
            return None

    @staticmethod
    def anonymous(now_ms: int) -> Session:
        return Session(csrf=_token(), expires_at=now_ms + SIGN_IN_TTL_MS)

    def signed_in(
        self, tenant_id: str, api_secret: str, method: Method, now_ms: int, *,
        user_id: str | None = None, user_name: str | None = None,
    ) -> Session:
        return Session(csrf=_token(), expires_at=now_ms + SESSION_TTL_MS, tenant_id=tenant_id,
                       method=method, user_id=user_id, user_name=user_name,
                       secret_tag=self.secret_tag(api_secret))

    def matches_secret(self, session: Session, api_secret: str) -> bool:
        return session.secret_tag is not None and hmac.compare_digest(
            session.secret_tag.encode(), self.secret_tag(api_secret).encode())


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf.encode(),
                                                   str(presented).encode())


def _token() -> str:
    return secrets.token_urlsafe(24)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

