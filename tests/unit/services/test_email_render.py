"""Digest emails: every language says everything, links lead only to the site's pages,
and what visitors wrote is quoted, never interpreted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imagechat.domain.models import Notification, Tenant
from imagechat.services.email_render import link_back, message, render
from imagechat.services.email_strings import DEFAULT, STRINGS, language

TENANT = Tenant(id="acme", name="Acme", api_secret="s", allow_anonymous=True,
                allow_simple_sso=False, allowed_origins=("https://acme.example",),
                created_at=0)
NOTE = Notification(
    id="n1", tenant_id="acme", user_key="u:ann", kind="mention", type=7, url_id="t",
    channel_url_id="img", chat_id="c1", comment_id="k1",
    url="https://acme.example/review?id=3#old", page_title="Review",
    from_user_id="bo", from_name="Bo", from_avatar=None, context="@Ann look\nhere",
    viewed=False, created_at=0)


def test_every_language_says_everything_english_does() -> None:
    assert set(STRINGS) == {"en", "pl", "de", "es", "fr"}
    for lang, texts in STRINGS.items():
        assert texts.keys() == STRINGS[DEFAULT].keys(), lang


@pytest.mark.parametrize(("tag", "lang"), [("pl", "pl"), ("de-AT", "de"), ("FR_ca", "fr"),
                                          ("es-419", "es"), ("pt-BR", "en"), (None, "en")])
def test_the_users_language_or_english(tag: str | None, lang: str) -> None:
    assert language(tag) == lang


def test_links_lead_back_to_the_sites_own_pages_only() -> None:
    assert link_back(TENANT, NOTE) == "https://acme.example/review?id=3#imagechat=c1"
    # A page thread has no conversation to open.
    assert link_back(TENANT, replace(NOTE, chat_id=None)) == "https://acme.example/review?id=3#old"
    for url in ("https://evil.example/review", "javascript:alert(1)", "", "/relative"):
        assert link_back(TENANT, replace(NOTE, url=url)) is None, url
    anywhere = replace(TENANT, allowed_origins=())
    assert link_back(anywhere, replace(NOTE, url="https://blog.example/p")) == (
        "https://blog.example/p#imagechat=c1")


def test_what_visitors_wrote_is_quoted_and_escaped() -> None:
    evil = replace(NOTE, from_name='<img src="x">\nBcc: all', context="<script>x</script>")
    rendered = render(TENANT, [evil, NOTE], more=3, recipient_name="Ann", locale="de",
                      unsubscribe="https://chat.example/email/unsubscribe?a=1&b=2")
    assert rendered.subject == "5 neue Nachrichten auf Acme"
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<img" not in rendered.html
    assert 'href="https://chat.example/email/unsubscribe?a=1&amp;b=2"' in rendered.html
    assert "> @Ann look\n> here\n" in rendered.text
    assert "…und 3 weitere." in rendered.text
    mail = message(rendered, sender="Chat <chat@acme.example>", to_name="Ann\r\nBcc: x",
                   to_address="ann@acme.example", message_id="<d1@acme.example>",
                   unsubscribe="https://chat.example/u", now_ms=0)
    assert "\nBcc" not in mail.as_string() and mail["Content-Language"] == "de"
    with pytest.raises(ValueError):
        message(rendered, sender="Chat <chat@acme.example>", to_name=None,
                to_address="ann@acme.example\r\nBcc: x@y", message_id="<d1@acme.example>",
                unsubscribe="https://chat.example/u", now_ms=0)
