"""Who is acting: anonymous, Secure SSO, Simple SSO; and who may write."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

import pytest

from imagechat.auth.identity import require_writer, resolve_actor
from imagechat.auth.sso import SSOError
from imagechat.domain import limits
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotAuthenticated
from imagechat.domain.models import Tenant
from imagechat.domain.permissions import may_change

SECRET = "tenant-secret"
NOW = 1_700_000_000_000

TENANT = Tenant(id="t1", name="Site", api_secret=SECRET, allow_anonymous=True,
                allow_simple_sso=False, allowed_origins=(), created_at=0)


def secure(user: dict[str, Any], *, secret: str = SECRET, ts: int = NOW) -> dict[str, Any]:
    b64 = base64.b64encode(json.dumps(user).encode()).decode()
    digest = hmac.new(secret.encode(), f"{ts}{b64}".encode(), hashlib.sha256).hexdigest()
    return {"userDataJSONBase64": b64, "verificationHash": digest, "timestamp": ts}


def resolve(token: Any, tenant: Tenant = TENANT, anon: Any = None) -> Actor:
    return resolve_actor(tenant, sso_token=token, anon_user_id=anon, now_ms=NOW + 1000)


# --- anonymous -----------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_anonymous(token: Any) -> None:
    actor = resolve(token, anon="anon-abc")
    assert actor.tenant_id == "t1"
    assert actor.user_id is None and not actor.is_signed_in
    assert actor.anon_user_id == "anon-abc"
    assert not actor.verified and not actor.can_moderate
    assert actor.ws_user_id == "anon-abc"


def test_anonymous_without_anon_id() -> None:
    actor = resolve(None)
    assert actor.anon_user_id is None and actor.user_id is None


def test_bad_anon_id_is_refused() -> None:
    with pytest.raises(BadInput):
        resolve(None, anon="<script>")


# --- Secure SSO ----------------------------------------------------------------------


def test_secure_sso_actor() -> None:
    actor = resolve(secure({"id": "u1", "email": "u@example.com", "username": "uname",
                            "avatar": "https://cdn.example.com/u.png"}), anon="anon-1")
    assert actor.user_id == "u1" and actor.is_signed_in
    assert actor.verified is True
    assert actor.display_name == "uname"
    assert actor.email == "u@example.com"
    assert actor.avatar == "https://cdn.example.com/u.png"
    assert actor.ws_user_id == "u1"
    assert not actor.is_admin and not actor.is_moderator


def test_secure_sso_token_as_json_text() -> None:
    actor = resolve(json.dumps(secure({"id": "u1"})))
    assert actor.user_id == "u1" and actor.verified


def test_display_name_prefers_display_name() -> None:
    actor = resolve(secure({"id": "u1", "username": "uname", "displayName": "Nice Name"}))
    assert actor.display_name == "Nice Name"


def test_no_name_gives_none() -> None:
    assert resolve(secure({"id": "u1"})).display_name is None


def test_html_is_stripped_from_names() -> None:
    actor = resolve(secure({"id": "u1", "displayName": "<b>Bob</b> <script>x()</script>"}))
    assert actor.display_name == "Bob"
    actor = resolve(secure({"id": "u1", "username": '<img src=x onerror="alert(1)">Eve'}))
    assert actor.display_name == "Eve"


def test_name_of_only_markup_gives_none() -> None:
    assert resolve(secure({"id": "u1", "displayName": "<i></i>"})).display_name is None


def test_name_is_cut_to_the_limit() -> None:
    actor = resolve(secure({"id": "u1", "displayName": "n" * 1000}))
    assert actor.display_name == "n" * limits.MAX_NAME_CHARS


def test_name_with_ampersand_is_kept_as_text() -> None:
    # A display name is text: "&" must not turn into an entity, let alone half of one when
    # the name is cut to the limit.
    assert resolve(secure({"id": "u1", "displayName": "Tom & Jerry"})).display_name == (
        "Tom & Jerry"
    )
    name = "a" * (limits.MAX_NAME_CHARS - 2) + "&b"  # exactly at the limit
    assert resolve(secure({"id": "u1", "displayName": name})).display_name == name


def test_secure_sso_roles_are_honoured() -> None:
    actor = resolve(secure({"id": "boss", "isAdmin": True, "isModerator": True}))
    assert actor.is_admin and actor.is_moderator and actor.can_moderate


def test_invalid_secure_token_is_an_error_not_anonymous() -> None:
    token = secure({"id": "u1"}, secret="someone-elses-secret")
    with pytest.raises(SSOError) as info:
        resolve(token, anon="anon-1")
    assert info.value.status == 401
    assert info.value.code == "sso-bad-signature"


def test_expired_secure_token_is_an_error() -> None:
    token = secure({"id": "u1"}, ts=NOW - limits.SSO_MAX_AGE_MS - 10_000)
    with pytest.raises(SSOError) as info:
        resolve(token)
    assert info.value.code == "sso-expired"


@pytest.mark.parametrize("token", ["garbage", "null", "[]", {}, {"timestamp": NOW}, 5])
def test_malformed_token_is_an_error(token: Any) -> None:
    with pytest.raises(NotAuthenticated) as info:
        resolve(token)
    assert info.value.status == 401


# --- Simple SSO ----------------------------------------------------------------------


SIMPLE_TENANT = replace(TENANT, allow_simple_sso=True)


@pytest.mark.parametrize("token", [
    {"id": "s1", "username": "sam"},
    {"simpleSSOUser": {"id": "s1", "username": "sam"}},
    json.dumps({"simpleSSOUser": {"id": "s1", "username": "sam"}}),
])
def test_simple_sso_refused_when_tenant_disallows(token: Any) -> None:
    with pytest.raises(NotAuthenticated) as info:
        resolve(token)
    assert info.value.code == "simple-sso-disabled"
    assert info.value.status == 401


@pytest.mark.parametrize("token", [
    {"id": "s1", "username": "sam", "isAdmin": True, "isModerator": True},
    {"simpleSSOUser": {"id": "s1", "username": "sam", "isAdmin": True, "isModerator": True}},
])
def test_simple_sso_accepted_unverified_when_allowed(token: Any) -> None:
    actor = resolve(token, tenant=SIMPLE_TENANT)
    assert actor.user_id == "simple:s1" and actor.is_signed_in
    assert actor.verified is False
    assert actor.display_name == "sam"
    assert not actor.is_admin and not actor.is_moderator and not actor.can_moderate


def test_simple_sso_name_is_stripped_too() -> None:
    actor = resolve({"id": "s1", "displayName": "<a href='x'>Sam</a>"}, tenant=SIMPLE_TENANT)
    assert actor.display_name == "Sam"


def test_secure_sso_still_works_where_simple_is_allowed() -> None:
    actor = resolve(secure({"id": "u1"}), tenant=SIMPLE_TENANT)
    assert actor.verified is True


# --- require_writer ------------------------------------------------------------------


CLOSED = replace(TENANT, allow_anonymous=False)


def test_anonymous_may_write_where_allowed() -> None:
    require_writer(TENANT, Actor(tenant_id="t1", anon_user_id="a1"))  # no error


def test_anonymous_refused_where_sign_in_required() -> None:
    for actor in (Actor(tenant_id="t1", anon_user_id="a1"), Actor(tenant_id="t1")):
        with pytest.raises(NotAuthenticated) as info:
            require_writer(CLOSED, actor)
        assert info.value.code == "sign-in-required"
        assert info.value.status == 401


def test_signed_in_and_backend_may_write_where_sign_in_required() -> None:
    require_writer(CLOSED, Actor(tenant_id="t1", user_id="u1", verified=True))
    require_writer(CLOSED, Actor(tenant_id="t1", user_id="s1", verified=False))
    require_writer(CLOSED, Actor(tenant_id="t1", is_backend=True))


def test_simple_sso_cannot_take_over_a_secure_sso_users_id() -> None:
    """An unsigned claim of id `s1` is not the signed-in user `s1`."""
    claimed = resolve({"id": "s1"}, tenant=SIMPLE_TENANT)
    assert claimed.user_id != "s1"
    assert not may_change(claimed, owner_user_id="s1", edit_key_hash=None, edit_key=None)
