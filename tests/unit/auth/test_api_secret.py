"""Server-to-server calls authenticate with the tenant's API secret."""

from __future__ import annotations

import pytest

from imagechat.auth.api_secret import backend_actor
from imagechat.domain.errors import NotAuthenticated
from imagechat.domain.models import Tenant

TENANT = Tenant(id="t1", name="Site", api_secret="s3cret-value", allow_anonymous=True,
                allow_simple_sso=False, allowed_origins=(), created_at=0)


@pytest.mark.parametrize("presented", [None, ""])
def test_missing_key(presented: str | None) -> None:
    with pytest.raises(NotAuthenticated) as info:
        backend_actor(TENANT, presented)
    assert info.value.code == "api-key-missing"
    assert info.value.status == 401


@pytest.mark.parametrize("presented", [
    "wrong", "s3cret-valu", "s3cret-value ", "S3CRET-VALUE", "s3cret-value-and-more", "ключ",
])
def test_wrong_key(presented: str) -> None:
    with pytest.raises(NotAuthenticated) as info:
        backend_actor(TENANT, presented)
    assert info.value.code == "api-key-invalid"
    assert info.value.status == 401


def test_other_tenants_key_is_wrong() -> None:
    other = Tenant(id="t2", name="Other", api_secret="other-secret", allow_anonymous=True,
                   allow_simple_sso=False, allowed_origins=(), created_at=0)
    with pytest.raises(NotAuthenticated):
        backend_actor(TENANT, other.api_secret)


def test_right_key() -> None:
    actor = backend_actor(TENANT, "s3cret-value")
    assert actor.is_backend is True
    assert actor.tenant_id == "t1"
    assert actor.user_id is None
    assert actor.can_moderate
