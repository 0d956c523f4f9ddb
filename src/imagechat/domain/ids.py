"""Identifiers and secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_id() -> str:
    """24 hex characters: the shape of the reference's ids, 96 random bits."""
    return secrets.token_hex(12)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_edit_key() -> str:
    return secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    """Edit keys are stored hashed: a leaked database does not hand out edit rights."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str | None) -> bool:
    # Our keys are URL-safe base64 (ASCII). Anything else cannot match, and a lone
    # surrogate from a JSON escape could not even be encoded for hashing.
    if not stored_hash or not key or not key.isascii():
        return False
    return hmac.compare_digest(hash_key(key), stored_hash)
