"""Live sync in a real browser: two users, two tabs (issue 4, "Done when")."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.e2e.widget_helpers import (
    click_image,
    conversation_window,
    markers,
    messages,
    open_demo,
    send,
)


def test_two_users_see_markers_and_messages_live(browser: Browser, server: str) -> None:
    ann_ctx = browser.new_context(locale="en-US")
    bob_ctx = browser.new_context(locale="en-US")
    try:
        ann = open_demo(ann_ctx, server)
        bob = open_demo(bob_ctx, server)

        # Ann places a marker and writes the first message: that creates the conversation.
        click_image(ann, 0.3, 0.4)
        expect(conversation_window(ann)).to_be_visible()
        send(ann, "Could this button be <b>bigger</b>?", name="Ann")
        expect(messages(ann)).to_have_count(1)
        expect(messages(ann).first).to_contain_text("Could this button be bigger?")
        expect(messages(ann).first.locator(".ic-name")).to_have_text("Ann")

        # Bob sees the marker appear without reloading, opens it and reads the message.
        expect(markers(bob)).to_have_count(1)
        markers(bob).first.click()
        expect(messages(bob)).to_have_count(1)
        expect(messages(bob).first).to_contain_text("Could this button be bigger?")
        expect(messages(bob).first.locator("b")).to_have_text("bigger")

        # Bob replies; Ann, who has the conversation open, sees it arrive.
        send(bob, "Yes, and <script>alert(1)</script>blue.", name="Bob")
        expect(messages(bob)).to_have_count(2)
        expect(messages(ann)).to_have_count(2)
        expect(messages(ann).nth(1)).to_contain_text("Yes, and blue.")
        expect(messages(ann).nth(1).locator(".ic-name")).to_have_text("Bob")
        expect(messages(ann).nth(1).locator("script")).to_have_count(0)
        expect(markers(ann).first).to_have_text("2")
        expect(markers(bob).first).to_have_text("2")

        # Ann deletes the whole conversation; it vanishes for Bob, window included.
        conversation_window(ann).locator(".ic-del-chat").click()
        expect(markers(ann)).to_have_count(0)
        expect(markers(bob)).to_have_count(0)
        expect(conversation_window(bob)).to_have_count(0)
    finally:
        ann_ctx.close()
        bob_ctx.close()
