"""The dashboard's side of carry-over, in Chromium: a conversation lost on v2 is listed
under "Needs review"; its image's page shows v2 through the widget it embeds, where the
moderator drags the conversation from the widget's "Needs review" onto its place, and the
dashboard's list no longer has it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.test_dashboard import demo_secret, sign_in
from tests.e2e.test_widget_versions import (
    LOST,
    URL_ID,
    Site,
    has,
    listed,
    marker,
    versions,
)

# The versions test's page and server, as the fixture `versions_site`.
from tests.e2e.test_widget_versions import site as versions_site  # noqa: F401


def _image_address(site: Site, name: str) -> str:
    return site.page.rsplit("/", 1)[0] + "/" + name


def test_a_lost_conversation_is_dragged_into_place_from_the_dashboard(
    browser: Browser, versions_site: Site, tmp_path: Path  # noqa: F811 (the fixture)
) -> None:
    site = versions_site
    truth = site.truths[LOST]
    made = httpx.post(f"{site.server}/comment-image-chats/demo", json={
        "urlId": URL_ID, "x": truth.anchor.x, "y": truth.anchor.y, "comment": "Too close",
        "commenterName": "Ann", "anonUserId": "anon-ann",
        "src": _image_address(site, "v1.png")})
    made.raise_for_status()
    lost = made.json()["createdChatId"]
    deadline = time.monotonic() + 15
    while not versions(site):  # v1 is read from the conversation's src
        assert time.monotonic() < deadline, "v1 was never recorded"
        time.sleep(0.1)
    secret = demo_secret(tmp_path)
    pushed = httpx.post(f"{site.server}/api/v1/images/versions", params={"tenantId": "demo"},
                        json={"urlId": URL_ID, "src": _image_address(site, "v2.png")},
                        headers={"X-API-Key": secret}, timeout=30)
    pushed.raise_for_status()
    assert pushed.json()["carried"]["lost"] == 1, pushed.text
    assert listed(site)[lost]["carry"] == "lost"

    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = sign_in(context, site.server, secret)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{site.server}/dashboard/review")
        row = page.locator(f'tr[data-chat-id="{lost}"]')
        expect(row).to_have_count(1)
        row.get_by_role("link").click()
        expect(page.locator(".ic-wrap[data-live]")).to_have_count(1, timeout=15_000)

        # The page shows the latest version, as visitors see it now.
        expect(page.locator("#ic-image")).to_have_attribute("src", _image_address(site, "v2.png"))
        review = page.locator(".ic-review-btn")
        expect(review).to_have_text("Needs review: 1")
        review.click()
        item = page.locator(".ic-review-item")
        expect(item).to_have_count(1)
        box = page.locator("#ic-image").bounding_box()
        assert box is not None
        item.hover()
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6, steps=6)
        page.mouse.up()
        expect(marker(page, lost)).not_to_have_class(has("ic-carry-lost"))
        expect(review).to_have_count(0)
        deadline = time.monotonic() + 10
        while listed(site)[lost]["carry"] != "moved":
            assert time.monotonic() < deadline, listed(site)[lost]
            time.sleep(0.1)
        placed = listed(site)[lost]
        assert abs(float(placed["x"]) - 30) < 0.5 and abs(float(placed["y"]) - 60) < 0.5
        assert placed["positionVersion"] == 2

        page.goto(f"{site.server}/dashboard/review")
        expect(page.locator(f'tr[data-chat-id="{lost}"]')).to_have_count(0)
        assert errors == []
    finally:
        context.close()
