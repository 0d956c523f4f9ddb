"""Secure and Simple SSO (docs/data-model.md, Identity).

Secure SSO: the site signs its user with the tenant's API secret.
    token = {"userDataJSONBase64": b64, "verificationHash": hex, "timestamp": ms}
    hash  = lowercase hex HMAC-SHA256(key=API secret, msg=str(timestamp) + b64)
The hash is checked over the base64 exactly as received (re-encoding could change it),
in constant time. Simple SSO is an unsigned user object, accepted only where the tenant
enables it, and never grants moderator or admin rights.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import orjson

from imagechat.domain import limits
from imagechat.domain.errors import NotAuthenticated

# A language tag as sites send it ("en", "pt-BR", "de_AT"); anything else is ignored.
_LOCALE_RE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,2}")


class SSOError(NotAuthenticated):
    code = "sso-invalid"


@dataclass(frozen=True, slots=True)
class SSOUser:
    id: str
    email: str | None = None
    username: str | None = None
    display_name: str | None = None
    avatar: str | None = None
    is_admin: bool = False
    is_moderator: bool = False
    group_ids: tuple[str, ...] = ()
    # The user's language as a BCP 47 tag ("pl", "de-AT"), for their emails.
    locale: str | None = None

    @property
    def name(self) -> str | None:
        return self.display_name or self.username


def sign(api_secret: str, timestamp_ms: int, user_data_b64: str) -> str:
    message = f"{timestamp_ms}{user_data_b64}".encode()
    return hmac.new(api_secret.encode(), message, hashlib.sha256).hexdigest()


def make_token(api_secret: str, user: dict[str, Any], timestamp_ms: int) -> dict[str, Any]:
    """What a site's backend does to sign a user (used by the demo and the tests)."""
    b64 = base64.b64encode(orjson.dumps(user)).decode()
    return {"userDataJSONBase64": b64, "verificationHash": sign(api_secret, timestamp_ms, b64),
            "timestamp": timestamp_ms}


def parse_token(raw: Any) -> dict[str, Any]:
    """Accept the token as an object or as its JSON text (query strings carry text)."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise SSOError("The SSO token is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise SSOError("The SSO token must be a JSON object.")
    return raw


def verify_secure(token: dict[str, Any], api_secret: str, now_ms: int) -> SSOUser:
    b64 = token.get("userDataJSONBase64")
    given_hash = token.get("verificationHash")
    timestamp = token.get("timestamp")
    if not isinstance(b64, str) or not isinstance(given_hash, str):
        raise SSOError("The SSO token needs userDataJSONBase64 and verificationHash.")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise SSOError("The SSO token's timestamp must be an integer (milliseconds).")
    if not (b64.isascii() and given_hash.isascii()):
        # Base64 and hex are ASCII; anything else (a lone surrogate from a JSON escape
        # cannot even be encoded for the HMAC) is not a token we signed.
        raise SSOError("The SSO token's userDataJSONBase64 and verificationHash must be "
                       "ASCII text.")
    expected = sign(api_secret, timestamp, b64)
    if not hmac.compare_digest(expected.encode(), given_hash.lower().encode()):
        raise SSOError("The SSO token's signature does not match.", "sso-bad-signature")
    if timestamp > now_ms + limits.SSO_FUTURE_SKEW_MS:
        raise SSOError("The SSO token's timestamp is in the future.", "sso-expired")
    if now_ms - timestamp > limits.SSO_MAX_AGE_MS:
        raise SSOError("The SSO token is older than two days.", "sso-expired")
    try:
        user = orjson.loads(base64.b64decode(b64, validate=True))
    except (binascii.Error, ValueError):
        raise SSOError("The SSO user data is not base64-encoded JSON.") from None
    return _user_from(user, trusted=True)


# Simple SSO ids are stored with this prefix (see auth.identity), so they get less room.
SIMPLE_ID_PREFIX = "simple:"


def parse_simple(raw: dict[str, Any]) -> SSOUser:
    user = raw.get("simpleSSOUser", raw)
    return _user_from(user, trusted=False,
                      max_id_chars=limits.MAX_ID_CHARS - len(SIMPLE_ID_PREFIX))


def _storable(text: str) -> bool:
    """Text a database column can hold: no NUL, no lone surrogates."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _user_from(data: Any, *, trusted: bool, max_id_chars: int = limits.MAX_ID_CHARS) -> SSOUser:
    if not isinstance(data, dict):
        raise SSOError("The SSO user must be a JSON object.")
    user_id = data.get("id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if (not isinstance(user_id, str) or not user_id or len(user_id) > max_id_chars
            or not _storable(user_id)):
        raise SSOError(f"The SSO user needs an `id` (text of at most {max_id_chars} characters).")

    def text(key: str, max_chars: int) -> str | None:
        value = data.get(key)
        if not isinstance(value, str) or not value or not _storable(value):
            return None
        return value[:max_chars]

    groups = data.get("groupIds")
    locale = text("locale", 16)
    return SSOUser(
        id=user_id,
        email=text("email", 320),
        username=text("username", limits.MAX_NAME_CHARS),
        display_name=text("displayName", limits.MAX_NAME_CHARS),
        avatar=text("avatar", limits.MAX_URL_CHARS),
        is_admin=trusted and data.get("isAdmin") is True,
        is_moderator=trusted and data.get("isModerator") is True,
        group_ids=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list)
        else (),
        locale=locale if locale and _LOCALE_RE.fullmatch(locale) else None,
    )


def looks_simple(token: dict[str, Any]) -> bool:
    return "verificationHash" not in token and ("simpleSSOUser" in token or "id" in token)
