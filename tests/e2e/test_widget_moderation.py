"""Moderator mode in the widget: lock an image live for every viewer, ban a visitor."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from imagechat.auth.sso import make_token
from tests.server_process import running_server, tenant_database

TENANT = "mods"
URL_ID = "mods/mockup"

ADD_IMAGE = """
(cfg) => {
  const box = document.createElement('div');
  box.id = 'moderated';
  box.innerHTML = '<img src="/demo/mockup.svg" alt="Mockup under review" width="600" height="375">';
  document.querySelector('main').prepend(box);
  ImageChat(box, cfg);
}
"""


@pytest.fixture
def moderated_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server with a tenant of our own, whose API secret the test knows."""
    database_url, secret = tenant_database(tmp_path / "moderation.db", "Mods", TENANT)
    with running_server(database_url) as base:
        yield base, secret


def open_image(context: BrowserContext, server: str, sso: str | None) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server}/demo")
    config: dict[str, object] = {"tenantId": TENANT, "urlId": URL_ID}
    if sso is not None:
        config["sso"] = sso
    page.evaluate(ADD_IMAGE, config)
    expect(page.locator("#moderated .ic-wrap[data-live]")).to_have_count(1, timeout=15_000)
    assert errors == [], errors
    return page


def test_a_moderator_locks_the_image_live_and_bans_a_visitor(
    browser: Browser, moderated_server: tuple[str, str]
) -> None:
    server, secret = moderated_server
    token = json.dumps(make_token(secret, {"id": "mod-1", "username": "Maria",
                                           "isModerator": True}, int(time.time() * 1000)))
    created = httpx.post(f"{server}/comment-image-chats/{TENANT}", json={
        "urlId": URL_ID, "x": 30, "y": 40, "comment": "Buy cheap pills", "commenterName": "Troll",
        "anonUserId": "anon-troll-0001"})
    created.raise_for_status()
    mod_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    visitor_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        moderator = open_image(mod_ctx, server, token)
        visitor = open_image(visitor_ctx, server, None)
        mod_widget = moderator.locator("#moderated")
        visitor_widget = visitor.locator("#moderated")
        # Only the moderator has the lock switch.
        expect(visitor_widget.locator(".ic-lock")).to_have_count(0)
        lock = mod_widget.locator(".ic-lock")
        expect(lock).to_have_text("Lock image")

        # The visitor's open conversation loses its composer the moment the image is locked.
        visitor_widget.locator(".ic-marker").first.click()
        expect(visitor_widget.locator(".ic-win .ic-text")).to_have_count(1)
        lock.click()
        expect(lock).to_have_text("Unlock image")
        expect(mod_widget.locator(".ic-lock-note")).to_have_text(
            "Locked: only moderators can write.")
        expect(visitor_widget.locator(".ic-win .ic-text")).to_have_count(0)
        expect(visitor_widget.locator(".ic-win")).to_contain_text("This image is read-only.")
        refused = httpx.post(f"{server}/comment-image-chats/{TENANT}", json={
            "urlId": URL_ID, "x": 5, "y": 5, "comment": "x", "commenterName": "V",
            "anonUserId": "anon-visitor-01"})
        assert refused.status_code == 403 and refused.json()["code"] == "image-locked"

        # The moderator still writes, and bans the troll in two clicks.
        mod_widget.locator(".ic-marker").first.click()
        win = mod_widget.locator(".ic-win")
        expect(win.locator(".ic-text")).to_have_count(1)
        ban = win.locator(".ic-ban")
        expect(ban).to_have_count(1)
        ban.click()
        expect(ban).to_have_text("Confirm ban")
        ban.click()
        expect(mod_widget.locator(".ic-toast")).to_contain_text("Troll can no longer write here.")

        # Unlocked again: the visitor writes, the banned troll does not.
        lock.click()
        expect(lock).to_have_text("Lock image")
        expect(visitor_widget.locator(".ic-win .ic-text")).to_have_count(1)
        conversation = created.json()["chat"]
        troll = httpx.post(f"{server}/comments/{TENANT}",
                           params={"urlId": conversation["windowUrlId"]},
                           json={"comment": "again", "commenterName": "Troll",
                                 "anonUserId": "anon-troll-0001"})
        assert troll.status_code == 403 and troll.json()["code"] == "banned"
        log = httpx.get(f"{server}/api/v1/moderation-log", params={"tenantId": TENANT},
                        headers={"X-API-Key": secret}).json()["entries"]
        assert [e["action"] for e in log] == ["unlock", "ban", "lock"]
        assert {e["actor"] for e in log} == {"Maria (mod-1)"}
    finally:
        mod_ctx.close()
        visitor_ctx.close()
