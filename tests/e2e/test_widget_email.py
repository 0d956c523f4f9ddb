"""Email from the browser (issue 13, "Done when"): a mention typed in the widget reaches a
real SMTP server as one email once the digest window ends; its link opens the conversation
in the widget, and its one-click unsubscribe stops the next one."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_widget_review import (
    TENANT,
    open_conversation,
    open_review,
    token,
    viewer,
)
from tests.integration.test_email import (  # noqa: F401 (smtp_sink is a fixture)
    Sink,
    address,
    smtp_sink,
    text_of,
    unsubscribe_url,
)
from tests.server_process import free_port, running_server, tenant_database

SENDER = "ImageChat <chat@imagechat.test>"
WINDOW_SECS = 1.2  # IMAGECHAT_EMAIL_DIGEST_MINUTES=0.02


@pytest.fixture
def mail_server(tmp_path: Path, smtp_sink: Sink) -> Iterator[tuple[str, str]]:  # noqa: F811
    """A server that sends email through the test's SMTP server, and its tenant's secret."""
    database_url, secret = tenant_database(tmp_path / "mail.db", "Review", TENANT)
    port = free_port()
    env = {"IMAGECHAT_SMTP_URL": f"smtp://127.0.0.1:{smtp_sink.port}",
           "IMAGECHAT_EMAIL_FROM": SENDER,
           "IMAGECHAT_EMAIL_DIGEST_MINUTES": str(WINDOW_SECS / 60),
           "IMAGECHAT_PUBLIC_URL": f"http://127.0.0.1:{port}/"}
    with running_server(database_url, port=port, env=env) as base:
        yield base, secret


def mention_bea(page: Page, text: str, messages: int) -> None:
    """Pick Bea from the suggestions with the keyboard, as a reviewer would, and send
    (`messages`: how many the conversation has before; waited for, as the window loads)."""
    win = page.locator("#review .ic-win")
    composer = win.locator(".ic-text")
    expect(win.locator(".ic-msg")).to_have_count(messages)
    composer.press_sequentially("@Be")
    expect(win.locator("[role=listbox] [role=option]")).to_have_text(["Bea Brown"])
    composer.press("Enter")
    composer.press_sequentially(text)
    composer.press("Enter")
    expect(win.locator(".ic-msg")).to_have_count(messages + 1)
    expect(win.locator(".ic-msg").last.locator("span.mention")).to_have_text("@Bea Brown")


def wait_for_emails(sink: Sink, to: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(sink.messages(to)) < count:
        assert time.monotonic() < deadline, f"{count} email(s) did not arrive"
        time.sleep(0.2)


def test_a_mention_in_the_browser_is_one_email_that_links_back_and_unsubscribes(
    browser: Browser, mail_server: tuple[str, str], smtp_sink: Sink  # noqa: F811
) -> None:
    server, secret = mail_server
    bea_address = address("bea")
    ann = token(secret, "ann", "Ann Lee")
    bea = token(secret, "bea", "Bea Brown", email=bea_address)
    chat_id = open_conversation(server, bea)
    errors: list[str] = []
    ann_ctx, bea_ctx = viewer(browser, ann), viewer(browser, bea)
    try:
        a = open_review(ann_ctx, f"{server}/demo?review=one", errors)
        a.locator("#review .ic-marker").click()
        mention_bea(a, "please check the logo", 1)

        # One email, once the window has passed (and not a second one after it).
        wait_for_emails(smtp_sink, bea_address, 1)
        time.sleep(2 * WINDOW_SECS)
        [message] = smtp_sink.messages(bea_address)
        assert message["Subject"] == "Ann Lee mentioned you on Review"
        text = text_of(message)
        assert "@Bea Brown please check the logo" in text
        link = re.search(r"Open the conversation: (\S+)", text)
        assert link, text
        assert link.group(1) == f"{server}/demo?review=one#imagechat={chat_id}"

        # The link opens the page with the conversation open, for Bea.
        b = open_review(bea_ctx, link.group(1), errors)
        b_win = b.locator("#review .ic-win")
        expect(b_win).to_be_visible()
        expect(b_win.locator(".ic-msg")).to_have_count(2)

        # One-click unsubscribe (RFC 8058), as a mail client does it from the headers.
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = unsubscribe_url(message)
        assert url.startswith(f"{server}/email/unsubscribe?")
        response = httpx.post(url, content=b"List-Unsubscribe=One-Click", headers={
            "content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200, response.text

        # Unsubscribed: the next mention waits in her bell with the first one (opening the
        # link reads nothing; her page is now closed, so nothing can read it), but no email
        # follows.
        b.close()
        mention_bea(a, "and the footer", 2)
        time.sleep(3 * WINDOW_SECS)
        count = httpx.get(f"{server}/user-notifications/get-count",
                          params={"tenantId": TENANT, "sso": bea}).json()["count"]
        assert count == 2
        assert len(smtp_sink.messages(bea_address)) == 1
        assert errors == []
    finally:
        ann_ctx.close()
        bea_ctx.close()
