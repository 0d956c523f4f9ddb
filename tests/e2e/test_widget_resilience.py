"""Two tabs, offline and a server restart (the README's "Embedding the widget": offline
and reconnecting)."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, WebSocketRoute, expect

from tests.e2e.conftest import RestartableServer
from tests.e2e.widget_helpers import (
    api_create_conversation,
    api_reply,
    banner,
    click_image,
    conversation_window,
    markers,
    messages,
    open_demo,
    send,
    wait_live,
)


def test_two_tabs_of_one_user_stay_in_sync(browser: Browser, server: str) -> None:
    context = browser.new_context(locale="en-US")
    try:
        one = open_demo(context, server)
        two = open_demo(context, server)

        click_image(one, 0.6, 0.5)
        send(one, "First tab speaking", name="Tess")
        expect(markers(two)).to_have_count(1)
        markers(two).first.click()
        expect(messages(two)).to_have_count(1)
        # The name was asked once for the whole browser: the second tab does not ask again.
        expect(conversation_window(two).locator(".ic-name-input")).to_have_count(0)

        send(two, "Second tab answering")
        expect(messages(one)).to_have_count(2)
        expect(messages(one).nth(1)).to_contain_text("Second tab answering")

        # An edit in one tab shows in the other (the editKey is shared by the browser).
        messages(one).first.locator(".ic-edit").click()
        form = conversation_window(one).locator(".ic-edit-form")
        form.locator("textarea").fill("First tab, edited")
        form.locator("button[type=submit]").click()
        expect(messages(two).first).to_contain_text("First tab, edited")

        # A delete too.
        messages(two).nth(1).locator(".ic-delete").click()
        expect(messages(two)).to_have_count(1)
        expect(messages(one)).to_have_count(1)
        expect(markers(one).first).to_have_text("1")
    finally:
        context.close()


def test_offline_refuses_writes_and_catches_up(browser: Browser, server: str) -> None:
    ann_ctx = browser.new_context(locale="en-US")
    try:
        created = api_create_conversation(server, 20, 30, "Before the outage")
        conversation = created["chat"]
        assert isinstance(conversation, dict)
        ann = open_demo(ann_ctx, server)
        expect(markers(ann)).to_have_count(1)
        markers(ann).first.click()
        expect(messages(ann)).to_have_count(1)

        ann_ctx.set_offline(True)
        expect(banner(ann)).to_be_visible()
        expect(banner(ann)).to_have_text("Offline")

        # Sending in the open chat is refused at once, with a message; the text is kept.
        send(ann, "Written while offline", name="Ann")
        expect(conversation_window(ann).locator(".ic-error")).to_contain_text("offline")
        expect(conversation_window(ann).locator(".ic-text")).to_have_value("Written while offline")
        expect(messages(ann)).to_have_count(1)

        # Creating a marker is refused too; what was there stays visible.
        conversation_window(ann).locator(".ic-close").click()
        click_image(ann, 0.7, 0.7)
        expect(ann.locator(".ic-toast")).to_contain_text("offline")
        expect(ann.locator(".ic-pending")).to_have_count(0)
        expect(conversation_window(ann)).to_have_count(0)
        expect(markers(ann)).to_have_count(1)
        expect(markers(ann).first).to_be_visible()

        # Meanwhile someone else writes.
        api_reply(server, str(conversation["windowUrlId"]), "Reply during the outage")
        api_create_conversation(server, 80, 60, "A new spot during the outage")

        ann_ctx.set_offline(False)
        expect(banner(ann)).to_be_hidden()
        wait_live(ann)
        expect(markers(ann)).to_have_count(2)
        expect(markers(ann).first).to_have_text("2")
        markers(ann).first.click()
        expect(messages(ann)).to_have_count(2)
        expect(messages(ann).nth(1)).to_contain_text("Reply during the outage")
    finally:
        ann_ctx.close()


def test_pages_reconnect_after_server_restart(
        browser: Browser, restartable_server: RestartableServer) -> None:
    srv = restartable_server
    ann_ctx = browser.new_context(locale="en-US")
    bob_ctx = browser.new_context(locale="en-US")
    try:
        ann = open_demo(ann_ctx, srv.base)
        bob = open_demo(bob_ctx, srv.base)
        click_image(ann, 0.25, 0.25)
        send(ann, "Before the restart", name="Ann")
        expect(markers(bob)).to_have_count(1)
        markers(bob).first.click()
        expect(messages(bob)).to_have_count(1)
        window_url_id = ann.evaluate(
            "fetch('/comment-image-chats/demo?urlId=demo/mockup').then(r => r.json())"
            ".then(d => d.conversations[0].windowUrlId)")

        srv.stop()
        for page in (ann, bob):
            expect(banner(page)).to_have_text("Reconnecting…")

        # While the server is down, another node on the same database takes writes.
        with srv.other_node() as other:
            api_reply(other, window_url_id, "Written during the gap")
            api_create_conversation(other, 75, 75, "A marker from the gap")

        srv.start()
        for page in (ann, bob):
            expect(banner(page)).to_be_hidden(timeout=20_000)
            wait_live(page)
            expect(markers(page)).to_have_count(2)
        expect(messages(bob)).to_have_count(2)
        expect(messages(bob).nth(1)).to_contain_text("Written during the gap")
        # And the live path works again after the restart.
        # Ann has kept her conversation open all along: the gap's reply and the new one arrive.
        send(bob, "After the restart", name="Bob")
        expect(messages(ann)).to_have_count(3)
        expect(messages(ann).nth(1)).to_contain_text("Written during the gap")
    finally:
        ann_ctx.close()
        bob_ctx.close()


def test_seq_gap_and_resync_required(browser: Browser, server: str) -> None:
    """A lost frame is noticed by its seq gap and asked for again; `resync-required` reloads."""
    context = browser.new_context(locale="en-US")
    sent: list[str] = []
    mode = {"drop": "", "replace": False}

    def route(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()

        def from_client(message: str | bytes) -> None:
            sent.append(str(message))
            upstream.send(message)

        def from_server(message: str | bytes) -> None:
            text = str(message)
            if mode["drop"] and mode["drop"] in text:
                mode["drop"] = ""
                if mode["replace"]:  # the server "cannot" resume: pretend it said so
                    ws.send(json.dumps({"type": "resync-required", "urlId": "demo/mockup",
                                        "seq": 0, "epoch": ""}))
                return
            ws.send(message)

        ws.on_message(from_client)
        upstream.on_message(from_server)

    try:
        context.route_web_socket("**/sub?*", route)
        page = open_demo(context, server)

        # Lose the frame announcing a new marker; the next event reveals the gap.
        mode["drop"] = "new-image-chat"
        created = api_create_conversation(server, 40, 40, "Lost on the way")
        conversation = created["chat"]
        assert isinstance(conversation, dict)
        api_reply(server, str(conversation["windowUrlId"]), "Second message")
        expect(markers(page)).to_have_count(1)
        expect(markers(page).first).to_have_text("2")
        assert any('"op": "resync"' in m or '"op":"resync"' in m for m in sent), sent

        # Lose another frame, replaced by resync-required: the widget reloads the list by REST.
        mode.update(drop="new-image-chat", replace=True)
        api_create_conversation(server, 60, 60, "Reloaded")
        expect(markers(page)).to_have_count(2)
        wait_live(page)
    finally:
        context.close()
