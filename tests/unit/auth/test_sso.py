"""Secure and Simple SSO (docs/data-model.md, Identity): signature, clock window, token
shape, roles."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from imagechat.auth import sso
from imagechat.auth.sso import SSOError
from imagechat.domain import limits
from imagechat.domain.errors import NotAuthenticated

# The worked example of docs/data-model.md (Identity), byte for byte.
SECRET = "test-api-secret"
TS = 1_700_000_000_000
EXAMPLE_B64 = "eyJpZCI6IjEyMyIsImVtYWlsIjoidGVzdEBleGFtcGxlLmNvbSIsInVzZXJuYW1lIjoidGVzdGVyIn0="
EXAMPLE_HASH = "f7e13d510e7f0cb11f027ce8161b8dc0f380df4aa85213ed15a973e34cb9dc2f"
SOON = TS + 5_000  # the server's clock, a few seconds after the site signed


def example_token() -> dict[str, Any]:
    return {"userDataJSONBase64": EXAMPLE_B64, "verificationHash": EXAMPLE_HASH, "timestamp": TS}


def signed(user: Any, *, secret: str = SECRET, ts: int = TS) -> dict[str, Any]:
    """Sign like a site's backend would, independently of the code under test."""
    b64 = base64.b64encode(json.dumps(user).encode()).decode()
    return signed_b64(b64, secret=secret, ts=ts)


def signed_b64(b64: str, *, secret: str = SECRET, ts: int = TS) -> dict[str, Any]:
    digest = hmac.new(secret.encode(), f"{ts}{b64}".encode(), hashlib.sha256).hexdigest()
    return {"userDataJSONBase64": b64, "verificationHash": digest, "timestamp": ts}


def refused(token: Any, now_ms: int = SOON, secret: str = SECRET) -> SSOError:
    with pytest.raises(SSOError) as info:
        sso.verify_secure(sso.parse_token(token), secret, now_ms)
    err = info.value
    assert isinstance(err, NotAuthenticated)
    assert err.status == 401
    return err


# --- the worked example --------------------------------------------------------------


def test_spec_example_verifies() -> None:
    user = sso.verify_secure(example_token(), SECRET, SOON)
    assert user.id == "123"
    assert user.email == "test@example.com"
    assert user.username == "tester"
    assert user.name == "tester"
    assert not user.is_admin and not user.is_moderator


def test_spec_example_verifies_when_sent_as_json_text() -> None:
    user = sso.verify_secure(sso.parse_token(json.dumps(example_token())), SECRET, SOON)
    assert user.id == "123"


def test_make_token_reproduces_spec_example() -> None:
    token = sso.make_token(
        SECRET, {"id": "123", "email": "test@example.com", "username": "tester"}, TS
    )
    assert token == example_token()


def test_make_token_round_trips_every_field() -> None:
    data = {"id": "u-9", "email": "a@b.c", "username": "ann", "displayName": "Ann B.",
            "avatar": "https://cdn.example.com/a.png", "isAdmin": True, "isModerator": True,
            "groupIds": ["g1", "g2", 7]}
    user = sso.verify_secure(sso.make_token(SECRET, data, TS), SECRET, SOON)
    assert user.id == "u-9"
    assert user.display_name == "Ann B."
    assert user.name == "Ann B."  # displayName wins over username
    assert user.avatar == "https://cdn.example.com/a.png"
    assert user.is_admin and user.is_moderator
    assert user.group_ids == ("g1", "g2")  # non-strings dropped


@pytest.mark.parametrize(("given", "kept"), [
    ("pl", "pl"), ("de-AT", "de-AT"), ("pt_BR", "pt_BR"), ("", None), (7, None),
    ("en\nBcc: x", None), ("english please", None), ("x", None)])
def test_the_locale_is_kept_when_it_is_a_language_tag(given: Any, kept: str | None) -> None:
    user = sso.verify_secure(sso.make_token(SECRET, {"id": "u", "locale": given}, TS),
                             SECRET, SOON)
    assert user.locale == kept


# --- signature -----------------------------------------------------------------------


def test_forged_hash_one_hex_digit_changed() -> None:
    last = "0" if EXAMPLE_HASH[-1] != "0" else "1"
    token = example_token() | {"verificationHash": EXAMPLE_HASH[:-1] + last}
    assert refused(token).code == "sso-bad-signature"


def test_another_tenants_secret_does_not_verify() -> None:
    assert refused(example_token(), secret="other-tenant-secret").code == "sso-bad-signature"
    # and a token signed by another tenant is refused by this one
    assert refused(signed({"id": "123"}, secret="other")).code == "sso-bad-signature"


def test_hash_covers_timestamp() -> None:
    token = example_token() | {"timestamp": TS + 1}
    assert refused(token).code == "sso-bad-signature"


def test_tampered_base64_with_original_hash_fails() -> None:
    evil = base64.b64encode(b'{"id":"123","isAdmin":true}').decode()
    token = example_token() | {"userDataJSONBase64": evil}
    assert refused(token).code == "sso-bad-signature"


def test_hash_is_checked_over_received_base64_not_a_re_encoding() -> None:
    # Same JSON as the example but with spaces: decodes to the same user, different base64.
    b64 = base64.b64encode(
        b'{"id": "123", "email": "test@example.com", "username": "tester"}'
    ).decode()
    assert b64 != EXAMPLE_B64
    # Signed over its own base64 it verifies...
    assert sso.verify_secure(signed_b64(b64), SECRET, SOON).id == "123"
    # ...but the example's hash (over the compact encoding) does not.
    token = {"userDataJSONBase64": b64, "verificationHash": EXAMPLE_HASH, "timestamp": TS}
    assert refused(token).code == "sso-bad-signature"


def test_empty_hash_is_refused() -> None:
    assert refused(example_token() | {"verificationHash": ""}).code == "sso-bad-signature"


# --- clock window --------------------------------------------------------------------


def test_future_within_skew_is_accepted() -> None:
    now = TS - limits.SSO_FUTURE_SKEW_MS
    assert sso.verify_secure(example_token(), SECRET, now).id == "123"


def test_future_beyond_skew_is_refused() -> None:
    now = TS - limits.SSO_FUTURE_SKEW_MS - 1
    assert refused(example_token(), now_ms=now).code == "sso-expired"


def test_far_future_is_refused() -> None:
    assert refused(example_token(), now_ms=TS - 24 * 3600 * 1000).code == "sso-expired"


def test_exactly_two_days_old_is_still_accepted() -> None:
    assert limits.SSO_MAX_AGE_MS == 2 * 24 * 60 * 60 * 1000
    now = TS + limits.SSO_MAX_AGE_MS
    assert sso.verify_secure(example_token(), SECRET, now).id == "123"


def test_one_ms_past_two_days_is_refused() -> None:
    now = TS + limits.SSO_MAX_AGE_MS + 1
    assert refused(example_token(), now_ms=now).code == "sso-expired"


def test_a_week_old_is_refused() -> None:
    assert refused(example_token(), now_ms=TS + 7 * 24 * 3600 * 1000).code == "sso-expired"


# --- malformed tokens ----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["not json", "{", "", "[1, 2]", '"a string"', "null", "42"])
def test_token_text_that_is_not_a_json_object(raw: str) -> None:
    with pytest.raises(SSOError) as info:
        sso.parse_token(raw)
    assert info.value.code == "sso-invalid"
    assert info.value.status == 401


@pytest.mark.parametrize("raw", [["a"], 42, None, True])
def test_token_value_that_is_not_an_object(raw: Any) -> None:
    with pytest.raises(SSOError) as info:
        sso.parse_token(raw)
    assert info.value.code == "sso-invalid"


def test_parse_token_accepts_object_and_text_alike() -> None:
    assert sso.parse_token(example_token()) == example_token()
    assert sso.parse_token(json.dumps(example_token())) == example_token()


@pytest.mark.parametrize("missing", ["userDataJSONBase64", "verificationHash", "timestamp"])
def test_missing_field(missing: str) -> None:
    token = example_token()
    del token[missing]
    assert refused(token).code == "sso-invalid"


@pytest.mark.parametrize("field", ["userDataJSONBase64", "verificationHash"])
def test_non_string_field(field: str) -> None:
    assert refused(example_token() | {field: 123}).code == "sso-invalid"


@pytest.mark.parametrize("timestamp", [str(TS), True, False, float(TS), None, [TS]])
def test_timestamp_must_be_an_integer(timestamp: Any) -> None:
    assert refused(example_token() | {"timestamp": timestamp}).code == "sso-invalid"


def test_timestamp_as_string_is_refused_even_if_signed_that_way() -> None:
    token = signed({"id": "123"}) | {"timestamp": str(TS)}
    assert refused(token).code == "sso-invalid"


def test_base64_that_is_not_json() -> None:
    b64 = base64.b64encode(b"hello, not json").decode()
    assert refused(signed_b64(b64)).code == "sso-invalid"


def test_base64_of_invalid_utf8() -> None:
    b64 = base64.b64encode(b"\xff\xfe\xfd").decode()
    assert refused(signed_b64(b64)).code == "sso-invalid"


@pytest.mark.parametrize("field", ["userDataJSONBase64", "verificationHash"])
@pytest.mark.parametrize("text", ["\ud800", "\udfff" + EXAMPLE_HASH[1:], "é" + EXAMPLE_B64])
def test_non_ascii_token_text_is_refused_not_a_crash(field: str, text: str) -> None:
    """JSON can carry a lone surrogate (`"\\ud800"`) that cannot be encoded for the HMAC;
    base64 and hex are ASCII, so any such text is simply not a valid token."""
    assert refused(example_token() | {field: text}).code == "sso-invalid"


def test_text_that_is_not_base64() -> None:
    assert refused(signed_b64("***not base64***")).code == "sso-invalid"


def test_user_json_without_id() -> None:
    assert refused(signed({"email": "x@example.com", "username": "x"})).code == "sso-invalid"


@pytest.mark.parametrize("user_id", ["", None, True, 1.5, ["123"], {"id": "1"}])
def test_user_id_of_wrong_kind(user_id: Any) -> None:
    assert refused(signed({"id": user_id})).code == "sso-invalid"


def test_numeric_user_id_becomes_text() -> None:
    assert sso.verify_secure(signed({"id": 42}), SECRET, SOON).id == "42"


def test_user_id_length_limit() -> None:
    ok = "u" * limits.MAX_ID_CHARS
    assert sso.verify_secure(signed({"id": ok}), SECRET, SOON).id == ok
    assert refused(signed({"id": ok + "u"})).code == "sso-invalid"


@pytest.mark.parametrize("data", [["123"], "123", 123, None, True])
def test_user_data_not_an_object(data: Any) -> None:
    assert refused(signed(data)).code == "sso-invalid"


def test_over_long_optional_fields_are_cut_not_refused() -> None:
    user = sso.verify_secure(signed({"id": "1", "username": "n" * 500}), SECRET, SOON)
    assert user.username == "n" * limits.MAX_NAME_CHARS


def test_non_string_optional_fields_are_ignored() -> None:
    user = sso.verify_secure(
        signed({"id": "1", "email": 5, "username": ["x"], "avatar": {}, "groupIds": "g"}),
        SECRET, SOON,
    )
    assert (user.email, user.username, user.avatar, user.group_ids) == (None, None, None, ())


# --- roles ---------------------------------------------------------------------------


def test_secure_sso_honours_admin_and_moderator() -> None:
    admin = sso.verify_secure(signed({"id": "1", "isAdmin": True}), SECRET, SOON)
    mod = sso.verify_secure(signed({"id": "2", "isModerator": True}), SECRET, SOON)
    assert admin.is_admin and not admin.is_moderator
    assert mod.is_moderator and not mod.is_admin


@pytest.mark.parametrize("flag", ["true", 1, "yes"])
def test_roles_need_a_real_true(flag: Any) -> None:
    user = sso.verify_secure(signed({"id": "1", "isAdmin": flag, "isModerator": flag}),
                             SECRET, SOON)
    assert not user.is_admin and not user.is_moderator


# --- Simple SSO ----------------------------------------------------------------------


def test_simple_sso_bare_never_grants_roles() -> None:
    token = {"id": "7", "username": "sam", "isAdmin": True, "isModerator": True}
    assert sso.looks_simple(token)
    user = sso.parse_simple(token)
    assert user.id == "7" and user.username == "sam"
    assert not user.is_admin and not user.is_moderator


def test_simple_sso_wrapped_never_grants_roles() -> None:
    token = {"simpleSSOUser": {"id": "7", "displayName": "Sam", "isAdmin": True,
                               "isModerator": True}}
    assert sso.looks_simple(token)
    user = sso.parse_simple(token)
    assert user.id == "7" and user.name == "Sam"
    assert not user.is_admin and not user.is_moderator


def test_simple_sso_needs_an_id() -> None:
    with pytest.raises(SSOError) as info:
        sso.parse_simple({"simpleSSOUser": {"username": "sam"}})
    assert info.value.code == "sso-invalid"


def test_simple_sso_wrapper_must_hold_an_object() -> None:
    with pytest.raises(SSOError):
        sso.parse_simple({"simpleSSOUser": "7"})


def test_secure_token_does_not_look_simple() -> None:
    assert not sso.looks_simple(example_token())
    # even one that also carries a top-level id: it has a hash, so it must verify
    assert not sso.looks_simple(example_token() | {"id": "evil"})
    assert not sso.looks_simple({"userDataJSONBase64": EXAMPLE_B64, "timestamp": TS})
