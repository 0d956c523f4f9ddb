"""Signed dashboard session cookies."""

from __future__ import annotations

import pytest

from imagechat.auth.sessions import (
    SESSION_TTL_MS,
    SIGN_IN_TTL_MS,
    Session,
    SessionCodec,
    csrf_ok,
)

NOW = 1_700_000_000_000


@pytest.fixture
def codec() -> SessionCodec:
    return SessionCodec.from_setting("a-long-enough-session-secret")


def test_a_session_survives_the_round_trip(codec: SessionCodec) -> None:
    session = codec.signed_in("acme", "api-secret", "sso", NOW, user_id="u1", user_name="Ann")
    back = codec.decode(codec.encode(session))
    assert back == session
    assert back is not None and back.signed_in and back.method == "sso"
    assert back.expires_at == NOW + SESSION_TTL_MS
    assert not back.expired(NOW + SESSION_TTL_MS - 1) and back.expired(NOW + SESSION_TTL_MS)


def test_anonymous_sessions_only_carry_a_csrf_token(codec: SessionCodec) -> None:
    session = codec.anonymous(NOW)
    assert not session.signed_in and session.expires_at == NOW + SIGN_IN_TTL_MS
    assert codec.decode(codec.encode(session)) == session
    assert session.csrf != codec.anonymous(NOW).csrf


def test_an_altered_cookie_is_refused(codec: SessionCodec) -> None:
    value = codec.encode(codec.anonymous(NOW))
    payload, mac = value.split(".")
    forged = Session(csrf="x", expires_at=NOW * 2, tenant_id="acme", method="secret",
                     secret_tag="t")
    forged_payload = SessionCodec.from_setting("another-secret-of-16+").encode(forged)
    for bad in [f"{payload}x.{mac}", f"{payload}.{mac[:-2]}", forged_payload,
                f"{forged_payload.split('.')[0]}.{mac}", "", "no-dot", "a.b.c", "." * 5000]:
        assert codec.decode(bad) is None, bad


def test_random_keys_differ_per_start() -> None:
    first, second = SessionCodec.from_setting(""), SessionCodec.from_setting("")
    assert second.decode(first.encode(first.anonymous(NOW))) is None


def test_a_short_configured_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        SessionCodec.from_setting("short")


def test_the_session_is_tied_to_the_api_secret(codec: SessionCodec) -> None:
    session = codec.signed_in("acme", "secret-1", "secret", NOW)
    assert codec.matches_secret(session, "secret-1")
    assert not codec.matches_secret(session, "secret-2")
    assert session.secret_tag is not None and "secret-1" not in session.secret_tag
    assert not codec.matches_secret(codec.anonymous(NOW), "secret-1")


def test_csrf_token_comparison(codec: SessionCodec) -> None:
    session = codec.anonymous(NOW)
    assert csrf_ok(session, session.csrf)
    for bad in (None, "", session.csrf[:-1], session.csrf + "x", "é"):
        assert not csrf_ok(session, bad)
