"""Resolving who is acting from what a request carries."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from imagechat.auth import sso
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import NotAuthenticated
from imagechat.domain.models import Tenant
from imagechat.domain.text import plain_name

SIMPLE_ID_PREFIX = sso.SIMPLE_ID_PREFIX


def resolve_actor(
    tenant: Tenant, *, sso_token: Any, anon_user_id: Any, now_ms: int
) -> Actor:
    """A visitor as the tenant sees it: signed in through SSO, or anonymous.

    A present but invalid SSO token is an error, never a silent fall-back to anonymous:
    the site meant to sign the user in.
    """
    anon = rules.optional_id(anon_user_id, "anonUserId")
    if sso_token is None or sso_token == "":
        return Actor(tenant_id=tenant.id, anon_user_id=anon)
    token = sso.parse_token(sso_token)
    if sso.looks_simple(token):
        if not tenant.allow_simple_sso:
            raise NotAuthenticated("Simple SSO is not enabled for this site.",
                                   "simple-sso-disabled")
        user = sso.parse_simple(token)
        # Unsigned ids live in their own namespace: a Simple SSO visitor claiming the id of
        # a signed-in (Secure SSO) user must not become that user.
        user = replace(user, id=f"{SIMPLE_ID_PREFIX}{user.id}")
        verified = False
    else:
        user = sso.verify_secure(token, tenant.api_secret, now_ms)
        verified = True
    return Actor(
        tenant_id=tenant.id,
        user_id=user.id,
        anon_user_id=anon,
        display_name=plain_name(user.name or "", limits.MAX_NAME_CHARS) or None,
        email=user.email,
        locale=user.locale,
        avatar=user.avatar,
        verified=verified,
        is_admin=user.is_admin,
        is_moderator=user.is_moderator,
    )


def require_writer(tenant: Tenant, actor: Actor) -> None:
    """Writing needs a signed-in user, or a tenant that lets anonymous visitors write."""
    if actor.is_signed_in or actor.is_backend:
        return
    if not tenant.allow_anonymous:
        raise NotAuthenticated("This site requires signing in to write.", "sign-in-required")
