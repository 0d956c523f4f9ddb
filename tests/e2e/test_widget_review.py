"""The review workflow in the widget (issue 12, "Done when"): a mention reaches another
browser's bell live and opens the conversation there; resolving and reactions go live."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from imagechat.auth.sso import make_token
from tests.e2e.test_widget_layout_a11y import axe_violations
from tests.e2e.widget_helpers import (
    api_reply,
    click_image,
    conversation_window,
    messages,
    open_demo,
    send,
    wait_live,
)
from tests.server_process import running_server, tenant_database

TENANT = "review"

# On every page of the context: `/demo?review=NAME` also shows the image review/NAME of a
# tenant that signs its users in, as the viewer the context stands for. (The demo's own
# image stays; its anonymous bell is another tenant's and must stay quiet.)
ADD_REVIEW_IMAGE = """
(config) => document.addEventListener('DOMContentLoaded', () => {
  const name = new URLSearchParams(location.search).get('review');
  if (!name) return;
  const box = document.createElement('div');
  box.id = 'review';
  box.innerHTML = '<img src="/demo/mockup.svg" alt="Mockup ' + name + '" width="600" height="375">';
  document.querySelector('main').prepend(box);
  window.reviewWidget = ImageChat(box, Object.assign({urlId: 'review/' + name}, config));
})
"""


@pytest.fixture
def review_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server with a tenant whose API secret the test knows (to sign its users in)."""
    database_url, secret = tenant_database(tmp_path / "review.db", "Review", TENANT)
    with running_server(database_url) as base:
        yield base, secret


def token(secret: str, user_id: str, name: str, **extra: str) -> str:
    return json.dumps(make_token(secret, {"id": user_id, "username": name, **extra},
                                 int(time.time() * 1000)))


def open_conversation(server: str, sso: str) -> str:
    """Through the API, as the signed-in user: a conversation on image one; its id."""
    created = httpx.post(f"{server}/comment-image-chats/{TENANT}", json={
        "urlId": "review/one", "x": 40, "y": 30, "comment": "Is the header too tall?",
        "sso": sso})
    created.raise_for_status()
    chat_id: str = created.json()["chat"]["_id"]
    return chat_id


def viewer(browser: Browser, sso: str) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    config = json.dumps({"tenantId": TENANT, "sso": sso, "locale": "en"})
    context.add_init_script(script=f"({ADD_REVIEW_IMAGE})({config})")
    return context


def open_review(context: BrowserContext, url: str, errors: list[str]) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    expect(page.locator("#review .ic-wrap[data-live]")).to_have_count(1, timeout=15_000)
    return page


def test_a_mention_reaches_the_other_bell_live_and_the_review_goes_live_both_ways(
    browser: Browser, review_server: tuple[str, str], artifacts: Path
) -> None:
    server, secret = review_server
    ann, bea = token(secret, "ann", "Ann Lee"), token(secret, "bea", "Bea Brown")
    # Bea opened a conversation on image one (so the site knows her: she can be mentioned).
    chat_id = open_conversation(server, bea)
    errors: list[str] = []
    ann_ctx, bea_ctx = viewer(browser, ann), viewer(browser, bea)
    try:
        # Bea looks at another image, on another page; her bell has nothing yet.
        b = open_review(bea_ctx, f"{server}/demo?review=two", errors)
        bell = b.locator("#review .ic-bell")
        expect(bell).to_have_attribute("aria-label", "Notifications")
        expect(b.locator("#review .ic-bell-count")).to_be_hidden()

        # Ann opens Bea's conversation and mentions her, with the keyboard.
        a = open_review(ann_ctx, f"{server}/demo?review=one", errors)
        widget = a.locator("#review")
        widget.locator(".ic-marker").click()
        win = widget.locator(".ic-win")
        expect(win.locator(".ic-msg")).to_have_count(1)
        text = win.locator(".ic-text")
        text.press_sequentially("Fixed in v2, @Be")
        combo = win.locator("[role=combobox]")
        options = win.locator("[role=listbox] [role=option]")
        expect(combo).to_have_attribute("aria-expanded", "true")
        expect(options).to_have_text(["Bea Brown"])
        expect(options.first).to_have_attribute("aria-selected", "true")
        expect(text).to_have_attribute("aria-activedescendant",
                                       options.first.get_attribute("id") or "?")
        violations = axe_violations(a)
        assert violations == [], json.dumps(violations, indent=1)
        a.screenshot(path=str(artifacts / "review-mention.png"))
        # Escape closes the list, not the window; it stays closed for that `@`.
        text.press("Escape")
        expect(combo).to_have_attribute("aria-expanded", "false")
        expect(win).to_be_visible()
        text.press("e")
        expect(combo).to_have_attribute("aria-expanded", "false")
        for _ in range(4):
            text.press("Backspace")
        text.press_sequentially("@b")
        expect(options).to_have_text(["Bea Brown"])
        text.press("ArrowDown")
        text.press("Enter")
        expect(text).to_have_value("Fixed in v2, @Bea Brown ")
        expect(combo).to_have_attribute("aria-expanded", "false")
        text.press_sequentially("please check")
        text.press("Enter")
        mention = win.locator(".ic-msg").nth(1).locator("span.mention")
        expect(mention).to_have_text("@Bea Brown")
        expect(mention).to_have_attribute("data-user-id", "bea")

        # Bea's bell rises live, on the other image.
        expect(b.locator("#review .ic-bell-count")).to_have_text("1")
        expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
        expect(b.locator(".ic-wrap").last.locator(".ic-bell-count")).to_be_hidden()

        # She opens the list with the keyboard and picks the mention: it is read, and she
        # lands in the conversation, on the page it is on.
        bell.focus()
        b.keyboard.press("Enter")
        entry = b.locator("#review .ic-note").first
        expect(entry).to_be_focused()
        expect(entry).to_contain_text("Ann Lee mentioned you: Fixed in v2, @Bea Brown please check")
        expect(entry).to_have_class(re.compile("ic-unread"))
        violations = axe_violations(b)
        assert violations == [], json.dumps(violations, indent=1)
        b.screenshot(path=str(artifacts / "review-bell.png"))
        b.keyboard.press("Enter")
        b.wait_for_url(re.compile(r"/demo\?review=one#imagechat=" + chat_id + "$"))
        expect(b.locator("#review .ic-wrap[data-live]")).to_have_count(1, timeout=15_000)
        b_win = b.locator("#review .ic-win")
        expect(b_win.locator(".ic-msg")).to_have_count(2)
        expect(b.locator("#review .ic-bell")).to_have_attribute("aria-label", "Notifications")
        count = httpx.get(f"{server}/user-notifications/get-count",
                          params={"tenantId": TENANT, "sso": bea}).json()["count"]
        assert count == 0

        # Bea, the author, resolves it: Ann's marker turns resolved live.
        marker = widget.locator(".ic-marker")
        expect(marker).to_have_attribute("aria-label", "Conversation 1, messages: 2")
        b_win.locator(".ic-resolve").click()
        expect(b_win.locator(".ic-resolve")).to_have_text("Reopen")
        expect(marker).to_have_class(re.compile("ic-resolved"))
        expect(marker).to_have_attribute("aria-label", "Conversation 1, messages: 2, resolved")
        expect(win.locator(".ic-resolved-note")).to_contain_text("Resolved by Bea Brown")
        # Ann is not its author: she is offered no button, but the "show resolved" switch.
        expect(win.locator(".ic-resolve")).to_have_count(0)
        switch = widget.locator("[role=switch]")
        expect(switch).to_have_attribute("aria-checked", "true")
        violations = axe_violations(a)
        assert violations == [], json.dumps(violations, indent=1)
        a.locator("#dark-toggle").click()
        a.screenshot(path=str(artifacts / "review-resolved-dark.png"))
        a.locator("#dark-toggle").click()

        # Ann reacts to Bea's message; Bea sees the count live.
        thumbs = win.locator(".ic-msg").first.locator(".ic-react").first
        expect(thumbs).to_have_attribute("aria-pressed", "false")
        thumbs.click()
        expect(thumbs).to_have_attribute("aria-pressed", "true")
        expect(thumbs).to_have_attribute("aria-label", "Thumbs up: 1")
        b_thumbs = b_win.locator(".ic-msg").first.locator(".ic-react").first
        expect(b_thumbs).to_have_text("👍 1")
        expect(b_thumbs).to_have_attribute("aria-pressed", "false")
        # Arrow keys move along the toolbar; taking it back goes live too.
        thumbs.press("ArrowRight")
        expect(win.locator(".ic-msg").first.locator(".ic-react").nth(1)).to_be_focused()
        thumbs.click()
        expect(b_thumbs).to_have_text("👍")

        # Off, the switch hides resolved markers; Bea reopens, and it shows again.
        win.locator(".ic-close").click()
        switch.click()
        expect(switch).to_have_attribute("aria-checked", "false")
        expect(marker).to_be_hidden()
        b_win.locator(".ic-resolve").click()
        expect(marker).to_be_visible()
        expect(marker).not_to_have_class(re.compile("ic-resolved"))
        assert errors == [], errors
    finally:
        ann_ctx.close()
        bea_ctx.close()


def test_an_anonymous_visitor_hears_of_replies_opens_them_in_place_and_unfollows_and_follows(
    browser: Browser, server: str
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = open_demo(context, server)
        click_image(page, 0.3, 0.4)
        send(page, "Is this the newest logo?", name="Kim")
        expect(messages(page)).to_have_count(1)
        follow = conversation_window(page).locator(".ic-follow")
        expect(follow).to_have_attribute("aria-pressed", "true")  # writing follows
        conversation_window(page).locator(".ic-close").click()
        thread = page.evaluate("fetch('/comment-image-chats/demo?urlId=demo/mockup')"
                               ".then(r => r.json()).then(d => d.conversations[0].windowUrlId)")
        anon = page.evaluate("JSON.parse(localStorage.getItem('imagechat:anonUserId'))")

        # A reply reaches this browser's bell live (the live connection names its anonUserId),
        # and the count is read again when the page comes back.
        api_reply(server, thread, "Yes, since Monday", name="Max")
        count = page.locator(".ic-bell-count")
        expect(count).to_have_text("1")
        page.reload()
        wait_live(page)
        expect(count).to_have_text("1")

        # The conversation is on this page: it opens here, no navigation.
        url = page.url
        page.locator(".ic-bell").click()
        entry = page.locator(".ic-note").first
        expect(entry).to_contain_text("Max replied: Yes, since Monday")
        entry.click()
        expect(messages(page)).to_have_count(2)
        assert page.url == url
        expect(count).to_be_hidden()

        # Unfollowed, the thread's next reply makes no notification.
        expect(follow).to_have_attribute("aria-pressed", "true")
        with page.expect_response(lambda r: "/set-subscription-state/unsubscribe" in r.url):
            follow.click()
        expect(follow).to_have_attribute("aria-pressed", "false")
        api_reply(server, thread, "And the icon too", name="Max")
        expect(messages(page)).to_have_count(3)
        unread = httpx.get(f"{server}/user-notifications/get-count",
                           params={"tenantId": "demo", "anonUserId": anon}).json()["count"]
        assert unread == 0
        expect(count).to_be_hidden()

        # Followed again with the same button, the next reply is news once more.
        with page.expect_response(lambda r: "/set-subscription-state/subscribe" in r.url):
            follow.click()
        expect(follow).to_have_attribute("aria-pressed", "true")
        conversation_window(page).locator(".ic-close").click()
        api_reply(server, thread, "And the colours", name="Max")
        expect(count).to_have_text("1")
    finally:
        context.close()
