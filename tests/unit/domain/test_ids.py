"""Identifiers and secrets: shape, randomness, and hashed edit keys."""

from __future__ import annotations

import re

import pytest

from imagechat.domain.ids import hash_key, key_matches, new_edit_key, new_id, new_secret


def test_new_id_is_24_lowercase_hex() -> None:
    for _ in range(50):
        assert re.fullmatch(r"[0-9a-f]{24}", new_id())


def test_new_ids_do_not_repeat() -> None:
    assert len({new_id() for _ in range(1000)}) == 1000


def test_secrets_and_edit_keys_are_url_safe_and_unique() -> None:
    secrets_ = {new_secret() for _ in range(200)}
    keys = {new_edit_key() for _ in range(200)}
    assert len(secrets_) == 200 and len(keys) == 200
    for value in secrets_ | keys:
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", value)
    assert all(len(s) >= 40 for s in secrets_)  # 32 random bytes
    assert all(len(k) >= 32 for k in keys)  # 24 random bytes


def test_hash_key_is_stable_and_does_not_reveal_the_key() -> None:
    key = new_edit_key()
    digest = hash_key(key)
    assert digest == hash_key(key)
    assert key not in digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_key(key + "x") != digest


def test_key_matches_the_right_key() -> None:
    key = new_edit_key()
    assert key_matches(key, hash_key(key))


@pytest.mark.parametrize("presented", ["", "wrong", "KEY", "key ", " key"])
def test_key_matches_refuses_other_keys(presented: str) -> None:
    assert not key_matches(presented, hash_key("key"))


@pytest.mark.parametrize("presented", ["\ud800", "ké", "\udcff" * 32])
def test_key_matches_refuses_text_no_key_is_made_of(presented: str) -> None:
    """Keys are URL-safe base64; a lone surrogate (which JSON bodies can carry) cannot even
    be encoded for hashing, and must be a plain mismatch rather than a crash."""
    assert not key_matches(presented, hash_key("key"))


def test_key_matches_refuses_when_nothing_is_stored() -> None:
    assert not key_matches("key", None)
    assert not key_matches("key", "")


def test_the_stored_hash_itself_is_not_a_key() -> None:
    stored = hash_key("key")
    assert not key_matches(stored, stored)


def test_empty_key_never_matches_even_its_own_hash() -> None:
    assert not key_matches("", hash_key(""))
