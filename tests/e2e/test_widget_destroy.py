"""destroy() for single-page apps: everything the widget added goes, the rest keeps working."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.widget_helpers import api_create_conversation, api_reply

# Counts what the page holds that a widget could leave behind: pending timers, listeners
# on window and document, observers observing, and open WebSockets.
COUNT_WHAT_IS_ADDED = """
(() => {
  const held = { timers: new Set(), listeners: new Set(), observers: new Set(), sockets: new Set(),
                 socketsMade: 0 };
  const setTimeout0 = window.setTimeout, clearTimeout0 = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...rest) {
    const id = setTimeout0.call(window, function () {
      held.timers.delete(id);
      return fn.apply(this, arguments);
    }, ms, ...rest);
    held.timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) {
    held.timers.delete(id);
    return clearTimeout0.call(window, id);
  };
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  // A WeakMap has no size: each function gets the next number of its own.
  const ids = new WeakMap();
  let lastId = 0;
  const key = (target, type, fn) => {
    if (!ids.has(fn)) ids.set(fn, ++lastId);
    return (target === window ? 'window' : 'document') + ' ' + type + ' #' + ids.get(fn);
  };
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    if ((this === window || this === document) && fn) held.listeners.add(key(this, type, fn));
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    if ((this === window || this === document) && fn) held.listeners.delete(key(this, type, fn));
    return remove.call(this, type, fn, options);
  };
  for (const name of ['ResizeObserver', 'MutationObserver']) {
    window[name] = class extends window[name] {
      observe(...args) { held.observers.add(this); return super.observe(...args); }
      disconnect() { held.observers.delete(this); return super.disconnect(); }
    };
  }
  window.WebSocket = class extends window.WebSocket {
    constructor(...args) {
      super(...args);
      held.socketsMade += 1;
      held.sockets.add(this);
      add.call(this, 'close', () => held.sockets.delete(this));
    }
  };
  window.held = () => ({ timers: held.timers.size, listeners: [...held.listeners].sort(),
                         observers: held.observers.size, sockets: held.sockets.size,
                         socketsMade: held.socketsMade });
})();
"""

# A page of a single-page app showing two images; it loads the widget but starts none.
APP = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>An app</title>
<link rel="stylesheet" href="/js/embed-image-chat.min.css"></head>
<body><main id="app">
<div id="one"><img src="/demo/mockup.svg" alt="First mockup" width="600" height="375"></div>
<div id="two"><p>Second</p><img src="/demo/mockup.svg" alt="Second mockup" width="600"
  height="375"><p>after</p></div>
</main><script src="/js/embed-image-chat.min.js"></script></body></html>"""

START = """([name, target, config]) => {
  const options = Object.assign({tenantId: 'demo'}, config);
  window[name] = ImageChat(document.querySelector(target), options);
}"""


def open_app(browser: Browser, server: str) -> tuple[Page, list[str], list[str]]:
    """The app's page on the server's origin (so that its live connection is allowed)."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_init_script(COUNT_WHAT_IS_ADDED)
    page = context.new_page()
    errors: list[str] = []
    sent: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("websocket", lambda ws: ws.on("framesent", lambda text: sent.append(str(text))))
    page.goto(f"{server}/healthz")
    page.set_content(APP)
    page.wait_for_function("typeof window.ImageChat === 'function'")
    return page, errors, sent


def state(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        "({html: document.getElementById('app').innerHTML, held: held()})")
    return found


def test_destroy_takes_away_what_the_widget_added_and_nothing_else(
        browser: Browser, server: str) -> None:
    created = api_create_conversation(server, 30, 30, "On the first image", url_id="demo/one")
    conversation = created["chat"]
    assert isinstance(conversation, dict)
    page, errors, sent = open_app(browser, server)
    try:
        before = state(page)
        page.evaluate(START, ["one", "#one img", {"urlId": "demo/one"}])
        page.evaluate(START, ["two", "#two", {"urlId": "demo/two", "readonly": True}])
        expect(page.locator(".ic-wrap[data-live]")).to_have_count(2)

        # Some of everything is running: an open window, a toast on its timer, observers,
        # the page's one live connection and its online/offline listeners.
        page.locator("#one .ic-marker").click()
        expect(page.locator("#one .ic-win .ic-msg")).to_have_count(1)
        page.locator("#two img").click(position={"x": 100, "y": 100})
        expect(page.locator("#two .ic-toast")).to_have_text("This image is read-only.")
        during = page.evaluate("held()")
        assert during["sockets"] == 1 and during["timers"] >= 1, during
        assert during["observers"] == before["held"]["observers"] + 4, (before, during)
        assert len(during["listeners"]) > len(before["held"]["listeners"])

        # One image goes; the other keeps the connection and its live updates.
        page.evaluate("two.destroy()")
        assert page.evaluate("document.getElementById('two').outerHTML") in before["html"]
        expect(page.locator("#two [class^=ic-]")).to_have_count(0)
        api_reply(server, str(conversation["windowUrlId"]), "Still live")
        expect(page.locator("#one .ic-marker")).to_have_text("2")
        expect(page.locator("#one .ic-win .ic-msg")).to_have_count(2)
        assert any('"op":"leave"' in m and "demo/two" in m for m in sent), sent
        assert page.evaluate("held().sockets") == 1

        # The last one goes (twice is harmless), with the connection.
        page.evaluate("one.destroy(); one.destroy()")
        page.wait_for_function("held().sockets === 0")
        after = state(page)
        assert after["html"] == before["html"]
        assert {**after["held"], "socketsMade": 0} == {**before["held"], "socketsMade": 0}

        # Nothing comes back: going online again opens no connection, and a new widget on
        # the same image (the app navigated back) is the only one there, on a new connection.
        page.evaluate("window.dispatchEvent(new Event('online'))")
        api_create_conversation(server, 60, 60, "After the first widget went", url_id="demo/one")
        page.evaluate(START, ["again", "#one", {"urlId": "demo/one"}])
        expect(page.locator("#one .ic-wrap[data-live]")).to_have_count(1)
        expect(page.locator("#one .ic-marker")).to_have_count(2)
        assert page.evaluate("held().socketsMade") == 2

        # Destroyed before its list arrived: it never adds anything afterwards.
        page.evaluate(START, ["early", "#two", {"urlId": "demo/two"}])
        page.evaluate("early.destroy()")
        page.evaluate("again.destroy()")
        page.wait_for_function("held().sockets === 0")
        page.evaluate(START, ["last", "#one", {"urlId": "demo/one"}])
        expect(page.locator("#one .ic-wrap[data-live]")).to_have_count(1)
        page.evaluate("last.destroy()")
        page.wait_for_function("held().sockets === 0")
        final = state(page)
        assert final["html"] == before["html"]
        assert {**final["held"], "socketsMade": 0} == {**before["held"], "socketsMade": 0}
        assert errors == [], errors
    finally:
        page.context.close()
