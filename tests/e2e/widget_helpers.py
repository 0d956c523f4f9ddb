"""Helpers shared by the widget's end-to-end tests (sync Playwright)."""

from __future__ import annotations

import httpx
from playwright.sync_api import BrowserContext, FloatRect, Locator, Page, expect

DEMO_IMAGE = "#mockup"


def open_demo(context: BrowserContext, server: str) -> Page:
    """Open /demo in a new tab and wait until the widget's live connection is in sync."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/demo")
    wait_live(page)
    assert errors == [], errors
    return page


def wait_live(page: Page) -> None:
    """The widget marks its wrapper `data-live` once the socket has resumed at the list's seq."""
    expect(page.locator(".ic-wrap[data-live]")).to_have_count(1, timeout=15_000)


def image_box(page: Page) -> FloatRect:
    box = page.locator(DEMO_IMAGE).bounding_box()
    assert box is not None
    return box


def click_image(page: Page, fx: float, fy: float) -> None:
    """Click the image at a fraction (0..1) of its width and height."""
    box = image_box(page)
    page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def conversation_window(page: Page) -> Locator:
    return page.locator(".ic-win")


def send(page: Page, text: str, name: str | None = None) -> None:
    """Type a message into the open window's composer and send it (name asked once)."""
    win = conversation_window(page)
    name_input = win.locator(".ic-name-input")
    if name is not None and name_input.count():
        name_input.fill(name)
    win.locator(".ic-text").fill(text)
    win.locator(".ic-send").click()


def messages(page: Page) -> Locator:
    return conversation_window(page).locator(".ic-msg:not(.ic-sending)")


def markers(page: Page) -> Locator:
    return page.locator(".ic-marker:not(.ic-pending)")


def marker_center(page: Page, index: int = 0) -> tuple[float, float]:
    """A marker's centre as a fraction of the image box."""
    box = image_box(page)
    m = markers(page).nth(index).bounding_box()
    assert m is not None
    return ((m["x"] + m["width"] / 2 - box["x"]) / box["width"],
            (m["y"] + m["height"] / 2 - box["y"]) / box["height"])


def banner(page: Page) -> Locator:
    return page.locator(".ic-banner")


def api_create_conversation(server: str, x: float, y: float, text: str, name: str = "Dana",
                            url_id: str = "demo/mockup") -> dict[str, object]:
    """Create a conversation with its first message through the REST API (another visitor)."""
    res = httpx.post(f"{server}/comment-image-chats/demo", json={
        "urlId": url_id, "x": x, "y": y, "comment": text, "commenterName": name,
        "anonUserId": f"api-{name}"})
    res.raise_for_status()
    data: dict[str, object] = res.json()
    return data


def api_reply(server: str, window_url_id: str, text: str, name: str = "Dana") -> None:
    res = httpx.post(f"{server}/comments/demo", params={"urlId": window_url_id},
                     json={"comment": text, "commenterName": name, "anonUserId": f"api-{name}"})
    res.raise_for_status()
