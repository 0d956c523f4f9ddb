"""The demo page loads in a real browser."""

from __future__ import annotations

from playwright.sync_api import Browser


def test_demo_page_serves_the_image_and_the_widget(browser: Browser, server: str) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(f"{server}/demo")
    assert response is not None and response.status == 200
    image = page.locator("#mockup")
    image.wait_for()
    assert page.evaluate("document.getElementById('mockup').naturalWidth") == 1200
    assert page.evaluate("typeof window.ImageChat") == "function"
    assert page.evaluate("window.FastCommentsImageChat === window.ImageChat")
    assert errors == []
    page.close()
