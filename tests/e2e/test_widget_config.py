"""The options of the README's "Embedding the widget", and one shared socket for several
images on a page."""

from __future__ import annotations

from playwright.sync_api import Browser, WebSocket, expect

from tests.e2e.widget_helpers import api_create_conversation, api_reply, wait_live

ADD_IMAGES = """
() => {
  window.counts = [];
  const main = document.querySelector('main');
  for (const [id, cfg] of [
      ['second', {urlId: 'demo/second', locale: 'pl', chatSquarePercentage: 10,
                  commentCountUpdated: (n) => window.counts.push(n)}],
      ['third', {urlId: 'demo/third', readonly: true, locale: 'xx'}]]) {
    const box = document.createElement('div');
    box.id = id;
    box.innerHTML = '<img src="/demo/mockup.svg" alt="Second mockup" width="600" height="375">';
    main.appendChild(box);
    FastCommentsImageChat(box, Object.assign({tenantId: 'demo'}, cfg));
  }
}
"""


def test_several_images_share_one_socket_and_honour_their_config(
        browser: Browser, server: str) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sockets: list[WebSocket] = []
        page.on("websocket", lambda ws: sockets.append(ws))
        page.goto(f"{server}/demo")
        wait_live(page)
        page.evaluate(ADD_IMAGES)
        expect(page.locator(".ic-wrap[data-live]")).to_have_count(3)
        assert len(sockets) == 1, [s.url for s in sockets]

        second = page.locator("#second .ic-wrap")
        third = page.locator("#third .ic-wrap")
        # Polish strings, with English as the fallback for an unknown locale.
        assert (second.get_attribute("aria-label") or "").startswith("Obraz z rozmowami")
        assert (third.get_attribute("aria-label") or "").startswith("Image with conversations")

        # Events of each image reach only that image's markers, over the one socket.
        first = api_create_conversation(server, 50, 50, "On the second image", url_id="demo/second")
        conversation = first["chat"]
        assert isinstance(conversation, dict)
        api_create_conversation(server, 10, 10, "On the first image")
        expect(second.locator(".ic-marker")).to_have_count(1)
        expect(page.locator(".ic-wrap").first.locator(".ic-marker")).to_have_count(1)
        expect(third.locator(".ic-marker")).to_have_count(0)
        expect(second.locator(".ic-marker")).to_have_attribute(
            "aria-label", "Rozmowa 1, wiadomości: 1")

        # commentCountUpdated gets the total over all markers of its image.
        api_reply(server, str(conversation["windowUrlId"]), "Second message")
        api_create_conversation(server, 20, 20, "Another one", url_id="demo/second")
        page.wait_for_function("window.counts[window.counts.length - 1] === 3")

        # 10 % of a 600 px image: 60 px markers.
        box = second.locator(".ic-marker").first.bounding_box()
        assert box is not None and round(box["width"]) == 60

        # Read-only: clicking the image starts nothing.
        third.locator("img").click(position={"x": 100, "y": 100})
        expect(third.locator(".ic-toast")).to_have_text("This image is read-only.")
        expect(third.locator(".ic-win")).to_have_count(0)
        assert len(sockets) == 1
    finally:
        context.close()
