"""Who may change a comment or conversation: its author, a moderator, an admin, the backend."""

from __future__ import annotations

import pytest

from imagechat.domain.actor import Actor
from imagechat.domain.errors import Forbidden
from imagechat.domain.ids import hash_key
from imagechat.domain.permissions import may_change, require_change

KEY = "the-edit-key"
KEY_HASH = hash_key(KEY)


def anon_owned(actor: Actor, key: str | None) -> bool:
    """A thing an anonymous visitor created: no owner user id, an edit key hash."""
    return may_change(actor, owner_user_id=None, edit_key_hash=KEY_HASH, edit_key=key)


def user_owned(actor: Actor, owner: str = "u1", key: str | None = None) -> bool:
    return may_change(actor, owner_user_id=owner, edit_key_hash=None, edit_key=key)


@pytest.mark.parametrize("actor", [
    Actor(tenant_id="t", user_id="mod", is_moderator=True, verified=True),
    Actor(tenant_id="t", user_id="boss", is_admin=True, verified=True),
    Actor(tenant_id="t", is_backend=True),
])
def test_moderators_admins_and_backend_may_change_anything(actor: Actor) -> None:
    assert user_owned(actor)
    assert anon_owned(actor, None)
    assert may_change(actor, owner_user_id=None, edit_key_hash=None, edit_key=None)


def test_signed_in_author_may_change_own() -> None:
    assert user_owned(Actor(tenant_id="t", user_id="u1", verified=True))


def test_other_signed_in_user_may_not() -> None:
    assert not user_owned(Actor(tenant_id="t", user_id="u2", verified=True))


def test_other_signed_in_user_may_not_even_with_a_key() -> None:
    actor = Actor(tenant_id="t", user_id="u2")
    assert not may_change(actor, owner_user_id="u1", edit_key_hash=KEY_HASH, edit_key=KEY)


def test_anonymous_may_not_change_a_signed_in_users_thing() -> None:
    assert not user_owned(Actor(tenant_id="t", anon_user_id="a1"))
    assert not user_owned(Actor(tenant_id="t", anon_user_id="a1"), key=KEY)


def test_anonymous_with_the_right_key_may() -> None:
    assert anon_owned(Actor(tenant_id="t", anon_user_id="a1"), KEY)
    assert anon_owned(Actor(tenant_id="t"), KEY)  # the key alone proves authorship


@pytest.mark.parametrize("key", [None, "", "wrong-key", KEY + "x", KEY_HASH])
def test_anonymous_with_a_wrong_or_missing_key_may_not(key: str | None) -> None:
    assert not anon_owned(Actor(tenant_id="t", anon_user_id="a1"), key)


def test_matching_anon_user_id_without_key_proves_nothing() -> None:
    # anonUserId is public (it shows up in presence), so it must never grant edit rights.
    actor = Actor(tenant_id="t", anon_user_id="a1")
    assert not may_change(actor, owner_user_id=None, edit_key_hash=KEY_HASH, edit_key=None)


def test_key_is_useless_when_nothing_was_stored() -> None:
    actor = Actor(tenant_id="t", anon_user_id="a1")
    assert not may_change(actor, owner_user_id=None, edit_key_hash=None, edit_key=KEY)


def test_signed_in_user_with_the_key_of_an_anonymous_thing_may() -> None:
    # A visitor who wrote anonymously and later signed in still holds the key.
    actor = Actor(tenant_id="t", user_id="u9")
    assert anon_owned(actor, KEY)
    assert not anon_owned(actor, None)


def test_require_change_raises_forbidden() -> None:
    with pytest.raises(Forbidden) as info:
        require_change(Actor(tenant_id="t", user_id="u2"), "comment", owner_user_id="u1",
                       edit_key_hash=None, edit_key=None)
    assert info.value.status == 403
    assert info.value.code == "not-author"
    assert "comment" in info.value.reason


def test_require_change_passes_for_the_author() -> None:
    require_change(Actor(tenant_id="t", user_id="u1"), "comment", owner_user_id="u1",
                   edit_key_hash=None, edit_key=None)
