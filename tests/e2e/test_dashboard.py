"""The tenant dashboard in a real browser: sign in, charts of known activity, moderation
that reaches a visitor's open widget live, a page's comments moderated, phone width and dark
mode (with screenshots)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.test_widget_layout_a11y import axe_violations
from tests.e2e.widget_helpers import api_reply, markers, open_demo, wait_live

DEMO_IMAGE = "demo/mockup"
DEMO_PAGE = "demo/article"


def demo_secret(tmp_path: Path) -> str:
    """The demo tenant's API secret, from the server's database (the `server` fixture's)."""
    with sqlite3.connect(tmp_path / "e2e.db") as db:
        row = db.execute("SELECT api_secret FROM tenants WHERE id = 'demo'").fetchone()
    assert row is not None
    return str(row[0])


def create_conversation(server: str, x: float, y: float, text: str) -> dict[str, Any]:
    """A conversation as the demo's widget creates it: with the image's address."""
    response = httpx.post(f"{server}/comment-image-chats/demo", json={
        "urlId": DEMO_IMAGE, "x": x, "y": y, "comment": text, "commenterName": "Visitor",
        "anonUserId": "e2e-visitor", "src": f"{server}/demo/mockup.svg"})
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def sign_in(context: BrowserContext, server: str, secret: str) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))
    page.get_by_label("Tenant id").first.fill("demo")
    page.get_by_label("API secret", exact=True).fill(secret)
    page.get_by_role("button", name="Sign in").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/usage$"))
    assert errors == []
    return page


def bar_values(page: Page, metric: str) -> list[int]:
    return [int(v) for v in page.locator(f"#chart-{metric} g.bar").evaluate_all(
        "bars => bars.map(b => b.dataset.value)")]


def today_bar(page: Page, metric: str) -> tuple[int, str]:
    """The last bar of a chart (today): its value and its tooltip."""
    bar = page.locator(f"#chart-{metric} g.bar").last
    return int(bar.get_attribute("data-value") or "-1"), bar.locator("title").text_content() or ""


def test_dashboard_charts_moderation_and_screenshots(
    browser: Browser, server: str, tmp_path: Path, artifacts: Path
) -> None:
    secret = demo_secret(tmp_path)
    # bypass_csp: the pages allow only their own scripts, and axe-core is injected inline.
    admin_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900},
                                    bypass_csp=True)
    visitors = [browser.new_context(locale="en-US") for _ in range(2)]
    try:
        admin = sign_in(admin_ctx, server, secret)
        # Nothing happened yet today.
        assert today_bar(admin, "conversationCreateCount")[0] == 0

        # Known activity: two visitors watch the image; 3 conversations, 5 comments.
        pages = [open_demo(v, server) for v in visitors]
        conversations = [create_conversation(server, 20 + 25 * i, 30 + 10 * i, f"Point {i + 1}")
                         for i in range(3)]
        for conversation in conversations[:2]:
            api_reply(server, conversation["chat"]["windowUrlId"], "Agreed.", name="Replier")
        for page in pages:
            expect(markers(page)).to_have_count(3)

        admin.reload()
        for metric, value, text in [("conversationCreateCount", 3, "3 conversations"),
                                    ("commentCreateCount", 5, "5 comments"),
                                    ("peakViewers", 2, "2 viewers")]:
            shown, title = today_bar(admin, metric)
            assert shown == value and title.endswith(f": {text}"), (metric, shown, title)
        assert sum(bar_values(admin, "conversationCreateCount")) == 3
        assert len(bar_values(admin, "commentCreateCount")) == 7
        frames = today_bar(admin, "pubSubMessageCount")[0]
        assert frames > 0 and today_bar(admin, "pubSubBandwidth")[0] > frames
        # The figures are the server's own: the API reads the same rows.
        usage = httpx.get(f"{server}/api/v1/usage", params={"tenantId": "demo"},
                          headers={"X-API-Key": secret}).json()["usage"]
        assert sum(b["commentCreateCount"] for b in usage) == 5
        assert max(b["peakViewers"] for b in usage) == 2
        chart = admin.locator("#chart-commentCreateCount")
        assert chart.get_attribute("role") == "img"
        assert "Total 5 comments" in (chart.get_attribute("aria-label") or "")
        assert axe_violations(admin) == []
        admin.screenshot(path=str(artifacts / "dashboard-usage.png"), full_page=True)

        # The images list, then the image itself, through the widget in moderator mode.
        admin.get_by_role("link", name="Images").click()
        row = admin.locator(f'tr[data-url-id="{DEMO_IMAGE}"]')
        expect(row.locator(".conversations")).to_have_text("3")
        expect(row.locator(".comments")).to_have_text("5")
        expect(row.locator(".viewers")).to_have_text("2")
        row.get_by_role("link").click()
        wait_live(admin)
        expect(markers(admin)).to_have_count(3)
        expect(admin.locator(".ic-lock")).to_be_visible()  # the widget knows it is an admin
        expect(admin.locator(".thread")).to_have_count(3)
        assert axe_violations(admin) == []
        admin.screenshot(path=str(artifacts / "dashboard-image.png"), full_page=True)

        # Delete a conversation from the dashboard's own form: the visitors lose the marker.
        admin.once("dialog", lambda dialog: dialog.accept())
        first = admin.locator(".thread").first
        first.get_by_role("button", name="Delete conversation").click()
        expect(admin.locator(".notice")).to_have_text("The conversation was deleted.")
        expect(admin.locator(".thread")).to_have_count(2)
        for page in pages:
            expect(markers(page)).to_have_count(2)
        expect(markers(admin)).to_have_count(2)
        admin.get_by_role("link", name="Moderation").click()
        expect(admin.locator("td.action").first).to_have_text("delete-conversation")
    finally:
        admin_ctx.close()
        for context in visitors:
            context.close()

    # A phone, and dark mode: the same session cookie in new browser contexts.
    cookies = signed_in_cookies(browser, server, secret)
    phone = browser.new_context(locale="en-US", viewport={"width": 375, "height": 780},
                                device_scale_factor=2, is_mobile=True, has_touch=True)
    dark = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 900},
                               color_scheme="dark")
    try:
        phone.add_cookies(cookies)
        page = phone.new_page()
        page.goto(f"{server}/dashboard/usage")
        # Nothing sticks out sideways at 375 px.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(artifacts / "dashboard-mobile.png"), full_page=True)
        page.goto(f"{server}/dashboard/images")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(artifacts / "dashboard-mobile-images.png"), full_page=True)

        dark.add_cookies(cookies)
        page = dark.new_page()
        page.goto(f"{server}/dashboard/images/view?urlId={DEMO_IMAGE}")
        wait_live(page)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert _is_dark(background), background
        expect(page.locator(".ic-wrap.ic-dark")).to_have_count(1)  # the widget follows
        page.screenshot(path=str(artifacts / "dashboard-dark.png"), full_page=True)
    finally:
        phone.close()
        dark.close()
    for name in ("usage", "image", "mobile", "mobile-images", "dark"):
        assert (artifacts / f"dashboard-{name}.png").stat().st_size > 10_000


def test_dashboard_pages_list_and_moderate_page_comments(
    browser: Browser, server: str, tmp_path: Path, artifacts: Path
) -> None:
    secret = demo_secret(tmp_path)
    for text in ("First <b>thought</b>", "Second thought"):
        httpx.post(f"{server}/comments/demo", params={"urlId": DEMO_PAGE}, json={
            "comment": text, "commenterName": "Reader", "anonUserId": "e2e-reader",
            "url": f"{server}/demo/", "pageTitle": "Demo article"}).raise_for_status()
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900},
                                  bypass_csp=True)
    try:
        admin = sign_in(context, server, secret)
        admin.get_by_role("link", name="Pages").click()
        row = admin.locator(f'tr[data-url-id="{DEMO_PAGE}"]')
        expect(row.locator(".comments")).to_have_text("2")
        expect(row.get_by_role("link", name="Demo article")).to_have_attribute(
            "href", f"{server}/demo/")
        assert axe_violations(admin) == []
        row.get_by_role("link", name=DEMO_PAGE).click()
        comments = admin.locator(".comment")
        expect(comments).to_have_count(2)
        expect(comments.first.locator(".text")).to_have_text("First <b>thought</b>")
        assert axe_violations(admin) == []
        admin.screenshot(path=str(artifacts / "dashboard-page.png"), full_page=True)

        admin.once("dialog", lambda dialog: dialog.accept())
        comments.first.get_by_role("button", name="Delete comment").click()
        expect(admin.locator(".notice")).to_have_text(
            "The comment was deleted, with its replies.")
        expect(comments).to_have_count(1)
        admin.get_by_role("button", name="Lock page (read-only)").click()
        expect(admin.locator(".state")).to_have_text("locked (read-only)")
        refused = httpx.post(f"{server}/comments/demo", params={"urlId": DEMO_PAGE}, json={
            "comment": "Too late", "commenterName": "Reader", "anonUserId": "e2e-reader"})
        assert refused.json()["code"] == "image-locked"
    finally:
        context.close()


def test_dashboard_webhooks_page(browser: Browser, server: str, tmp_path: Path,
                                 artifacts: Path) -> None:
    """Add an endpoint (its secret shown once), its view, remove it; accessible throughout.
    The address is a public literal for an event that never happens here: nothing is sent."""
    secret = demo_secret(tmp_path)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900},
                                  bypass_csp=True)
    try:
        admin = sign_in(context, server, secret)
        admin.get_by_role("link", name="Webhooks").click()
        expect(admin.get_by_text("No endpoints yet.")).to_be_visible()
        assert axe_violations(admin) == []
        admin.get_by_label("Address (http or https)").fill("http://93.184.215.14/hook")
        admin.get_by_label("reaction").check()
        admin.get_by_role("button", name="Add endpoint").click()
        shown = admin.locator(".secret-value").text_content() or ""
        assert len(shown) >= 32
        row = admin.locator("table.webhooks tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator(".state")).to_have_text("active")
        assert axe_violations(admin) == []
        admin.screenshot(path=str(artifacts / "dashboard-webhooks.png"), full_page=True)
        row.get_by_role("link", name="http://93.184.215.14/hook").click()
        expect(admin.get_by_text("Nothing delivered to this endpoint yet.")).to_be_visible()
        assert axe_violations(admin) == []
        admin.get_by_role("link", name="Webhooks").first.click()
        assert shown not in admin.content()
        admin.once("dialog", lambda dialog: dialog.accept())
        admin.get_by_role("button", name="Remove").click()
        expect(admin.locator(".notice")).to_have_text("The endpoint was removed.")
    finally:
        context.close()


def test_dashboard_is_usable_with_the_keyboard(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    secret = demo_secret(tmp_path)
    create_conversation(server, 40, 40, "Keyboard check")
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{server}/dashboard/sign-in")
        # The form starts focused; before it, only the skip link.
        assert page.evaluate("document.activeElement.id") == "tenant-id"
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Tab")
        page.keyboard.type("demo")
        page.keyboard.press("Tab")
        page.keyboard.type(secret)
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/dashboard/usage$"))
        # Every control is reachable and shows where the focus is.
        for _ in range(8):
            page.keyboard.press("Tab")
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", page.evaluate("document.activeElement.outerHTML")
        # Move to the Images link and follow it with Enter.
        page.get_by_role("link", name="Images").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/dashboard/images$"))
        page.locator(f'tr[data-url-id="{DEMO_IMAGE}"] a').focus()
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text(DEMO_IMAGE)
        wait_live(page)
    finally:
        context.close()


def signed_in_cookies(browser: Browser, server: str, secret: str) -> list[Any]:
    """A fresh signed-in session's cookies, to open pages in other browser set-ups."""
    context = browser.new_context()
    try:
        sign_in(context, server, secret)
        return list(context.cookies())
    finally:
        context.close()


def _is_dark(css_color: str) -> bool:
    channels = [int(c) for c in re.findall(r"\d+", css_color)[:3]]
    return sum(channels) / 3 < 60

