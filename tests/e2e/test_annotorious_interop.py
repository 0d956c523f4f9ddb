"""Interop with a real Web Annotation client (issue 15, point 2): Annotorious, from npm,
on a page of another origin, reads and writes an image's annotations through
/annotations/..., while the ImageChat widget shows the same image on a second page.

- Annotorious loads the image's annotations from the container (a conversation made
  through the REST API beforehand is there, in its place).
- A rectangle drawn in Annotorious with the mouse is POSTed to the container and appears
  live, as a marker, in the widget on the other page.
- A marker placed in the widget appears in Annotorious without reloading: the test page's
  glue listens to ImageChat's live socket for the image and reloads the container on each
  conversation event (Annotorious itself has no live channel).
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from tests.e2e.widget_helpers import conversation_window, markers, send, wait_live
from tests.server_process import free_port, running_server

ANNOTORIOUS = Path(__file__).parent / "node_modules" / "@annotorious" / "annotorious" / "dist"
URL_ID = "e2e/photo"
WIDTH, HEIGHT = 800, 500

ANNOTORIOUS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Annotorious</title>
<link rel="stylesheet" href="/annotorious.css"></head>
<body style="margin:0">
<img id="photo" src="/photo.png" width="800" height="500" alt="A photo">
<script src="/annotorious.js"></script>
<script>
const SERVER = "__SERVER__";
const MEDIA = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"';
const CONTAINER = SERVER + "/annotations/demo/" + encodeURIComponent("__URL_ID__") + "/";
const PREFER = 'return=representation;include="http://www.w3.org/ns/oa#PreferContainedDescriptions"';
const img = document.getElementById("photo");
const anno = Annotorious.createImageAnnotator(img, {adapter: Annotorious.W3CImageFormat(img.src)});
window.anno = anno;
window.loads = 0;
window.saved = [];

// Every annotation on a place of the image (replies and whole-image notes have no shape).
async function load() {
  const headers = {Accept: MEDIA, Prefer: PREFER};
  const items = [];
  const container = await (await fetch(CONTAINER, {headers})).json();
  let page = container.first;
  while (page) {
    items.push(...page.items);
    page = page.next ? await (await fetch(page.next, {headers})).json() : null;
  }
  anno.setAnnotations(items.filter(a => a.motivation !== "replying" && a.target.selector));
  window.loads += 1;
}

// What a user draws is saved through the protocol, with the comment typed for it.
anno.on("createAnnotation", async (drawn) => {
  const w3c = {...drawn, body: [{type: "TextualBody", purpose: "commenting",
                                 value: "Drawn in Annotorious"}]};
  const res = await fetch(CONTAINER + "?anonUserId=annotorious-page&commenterName=Ann", {
    method: "POST", headers: {"Content-Type": MEDIA, Accept: MEDIA}, body: JSON.stringify(w3c)});
  window.saved.push({status: res.status, location: res.headers.get("Location"),
                     etag: res.headers.get("ETag"), body: await res.json()});
  await load();
});

// The live glue: ImageChat's live socket for this image; each conversation event reloads.
const socket = new WebSocket(SERVER.replace(/^http/, "ws") + "/sub?urlId=" +
  encodeURIComponent("__URL_ID__") + "&tenantIdWS=demo&userIdWS=annotorious-page&batch=1");
socket.onmessage = (message) => {
  const events = [].concat(JSON.parse(message.data));
  if (events.some(e => /image-chat/.test(e.type || ""))) load();
};
socket.onopen = () => load();
</script></body></html>
"""

WIDGET_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Widget</title>
<link rel="stylesheet" href="__SERVER__/js/embed-image-chat.min.css"></head>
<body style="margin:0">
<img id="photo" src="/photo.png" width="800" height="500" alt="A photo">
<script src="__SERVER__/js/embed-image-chat.min.js"></script>
<script>ImageChat(document.getElementById("photo"), {tenantId: "demo", urlId: "__URL_ID__",
                                                    locale: "en"});</script>
</body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    """A static site on another origin than ImageChat: the pages, the photo, Annotorious."""
    root = tmp_path / "site"
    root.mkdir()
    if not (ANNOTORIOUS / "annotorious.js").exists():
        pytest.fail("Annotorious is missing: npm ci --prefix tests/e2e")
    for name in ("annotorious.js", "annotorious.css"):
        shutil.copy(ANNOTORIOUS / name, root / name)
    photo = Image.new("RGB", (WIDTH, HEIGHT), (236, 240, 244))
    draw = ImageDraw.Draw(photo)
    for i in range(12):
        draw.rectangle((40 + 60 * i, 60 + 25 * (i % 4), 80 + 60 * i, 140 + 25 * (i % 4)),
                       fill=(30 + 18 * i, 90, 200 - 12 * i))
    photo.save(root / "photo.png")
    yield root


@pytest.fixture
def static_base(site: Path) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()),
                                functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def imagechat(tmp_path: Path) -> Iterator[str]:
    # The photo is on 127.0.0.1: the server may fetch it (to learn its natural size).
    with running_server(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
                        env={"IMAGECHAT_OUTBOUND_ALLOW_PRIVATE": "true"}) as base:
        yield base


def _write_pages(site: Path, server: str) -> None:
    for name, template in (("annotorious.html", ANNOTORIOUS_PAGE), ("widget.html", WIDGET_PAGE)):
        (site / name).write_text(template.replace("__SERVER__", server)
                                 .replace("__URL_ID__", URL_ID))


def _annotations(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.anno.getAnnotations()")
    return found


def _pixel_box(annotation: dict[str, Any]) -> list[float]:
    selector = annotation["target"]["selector"]
    first = selector[0] if isinstance(selector, list) else selector
    value = str(first["value"])
    assert value.startswith("xywh=pixel:"), value
    return [float(v) for v in value.removeprefix("xywh=pixel:").split(",")]


def test_annotorious_and_the_widget_share_annotations_live(
        browser: Browser, imagechat: str, static_base: str, site: Path) -> None:
    _write_pages(site, imagechat)
    src = f"{static_base}/photo.png"
    # The image as the widget reports it: the server fetches it and learns its size.
    reported = httpx.post(f"{imagechat}/image-versions/demo",
                          json={"urlId": URL_ID, "src": src, "anonUserId": "e2e-report"})
    assert reported.status_code == 200, reported.text
    assert (reported.json()["image"]["width"], reported.json()["image"]["height"]) == (
        WIDTH, HEIGHT)
    # A conversation on a region, made before either page opens.
    seeded = httpx.post(f"{imagechat}/comment-image-chats/demo", json={
        "urlId": URL_ID, "src": src, "region": {"shape": "rect", "x": 10, "y": 20, "w": 25,
                                                "h": 30},
        "comment": "Seeded through REST", "commenterName": "Dana", "anonUserId": "e2e-dana"})
    assert seeded.status_code == 200, seeded.text

    errors: list[str] = []
    annotorious_ctx = browser.new_context(viewport={"width": 1000, "height": 700})
    widget_ctx = browser.new_context(locale="en-US", viewport={"width": 1000, "height": 700})
    try:
        tool = annotorious_ctx.new_page()
        tool.on("pageerror", lambda exc: errors.append(str(exc)))
        tool.goto(f"{static_base}/annotorious.html")
        tool.wait_for_function("window.loads >= 1", timeout=15_000)
        # Annotorious loaded the seeded conversation, in pixels of the natural size.
        [loaded] = _annotations(tool)
        assert _pixel_box(loaded) == [80, 100, 200, 150]

        widget = widget_ctx.new_page()
        widget.on("pageerror", lambda exc: errors.append(str(exc)))
        widget.goto(f"{static_base}/widget.html")
        wait_live(widget)
        expect(markers(widget)).to_have_count(1)

        # Draw a rectangle in Annotorious: press, drag, release.
        box = tool.locator("#photo").bounding_box()
        assert box is not None
        tool.mouse.move(box["x"] + 400, box["y"] + 250)
        tool.mouse.down()
        tool.mouse.move(box["x"] + 480, box["y"] + 300, steps=8)
        tool.mouse.move(box["x"] + 560, box["y"] + 350, steps=8)
        tool.mouse.up()
        tool.wait_for_function("window.saved.length === 1", timeout=15_000)
        saved = tool.evaluate("window.saved[0]")
        assert saved["status"] == 201 and saved["etag"], saved
        assert saved["location"] == saved["body"]["id"]
        assert saved["location"].startswith(f"{imagechat}/annotations/demo/e2e%2Fphoto/")

        # It appears live in the widget on the other page: a marker at the rectangle's
        # top-left corner (50 %, 50 %), whose thread holds the comment typed with it.
        expect(markers(widget)).to_have_count(2, timeout=15_000)
        conversations = httpx.get(f"{imagechat}/comment-image-chats/demo",
                                  params={"urlId": URL_ID}).json()["conversations"]
        drawn = next(c for c in conversations if c["_id"] == saved["location"].rsplit("/", 1)[1])
        assert drawn["region"] == {"shape": "rect", "x": 50, "y": 50, "w": 20, "h": 20}
        image = widget.locator("#photo").bounding_box()
        newest = markers(widget).nth(1).bounding_box()
        assert image is not None and newest is not None
        assert abs(newest["x"] + newest["width"] / 2 - (image["x"] + 400)) < 20
        assert abs(newest["y"] + newest["height"] / 2 - (image["y"] + 250)) < 20
        markers(widget).nth(1).click()
        expect(conversation_window(widget)).to_contain_text("Drawn in Annotorious")
        widget.keyboard.press("Escape")

        # The other way round: a marker placed in the widget shows in Annotorious live.
        before = tool.evaluate("window.loads")
        widget.mouse.click(image["x"] + 0.25 * image["width"], image["y"] + 0.75 * image["height"])
        expect(conversation_window(widget)).to_be_visible()
        send(widget, "Placed in the widget", name="Bob")
        tool.wait_for_function(f"window.loads > {before} && "
                               "window.anno.getAnnotations().length === 3", timeout=15_000)
        placed = [a for a in _annotations(tool)
                  if a["id"] not in (loaded["id"], saved["location"])]
        assert len(placed) == 1
        x, y, w, h = _pixel_box(placed[0])
        assert (w, h) == (0, 0) and abs(x - 200) <= 2 and abs(y - 375) <= 2
        assert errors == []
    finally:
        annotorious_ctx.close()
        widget_ctx.close()
