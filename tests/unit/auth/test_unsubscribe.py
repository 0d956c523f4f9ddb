"""Unsubscribe links: signed for one user of one site, checked without any state."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from imagechat.auth import unsubscribe


def test_a_link_is_valid_for_its_user_and_site_only() -> None:
    sig = unsubscribe.signature("secret-a", "acme", "ann")
    assert unsubscribe.valid("secret-a", "acme", "ann", sig)
    assert not unsubscribe.valid("secret-a", "acme", "bo", sig)
    assert not unsubscribe.valid("secret-a", "other", "ann", sig)
    assert not unsubscribe.valid("secret-b", "acme", "ann", sig)  # the secret was rotated
    assert not unsubscribe.valid("secret-a", "acme", "ann", sig[:-1])
    assert not unsubscribe.valid("secret-a", "acme", "ann", "")
    assert not unsubscribe.valid("secret-a", "acme", "ann", "\udcff")
    assert not unsubscribe.valid("secret-a", "acme", "\udcff", sig)
    # The tenant and user are kept apart in what is signed.
    assert unsubscribe.signature("s", "a", "b\nc") != unsubscribe.signature("s", "a\nb", "c")


def test_the_link_names_the_site_the_user_and_the_signature() -> None:
    link = unsubscribe.link("https://chat.example/", "secret", "acme", "ann smith")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "chat.example",
                                                        "/email/unsubscribe")
    query = parse_qs(parts.query)
    assert query == {"tenantId": ["acme"], "user": ["ann smith"],
                     "sig": [unsubscribe.signature("secret", "acme", "ann smith")]}
