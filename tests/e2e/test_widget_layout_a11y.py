"""Layout across sizes, keyboard use, axe-core, and the demo screenshots (issue 4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.widget_helpers import (
    api_create_conversation,
    api_reply,
    click_image,
    conversation_window,
    marker_center,
    markers,
    messages,
    open_demo,
    send,
)

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, object]]:
    if not AXE.is_file():
        message = "axe-core is missing: run `npm install --prefix tests/e2e` (or `npm ci`)"
        if os.environ.get("CI"):
            raise RuntimeError(message)
        pytest.skip(message)
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result: list[dict[str, object]] = page.evaluate(
        "axe.run(document).then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))")
    return result


def test_markers_keep_their_spot_when_resized_and_on_a_phone(browser: Browser, server: str) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = open_demo(context, server)
        click_image(page, 0.7, 0.3)
        send(page, "Move this", name="Lee")
        expect(messages(page)).to_have_count(1)
        before = marker_center(page)
        assert abs(before[0] - 0.7) < 0.01 and abs(before[1] - 0.3) < 0.01

        # Desktop: 300 px window, placed on a side where it fits, with its arrow.
        win = conversation_window(page)
        box = win.bounding_box()
        assert box is not None and round(box["width"]) == 300
        classes = win.get_attribute("class") or ""
        assert any(f"to-{side}" in classes for side in ("right", "left", "top", "bottom")), classes
        assert "ic-full" not in classes

        for width, height in ((900, 700), (1600, 1000), (375, 740)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(f"window.innerWidth === {width}")
            after = marker_center(page)
            assert abs(after[0] - before[0]) < 0.005 and abs(after[1] - before[1]) < 0.005, (
                width, before, after)
            size = markers(page).first.bounding_box()
            assert size is not None and size["width"] >= 24 and size["height"] >= 24

        # On a phone the chat opens fullscreen.
        expect(win).to_have_class("ic-win ic-full")
        win.locator(".ic-close").click()  # fullscreen covers the image; its close button
        expect(win).to_have_count(0)
        markers(page).first.click()
        expect(win).to_have_class("ic-win ic-full")
        box = win.bounding_box()
        assert box is not None and box["x"] == 0 and box["y"] == 0
        assert round(box["width"]) == 375 and round(box["height"]) == 740
    finally:
        context.close()


def test_keyboard_alone_and_axe(browser: Browser, server: str) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = open_demo(context, server)
        # Tab to the image (after the demo's own button).
        for _ in range(5):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('ic-wrap')"):
                break
        assert page.evaluate("document.activeElement.classList.contains('ic-wrap')")
        expect(page.locator(".ic-cross")).to_be_visible()

        # Escape cancels a placement.
        page.keyboard.press("Enter")
        expect(conversation_window(page)).to_be_visible()
        page.keyboard.press("Escape")
        expect(conversation_window(page)).to_have_count(0)
        expect(page.locator(".ic-pending")).to_have_count(0)
        assert page.evaluate("document.activeElement.classList.contains('ic-wrap')")

        # Arrows move the cross-hair (2 % a step); Enter places; the composer takes focus.
        for key, times in (("ArrowRight", 5), ("ArrowDown", 3)):
            for _ in range(times):
                page.keyboard.press(key)
        page.keyboard.press("Enter")
        expect(page.locator(".ic-name-input")).to_be_focused()
        page.keyboard.type("Kim")
        page.keyboard.press("Tab")
        expect(page.locator(".ic-text")).to_be_focused()
        page.keyboard.type("Sent with the keyboard alone")
        page.keyboard.press("Enter")
        expect(messages(page)).to_have_count(1)
        expect(messages(page).first).to_contain_text("Sent with the keyboard alone")
        x, y = marker_center(page)
        assert abs(x - 0.60) < 0.01 and abs(y - 0.56) < 0.01, (x, y)
        expect(markers(page).first).to_have_attribute("aria-label", "Conversation 1, messages: 1")

        # Escape closes the window and gives focus back to the marker, a button in Tab order.
        page.keyboard.press("Escape")
        expect(conversation_window(page)).to_have_count(0)
        expect(markers(page).first).to_be_focused()
        page.keyboard.press("Enter")
        expect(messages(page)).to_have_count(1)

        # A message from someone else is announced politely.
        windows = page.evaluate("fetch('/comment-image-chats/demo?urlId=demo/mockup')"
                                ".then(r => r.json()).then(d => d.conversations[0].windowUrlId)")
        api_reply(server, windows, "Heard you", name="Max")
        expect(page.locator(".ic-wrap [aria-live=polite]")).to_have_text(
            "New message from Max: Heard you")

        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
        page.keyboard.press("Escape")
        page.locator("#dark-toggle").click()
        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
    finally:
        context.close()


def test_axe_on_the_demo_page_with_markers(browser: Browser, server: str) -> None:
    api_create_conversation(server, 30, 40, "Spot one")
    context = browser.new_context(locale="en-US")
    try:
        page = open_demo(context, server)
        expect(markers(page)).to_have_count(1)
        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
        markers(page).first.click()
        expect(messages(page)).to_have_count(1)
        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
    finally:
        context.close()


def test_demo_screenshots(browser: Browser, server: str, artifacts: Path) -> None:
    first = api_create_conversation(server, 22, 18, "Could the logo be a little bigger?",
                                    name="Ann")
    conversation = first["chat"]
    assert isinstance(conversation, dict)
    api_reply(server, str(conversation["windowUrlId"]), "Yes, and closer to the menu.", name="Bob")
    api_create_conversation(server, 63, 47, "This photo feels dark.", name="Cleo")
    api_create_conversation(server, 38, 80, "Add a price here?", name="Dev")

    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 860})
    try:
        page = open_demo(context, server)
        expect(markers(page)).to_have_count(3)
        page.screenshot(path=str(artifacts / "demo-markers.png"))
        markers(page).first.click()
        expect(messages(page)).to_have_count(2)
        page.screenshot(path=str(artifacts / "demo-chat.png"))
        page.locator("#dark-toggle").click()
        expect(page.locator(".ic-wrap.ic-dark")).to_have_count(1)
        page.screenshot(path=str(artifacts / "demo-dark.png"))
    finally:
        context.close()

    phone = browser.new_context(locale="en-US", viewport={"width": 375, "height": 740},
                                device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = open_demo(phone, server)
        expect(markers(page)).to_have_count(3)
        markers(page).first.click()
        expect(messages(page)).to_have_count(2)
        expect(conversation_window(page)).to_have_class("ic-win ic-full")
        page.screenshot(path=str(artifacts / "demo-mobile.png"))
    finally:
        phone.close()
    for name in ("markers", "chat", "dark", "mobile"):
        assert (artifacts / f"demo-{name}.png").stat().st_size > 10_000
