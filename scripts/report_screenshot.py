"""Make docs/screenshots/review-report.png: page 1 of the PDF review report of the demo
mockup, after a short review (points, a region, replies, reactions, one resolved).

Run from the repository: `.venv/bin/python scripts/report_screenshot.py` (needs Chromium
at /usr/bin/chromium, to turn the SVG mockup into a PNG, and pdftoppm).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.image_host import image_host  # noqa: E402

from imagechat.app import create_app  # noqa: E402
from imagechat.settings import Settings  # noqa: E402

TENANT, URL_ID = "northwind", "northwind/home-v3.png"
OUT = ROOT / "docs" / "screenshots" / "review-report.png"

# (x, y, region or None, [(author, text), ...], resolved)
REVIEW = [
    (4.0, 14.5, (4.0, 14.5, 33.0, 10.5),
     [("Maya (design)", "Headline: can we try the serif at 56 px? It feels small next to "
       "the photo."), ("Tom", "Tried it, 56 px wraps on tablets. 52?")], False),
    (12.9, 38.5, None,
     [("Ravi", "Button contrast is too low for WCAG AA on the dark variant."),
      ("Maya (design)", "Fixed in v3: darker navy, 5.1:1 now.")], True),
    (91.2, 5.7, None, [("Tom", "The cart badge should update live when an item is added "
                        "from a product card.")], False),
    (53.5, 90.5, None, [("Zofia", "Dla sklepu w Polsce pokażmy cenę w złotych, "
                         "razem z VAT."), ("Łukasz", "Zgoda, dodam przełącznik waluty.")], False),
]


async def mockup_png() -> bytes:
    svg = (ROOT / "src/imagechat/web/demo/mockup.svg").read_text()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium")
        page = await browser.new_page(viewport={"width": 1200, "height": 750},
                                      device_scale_factor=2)
        await page.set_content(f"<body style='margin:0'>{svg}</body>")
        shot = await page.screenshot(clip={"x": 0, "y": 0, "width": 1200, "height": 750})
        await browser.close()
        return shot


async def report_pdf() -> bytes:
    picture = await mockup_png()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/demo.db",
                            outbound_allow_private=True)
        app = create_app(settings)
        async with image_host() as host, app.router.lifespan_context(app):
            src = host.put("/home-v3.png", picture)
            services = app.state.services
            await services.tenants.create("Northwind", tenant_id=TENANT, origins=[host.base])
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for n, (x, y, region, comments, resolved) in enumerate(REVIEW):
                    author, text = comments[0]
                    body = {"urlId": URL_ID, "x": x, "y": y, "src": src, "comment": text,
                            "commenterName": author, "anonUserId": f"anon-demo-{n:04d}"}
                    if region:
                        body["region"] = dict(zip(("x", "y", "w", "h"), region, strict=True),
                                              shape="rect")
                    made = (await client.post(f"/comment-image-chats/{TENANT}", json=body)
                            ).json()
                    first = made["comment"]["_id"]
                    for k, (who, reply) in enumerate(comments[1:]):
                        await client.post(f"/comments/{TENANT}", json={
                            "urlId": made["chat"]["urlId"], "comment": reply,
                            "parentId": first, "commenterName": who,
                            "anonUserId": f"anon-reply-{n}-{k}"})
                    for v, emoji in enumerate(["👍", "👍", "✅"][: n + 1]):
                        await client.post(f"/comments/{TENANT}/{first}/reactions", json={
                            "emoji": emoji, "on": True, "anonUserId": f"anon-react-{v}"})
                    if resolved:
                        await client.post(
                            f"/comment-image-chats/{TENANT}/{made['chat']['_id']}/resolve",
                            json={"resolved": True, "anonUserId": f"anon-demo-{n:04d}",
                                  "editKey": made["editKey"]})
                await services.image_versions.drain()
                tenant = await services.tenants.get(TENANT)
                return (await services.exports.export(tenant, URL_ID, "pdf")).body


def main() -> None:
    body = asyncio.run(report_pdf())
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "report.pdf"
        pdf.write_bytes(body)
        subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "90", "-png", "-singlefile",
                        str(pdf), str(OUT.with_suffix(""))], check=True)
    print(f"{OUT.relative_to(ROOT)} written")


if __name__ == "__main__":
    main()
