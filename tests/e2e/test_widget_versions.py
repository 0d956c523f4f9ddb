"""Regions and image versions in the widget (issue 14, "Done when"): conversations on v1;
the page swaps the image to v2; the markers move to the right places, for the page that
swapped it and for another viewer; a `changed` one is resolved in one click; a `lost` one
is dragged into place from "needs review"; the compare view shows both versions with their
markers.

The two versions are a generated mockup pair (tests/mockups.py) with a fixed seed, whose
true places on v2 are known; a small static host on 127.0.0.1 serves the page and both
images, which the server fetches (so private addresses are allowed here).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.test_widget_layout_a11y import axe_violations
from tests.e2e.widget_helpers import conversation_window, send
from tests.mockups import Truth, make_pair
from tests.server_process import free_port, running_server

URL_ID = "review/home"
IMAGE = "#design"
# Seed 3 of the generator: v2 is v1 shifted 10 % right and 7.6 % up, scaled 1.09 and
# turned 3 degrees, three cards edited, a column cropped off.
SEED = 3
SAME, CHANGED, LOST = "p0", "p4", "p16"
# Where a `same` marker may be off its true place, in % of the image.
TOLERANCE = 1.5

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Home page, design review</title>
<link rel="stylesheet" href="{server}/js/embed-image-chat.min.css">
<style>body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f7f9; }}
main {{ max-width: 840px; margin: 0 auto; padding: 16px; }}
h1 {{ font-size: 1.4rem; margin: 0 0 12px; }}
#design {{ display: block; width: 800px; height: auto; }}</style>
<script src="{server}/js/embed-image-chat.min.js"></script></head>
<body><main><h1>Home page: design review</h1>
<img id="design" src="v1.png" alt="Home page design" width="800" height="500">
<script>ImageChat(document.getElementById('design'),
                  {{tenantId: 'demo', urlId: '{url_id}', locale: 'en'}});</script>
</main></body></html>
"""


@dataclass
class Site:
    server: str
    page: str
    truths: dict[str, Truth]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    pair = make_pair(SEED, width=800, height=500, anchors=30, edits=3, added=2,
                     region_share=0.0)
    root = tmp_path / "site"
    root.mkdir()
    (root / "v1.png").write_bytes(pair.old)
    (root / "v2.png").write_bytes(pair.new)
    env = {"IMAGECHAT_OUTBOUND_ALLOW_PRIVATE": "true"}
    with running_server(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", env=env) as server:
        (root / "page.html").write_text(PAGE.format(server=server, url_id=URL_ID))
        host = http.server.ThreadingHTTPServer(
            ("127.0.0.1", free_port()), functools.partial(_Quiet, directory=str(root)))
        thread = threading.Thread(target=host.serve_forever, daemon=True)
        thread.start()
        try:
            yield Site(server, f"http://127.0.0.1:{host.server_port}/page.html",
                       {t.anchor.key: t for t in pair.truths})
        finally:
            host.shutdown()
            host.server_close()
            thread.join(timeout=5)


def open_page(context: BrowserContext, site: Site, errors: list[str]) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site.page)
    expect(page.locator(".ic-wrap[data-live]")).to_have_count(1, timeout=15_000)
    return page


def click_at(page: Page, x: float, y: float) -> None:
    """Click the image at a point given in % of it."""
    box = page.locator(IMAGE).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100)


def marker(page: Page, chat_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.ic-marker[data-id="{chat_id}"]')


def place_of(page: Page, chat_id: str) -> tuple[float, float]:
    left, top = marker(page, chat_id).evaluate(
        "m => [parseFloat(m.style.left), parseFloat(m.style.top)]")
    return float(left), float(top)


def expect_near(page: Page, chat_id: str, x: float, y: float, tolerance: float) -> None:
    page.wait_for_function(
        """([id, x, y, tol]) => {
          const m = document.querySelector('.ic-marker[data-id="' + id + '"]');
          return m && Math.abs(parseFloat(m.style.left) - x) <= tol
            && Math.abs(parseFloat(m.style.top) - y) <= tol;
        }""", arg=[chat_id, x, y, tolerance], timeout=15_000)


def has(cls: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s)({cls})(\s|$)")


def versions(site: Site) -> list[dict[str, object]]:
    res = httpx.get(f"{site.server}/image-versions/demo", params={"urlId": URL_ID})
    res.raise_for_status()
    found: list[dict[str, object]] = res.json()["versions"]
    return found


def listed(site: Site) -> dict[str, dict[str, object]]:
    res = httpx.get(f"{site.server}/comment-image-chats/demo", params={"urlId": URL_ID})
    res.raise_for_status()
    return {c["_id"]: c for c in res.json()["conversations"]}


def new_conversation(page: Page, site: Site, x: float, y: float, text: str) -> str:
    before = set(listed(site))
    click_at(page, x, y)
    send(page, text, name="Ann")
    expect(conversation_window(page).locator(".ic-msg:not(.ic-sending)")).to_have_count(1)
    page.keyboard.press("Escape")
    (made,) = set(listed(site)) - before
    return made


def test_conversations_follow_the_image_from_v1_to_v2(
    browser: Browser, site: Site, artifacts: Path
) -> None:
    errors: list[str] = []
    ann_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    bo_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        ann = open_page(ann_ctx, site, errors)
        # The widget reports the image it shows: that is version 1.
        for _ in range(150):
            if versions(site):
                break
            ann.wait_for_timeout(100)
        assert [v["version"] for v in versions(site)] == [1]

        # Conversations on v1: three points by click, and a region drawn by dragging.
        t = site.truths
        same = new_conversation(ann, site, t[SAME].anchor.x, t[SAME].anchor.y, "Is this aligned?")
        changed = new_conversation(ann, site, t[CHANGED].anchor.x, t[CHANGED].anchor.y,
                                   "This card needs another colour")
        lost = new_conversation(ann, site, t[LOST].anchor.x, t[LOST].anchor.y,
                                "Too close to the edge")
        box = ann.locator(IMAGE).bounding_box()
        assert box is not None
        ann.mouse.move(box["x"] + box["width"] * 0.20, box["y"] + box["height"] * 0.10)
        ann.mouse.down()
        ann.mouse.move(box["x"] + box["width"] * 0.30, box["y"] + box["height"] * 0.15, steps=4)
        ann.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.20, steps=4)
        ann.mouse.up()
        expect(ann.locator(".ic-region.ic-pending")).to_be_visible()
        send(ann, "The whole header", name="Ann")
        expect(conversation_window(ann).locator(".ic-msg:not(.ic-sending)")).to_have_count(1)
        ann.keyboard.press("Escape")
        regions = [c for c in listed(site).values() if c["region"]]
        assert len(regions) == 1
        region = regions[0]["region"]
        assert isinstance(region, dict)
        assert region["shape"] == "rect"
        assert abs(float(region["x"]) - 20) < 0.5 and abs(float(region["w"]) - 15) < 0.5
        assert abs(float(region["y"]) - 10) < 0.5 and abs(float(region["h"]) - 10) < 0.5
        assert (regions[0]["x"], regions[0]["y"]) == (region["x"], region["y"])
        outline = ann.locator(".ic-region:not(.ic-pending):not(.ic-draft)")
        expect(outline).to_have_count(1)
        # Drawn in % (it keeps its place when the image is resized), lit with its marker.
        assert outline.evaluate("o => [o.style.left, o.style.width].join(' ')") == (
            f"{float(region['x']):g}% {float(region['w']):g}%")
        region_marker = marker(ann, str(regions[0]["_id"]))
        region_marker.hover()
        expect(outline).to_have_class(has("ic-hot"))
        ann.mouse.move(0, 0)
        expect(outline).not_to_have_class(has("ic-hot"))
        ann.mouse.move(box["x"] + box["width"] * 0.275, box["y"] + box["height"] * 0.15)
        expect(outline).to_have_class(has("ic-hot"))
        expect(region_marker).to_have_class(has("ic-hot"))
        ann.mouse.move(0, 0)
        expect(outline).not_to_have_class(has("ic-hot"))
        colour = "o => getComputedStyle(o).borderTopColor"
        light = outline.evaluate(colour)
        ann.evaluate("document.body.classList.add('dark')")
        expect(ann.locator(".ic-wrap.ic-dark")).to_have_count(1)
        assert outline.evaluate(colour) != light
        ann.evaluate("document.body.classList.remove('dark')")
        # A click still makes a point, not a region.
        assert sum(1 for c in listed(site).values() if not c["region"]) == 3
        # By keyboard: arrows place the corner, Shift+arrows size the region from it.
        ann.locator(".ic-wrap").focus()
        for key in ["ArrowRight"] * 3 + ["Shift+ArrowRight"] * 4 + ["Shift+ArrowDown"] * 2:
            ann.keyboard.press(key)
        draft = ann.locator(".ic-key-draft")
        expect(draft).to_be_visible()
        assert draft.evaluate("d => [d.style.left, d.style.top, d.style.width, d.style.height]"
                              ) == ["56%", "50%", "8%", "4%"]
        ann.keyboard.press("Enter")
        expect(ann.locator(".ic-region.ic-pending")).to_be_visible()
        expect(draft).to_be_hidden()
        ann.keyboard.press("Escape")
        expect(ann.locator(".ic-region.ic-pending")).to_have_count(0)

        # Another viewer, on the same page with v1.
        bo = open_page(bo_ctx, site, errors)
        expect(bo.locator(".ic-marker:not(.ic-pending)")).to_have_count(4)

        # The page swaps its image to v2: the markers move to their places on it, for both.
        ann.evaluate(f"document.querySelector('{IMAGE}').src = 'v2.png'")
        for page in (ann, bo):
            expect_near(page, same, t[SAME].x, t[SAME].y, TOLERANCE)
            expect(marker(page, changed)).to_have_class(has("ic-carry-changed"))
            expect(marker(page, lost)).to_have_class(has("ic-carry-lost"))
            expect(marker(page, same)).not_to_have_class(has("ic-carry-(changed|lost)"))
        assert [v["version"] for v in versions(site)] == [1, 2]
        assert bo.locator(IMAGE).evaluate("i => i.currentSrc").endswith("/v2.png")
        x, y = place_of(ann, changed)
        assert abs(x - t[CHANGED].x) <= TOLERANCE and abs(y - t[CHANGED].y) <= TOLERANCE
        # The switcher shows the latest version.
        expect(ann.locator(".ic-versions")).to_have_value("2")

        # The changed one is resolved in one click, and the other viewer sees it.
        quick = ann.locator(f'.ic-quick-resolve[data-id="{changed}"]')
        expect(quick).to_have_count(1)
        expect(quick).to_have_attribute("aria-label",
                                        "Mark conversation 2 resolved (the image changed there)")
        quick.click()
        expect(marker(ann, changed)).to_have_class(has("ic-resolved"))
        expect(marker(bo, changed)).to_have_class(has("ic-resolved"))
        expect(quick).to_have_count(0)

        # The lost one waits in "needs review"; Ann drags it into place.
        review = ann.locator(".ic-review-btn")
        expect(review).to_have_text("Needs review: 1")
        review.click()
        item = ann.locator(".ic-review-item")
        expect(item).to_have_count(1)
        expect(review).to_have_attribute("aria-expanded", "true")
        expect(item).to_be_focused()
        violations = axe_violations(ann)
        assert violations == [], json.dumps(violations, indent=1)
        # By keyboard it is picked, for the cross-hair to place; Escape gives up.
        item.press("Enter")
        expect(ann.locator(".ic-review")).to_have_count(0)
        expect(ann.locator(".ic-wrap")).to_be_focused()
        ann.keyboard.press("Escape")
        review.click()
        expect(item).to_have_count(1)
        box = ann.locator(IMAGE).bounding_box()
        assert box is not None
        item.hover()
        ann.mouse.down()
        ann.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5, steps=6)
        ann.mouse.up()
        for page in (ann, bo):
            expect_near(page, lost, 70, 50, 0.3)
            expect(marker(page, lost)).not_to_have_class(has("ic-carry-lost"))
        expect(review).to_have_count(0)
        moved = listed(site)[lost]
        assert moved["carry"] == "moved" and moved["positionVersion"] == 2

        # The compare view: v1 and v2 side by side, each with its markers; then as an overlay.
        ann.set_viewport_size({"width": 1200, "height": 640})
        ann.locator(".ic-compare-btn").click()
        dialog = ann.locator(".ic-compare")
        expect(dialog).to_be_visible()
        panes = dialog.locator(".ic-compare-pane")
        expect(panes).to_have_count(2)
        for n, pane in enumerate((panes.nth(0), panes.nth(1)), start=1):
            expect(pane.locator(".ic-compare-caption")).to_contain_text(f"Version {n}")
            expect(pane.locator(".ic-compare-marker")).to_have_count(4)
            pane.locator("img").evaluate(
                "i => i.complete && i.naturalWidth ? true : new Promise(r => i.onload = r)")
        v1_marker = panes.nth(0).locator(f'.ic-compare-marker[data-id="{same}"]')
        v2_marker = panes.nth(1).locator(f'.ic-compare-marker[data-id="{same}"]')
        left = "p => parseFloat(p.style.left)"
        assert abs(float(v1_marker.evaluate(left)) - t[SAME].anchor.x) < 0.5
        assert abs(float(v2_marker.evaluate(left)) - t[SAME].x) <= TOLERANCE
        expect(panes.nth(1).locator(".ic-region")).to_have_count(1)
        ann.screenshot(path=str(artifacts / "compare-view.png"))
        violations = axe_violations(ann)
        assert violations == [], json.dumps(violations, indent=1)
        dialog.locator(".ic-compare-mode[data-mode=overlay]").click()
        slider = dialog.locator(".ic-compare-opacity")
        expect(slider).to_be_visible()
        slider.fill("30")
        assert panes.nth(1).evaluate("p => p.style.opacity") == "0.3"
        # A modal: the keyboard goes round its controls (the close button is last).
        close = dialog.locator(".ic-close")
        close.focus()
        ann.keyboard.press("Tab")
        expect(dialog.locator(".ic-compare-pick").first).to_be_focused()
        ann.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(ann.locator(".ic-compare-btn")).to_be_focused()

        # Version 1 again, from the switcher: the markers are where they were on it.
        ann.locator(".ic-versions").select_option("1")
        expect_near(ann, same, t[SAME].anchor.x, t[SAME].anchor.y, 0.3)
        assert ann.locator(IMAGE).evaluate("i => i.currentSrc").endswith("/v1.png")
        assert errors == [], errors
    finally:
        ann_ctx.close()
        bo_ctx.close()
