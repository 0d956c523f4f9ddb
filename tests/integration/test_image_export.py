"""Exports of an image (README "Exports"): the CSV's rows, the PDF review report as it
looks (its first page rendered with pdftoppm, the markers found by their pixels and their
numbers by pdftotext), the report without its image, the API's secret and errors, the
dashboard's downloads and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from PIL import Image
from typer.testing import CliRunner

from imagechat.app import create_app
from imagechat.cli import app as cli_app
from imagechat.domain.clock import FixedClock
from imagechat.services.export_pdf import MARKER_RGB, REGION_RGB
from imagechat.settings import Settings
from tests.conftest import _empty_postgres
from tests.helpers import make_tenant, services
from tests.image_host import ImageHost, image_host
from tests.integration.dashboard_helpers import sign_in

TENANT, URL_ID = "acme", "mockups/home page.png"
ANON = {"anonUserId": "anon-zofia-001", "commenterName": "Zofia Łęcka"}
# The test image: one flat colour nothing else on the page has, so the image's place on the
# rendered page is where that colour is.
BACKGROUND = (205, 232, 214)
# (x, y) of each point, in percent; the third conversation is a region (x, y, w, h).
POINTS = [(20.0, 30.0), (75.0, 65.0)]
REGION = (40.0, 10.0, 25.0, 30.0)
DPI = 100

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None and not os.environ.get("CI"),
    reason="poppler-utils (pdftoppm) is not installed; scripts/test installs it")


def picture(size: tuple[int, int] = (800, 500)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, BACKGROUND).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[FastAPI]:
    if database_url.startswith("postgresql"):
        await _empty_postgres(database_url)
    application = create_app(Settings(database_url=database_url, outbound_allow_private=True,
                                      image_recheck_secs=0), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def host() -> AsyncIterator[ImageHost]:
    async with image_host() as served:
        yield served


async def post_conversation(client: httpx.AsyncClient, src: str, x: float, y: float, comment: str,
                            **extra: Any) -> dict[str, Any]:
    response = await client.post(f"/comment-image-chats/{TENANT}", json={
        "urlId": URL_ID, "x": x, "y": y, "src": src, "comment": comment, **ANON, **extra})
    assert response.status_code == 200, response.text
    body = response.json()
    return {**body["chat"], "editKey": body.get("editKey")}


async def review(app: FastAPI, client: httpx.AsyncClient, src: str) -> list[dict[str, Any]]:
    """Three conversations (two points, one region), a reply, reactions, one resolved."""
    clock: FixedClock = services(app).clock  # type: ignore[assignment]
    conversations = []
    for x, y, text, extra in [
            (*POINTS[0], "Logo <b>za duże</b>, =SUM(A1)", {}),
            (*POINTS[1], "Ten przycisk?\nDruga linia", {}),
            (REGION[0], REGION[1], "Cały nagłówek", {"region": {
                "shape": "rect", "x": REGION[0], "y": REGION[1], "w": REGION[2],
                "h": REGION[3]}})]:
        conversations.append(await post_conversation(client, src, x, y, text, **extra))
        clock.advance(60_000)
    await services(app).image_versions.drain()
    first = (await client.get(f"/comments/{TENANT}",
                              params={"urlId": conversations[0]["urlId"]})).json()["comments"][0]
    reply = await client.post(f"/comments/{TENANT}", json={
        "urlId": conversations[0]["urlId"], "comment": "@Bob ok, zmniejszę",
        "parentId": first["_id"], "commenterName": "Bob", "anonUserId": "anon-bob-0001"})
    assert reply.status_code == 200, reply.text
    for voter in ("anon-r-0001", "anon-r-0002"):
        reacted = await client.post(f"/comments/{TENANT}/{first['_id']}/reactions",
                                    json={"emoji": "👍", "on": True, "anonUserId": voter})
        assert reacted.status_code == 200, reacted.text
    resolved = await client.post(f"/comment-image-chats/{TENANT}/{conversations[1]['_id']}/resolve",
                                 json={"resolved": True, **ANON,
                                       "editKey": conversations[1]["editKey"]})
    assert resolved.status_code == 200, resolved.text
    return conversations


def export_params(fmt: str, **extra: str) -> dict[str, str]:
    return {"tenantId": TENANT, "urlId": URL_ID, "format": fmt, **extra}


async def api_export(app: FastAPI, client: httpx.AsyncClient, fmt: str) -> httpx.Response:
    tenant = await services(app).tenants.get(TENANT)
    return await client.get("/api/v1/images/export", params=export_params(fmt),
                            headers={"X-API-Key": tenant.api_secret})


async def test_csv_has_one_row_per_comment_with_place_state_and_plain_text(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost
) -> None:
    await make_tenant(app, TENANT)
    src = host.put("/home.png", picture())
    conversations = await review(app, client, src)
    response = await api_export(app, client, "csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == \
        'attachment; filename="mockups-home-page.png.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["conversation"], r["conversationId"], r["shape"], r["x"], r["y"], r["w"],
             r["h"], r["resolved"], r["author"]) for r in rows] == [
        ("1", conversations[0]["_id"], "point", "20", "30", "", "", "no", "Zofia Łęcka"),
        ("1", conversations[0]["_id"], "point", "20", "30", "", "", "no", "Bob"),
        ("2", conversations[1]["_id"], "point", "75", "65", "", "", "yes", "Zofia Łęcka"),
        ("3", conversations[2]["_id"], "rect", "40", "10", "25", "30", "no", "Zofia Łęcka")]
    # Markup dropped, a formula kept as text, line breaks kept inside one quoted cell.
    assert rows[0]["text"] == "Logo za duże, =SUM(A1)"
    assert rows[2]["text"] == "Ten przycisk?\nDruga linia"
    assert rows[0]["reactions"] == "👍 2" and rows[1]["reactions"] == ""
    # The reply after what it answers; it starts with `@`, so a quote keeps it text.
    assert rows[1]["parentId"] == rows[0]["commentId"]
    assert rows[1]["text"] == "'@Bob ok, zmniejszę"
    assert {r["version"] for r in rows} == {"1"} and {r["urlId"] for r in rows} == {URL_ID}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[0]["date"])
    assert rows[2]["resolvedAt"] and rows[0]["resolvedAt"] == ""


def _rendered_first_page(pdf: bytes, tmp_path: Path) -> tuple[np.ndarray, str]:
    """Page 1 at DPI as RGB pixels, and its words with their boxes (pdftotext -bbox)."""
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(DPI), "-png",
                    "-singlefile", str(source), str(tmp_path / "page")], check=True,
                   timeout=60)
    subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", str(source),
                    str(tmp_path / "words.html")], check=True, timeout=60)
    pixels = cv2.cvtColor(cv2.imread(str(tmp_path / "page.png")), cv2.COLOR_BGR2RGB)
    return np.asarray(pixels), (tmp_path / "words.html").read_text()


def _mask(pixels: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 30) -> np.ndarray:
    return np.all(np.abs(pixels.astype(int) - np.array(rgb)) <= tolerance, axis=2)


def _blobs(mask: np.ndarray, min_area: int = 40) -> list[tuple[float, float]]:
    _, _, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    return sorted((float(cx), float(cy)) for i, (cx, cy) in enumerate(centroids)
                  if i and stats[i, cv2.CC_STAT_AREA] >= min_area)


@needs_poppler
async def test_pdf_first_page_shows_the_image_with_numbered_markers_in_place(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost, tmp_path: Path
) -> None:
    await make_tenant(app, TENANT, origins=[host.base])
    src = host.put("/home.png", picture())
    await review(app, client, src)
    fetched = host.hits["/home.png"]
    response = await api_export(app, client, "pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == \
        'attachment; filename="mockups-home-page.png.pdf"'
    assert host.hits["/home.png"] == fetched + 1  # fetched for the report, never kept
    pixels, words = _rendered_first_page(response.content, tmp_path)

    image = np.argwhere(_mask(pixels, BACKGROUND, 6))
    (top, left), (bottom, right) = image.min(axis=0), image.max(axis=0)
    width, height = right - left, bottom - top
    assert width > 400 and abs(width / height - 800 / 500) < 0.02

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x / 100 * width, top + y / 100 * height

    expected = [at(*POINTS[0]), at(*POINTS[1]), at(REGION[0], REGION[1])]
    found = _blobs(_mask(pixels, MARKER_RGB))
    assert len(found) == 3, found
    tolerance = 0.012 * width
    for number, (ex, ey) in enumerate(expected, start=1):
        near = [(fx, fy) for fx, fy in found if abs(fx - ex) <= tolerance
                and abs(fy - ey) <= tolerance]
        assert len(near) == 1, (number, (ex, ey), found)
        # The marker's number is written on it.
        labels = [(float(a) * DPI / 72, float(b) * DPI / 72, float(c) * DPI / 72,
                   float(d) * DPI / 72) for a, b, c, d in re.findall(
            rf'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
            rf"{number}</word>", words)]
        assert any(x0 - 3 <= ex <= x1 + 3 and y0 - 3 <= ey <= y1 + 3
                   for x0, y0, x1, y1 in labels), (number, labels)
    # The region's outline, in its own colour, spans the region.
    outline = np.argwhere(_mask(pixels, REGION_RGB, 40))
    (o_top, o_left), (o_bottom, o_right) = outline.min(axis=0), outline.max(axis=0)
    rx, ry = at(REGION[0], REGION[1])
    rx2, ry2 = at(REGION[0] + REGION[2], REGION[1] + REGION[3])
    for got, wanted in ((o_left, rx), (o_top, ry), (o_right, rx2), (o_bottom, ry2)):
        assert abs(got - wanted) <= tolerance, (got, wanted)

    text = _pdf_text(response.content, tmp_path)
    # Later pages: every thread in order, authors, Polish text, reactions, state.
    assert text.index("#1 Open") < text.index("#2 Resolved") < text.index("#3 Open")
    assert "Zofia Łęcka" in text and "Logo za duże, =SUM(A1)" in text
    assert "@Bob ok, zmniejszę" in text and "thumbs up 2" in text
    assert "Region at 40.0 %, 10.0 %, 25.0 % by 30.0 %" in text


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True,
                          capture_output=True, timeout=60)
    return " ".join(done.stdout.decode().split())


@needs_poppler
async def test_pdf_without_its_image_says_why_and_lists_the_threads(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost, tmp_path: Path
) -> None:
    # The image is on an origin the site does not list: never fetched, for the version
    # nor for the report.
    await make_tenant(app, TENANT, origins=["https://acme.example"])
    src = host.put("/home.png", picture())
    await review(app, client, src)
    response = await api_export(app, client, "pdf")
    assert response.status_code == 200, response.text
    assert host.hits.get("/home.png", 0) == 0
    text = _pdf_text(response.content, tmp_path)
    assert "The image could not be fetched (image-origin-not-allowed)" in text
    assert "#1 Open" in text and "Ten przycisk?" in text
    pixels, _ = _rendered_first_page(response.content, tmp_path)
    assert not _mask(pixels, MARKER_RGB).any()


@needs_poppler
async def test_pdf_falls_back_to_the_stored_thumbnail_when_the_image_is_gone(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost, tmp_path: Path
) -> None:
    await make_tenant(app, TENANT)
    src = host.put("/home.png", picture())
    await review(app, client, src)
    host.put("/home.png", b"gone", content_type="text/plain", status=404)
    response = await api_export(app, client, "pdf")
    assert response.status_code == 200, response.text
    text = _pdf_text(response.content, tmp_path)
    assert "could not be fetched (image-fetch-failed)" in text
    assert "the thumbnail the server keeps of version 1" in text
    pixels, _ = _rendered_first_page(response.content, tmp_path)
    assert len(_blobs(_mask(pixels, MARKER_RGB))) == 3


async def test_api_export_needs_the_secret_and_says_what_is_wrong(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost
) -> None:
    await make_tenant(app, TENANT)
    await review(app, client, host.put("/home.png", picture()))
    path = "/api/v1/images/export"
    for headers, code in (({}, "api-key-missing"), ({"X-API-Key": "wrong"}, "api-key-invalid")):
        refused = await client.get(path, params=export_params("csv"), headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == code
    tenant = await services(app).tenants.get(TENANT)
    key = {"X-API-Key": tenant.api_secret}
    by_query = await client.get(path, params=export_params("csv", API_KEY=tenant.api_secret))
    assert by_query.status_code == 200
    for fmt in ("xlsx", "", "json-ld"):
        bad = await client.get(path, params=export_params(fmt), headers=key)
        assert bad.status_code == 400, bad.text
        assert bad.json() == {"status": "failed", "code": "export-format-unsupported",
                              "reason": "`format` must be one of: csv, jsonld, pdf."}
    unknown = await client.get(path, params={**export_params("pdf"), "urlId": "nope.png"},
                               headers=key)
    assert unknown.status_code == 404 and unknown.json()["code"] == "image-not-found"
    invalid = await client.get(path, params={**export_params("csv"), "urlId": "a\x00b"},
                               headers=key)
    assert invalid.status_code == 400, invalid.text
    missing = await client.get(path, params={"tenantId": TENANT, "urlId": URL_ID},
                               headers=key)
    assert missing.status_code == 400, missing.text


async def test_jsonld_is_the_images_annotation_collection_as_its_container_serves_it(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost
) -> None:
    await make_tenant(app, TENANT)
    await review(app, client, host.put("/home.png", picture()))
    exported = await api_export(app, client, "jsonld")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == \
        'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    assert exported.headers["content-disposition"] == \
        'attachment; filename="mockups-home-page.png.jsonld"'
    document = exported.json()
    assert document["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert document["type"] == "AnnotationCollection"
    items = document["first"]["items"]
    container = await client.get(f"/annotations/{TENANT}/mockups%2Fhome%20page.png/",
                                 headers={"Accept": "application/ld+json"})
    assert container.status_code == 200, container.text
    served = container.json()["first"]["items"]
    # The same annotations, ids and all, as the protocol server answers the same client.
    assert items == served and document["total"] == container.json()["total"]
    motivations = sorted(item["motivation"] for item in items)
    assert motivations == ["commenting"] * 3 + ["replying"]
    selectors = [s["value"] for item in items if item["motivation"] == "commenting"
                 for s in item["target"]["selector"]
                 if s["value"].startswith("xywh=percent:")]
    assert "xywh=percent:40,10,25,30" in selectors


async def test_dashboard_downloads_one_image_and_every_image(
    app: FastAPI, client: httpx.AsyncClient, host: ImageHost
) -> None:
    tenant = await make_tenant(app, TENANT)
    await review(app, client, host.put("/home.png", picture()))
    other = await client.post(f"/comment-image-chats/{TENANT}", json={
        "urlId": "mockups/about.png", "x": 5, "y": 5, "comment": "Drugi obraz", **ANON})
    assert other.status_code == 200, other.text
    await sign_in(client, TENANT, tenant.api_secret)
    page = await client.get("/dashboard/images/view", params={"urlId": URL_ID})
    assert "/dashboard/images/export?urlId=mockups/home%20page.png&amp;format=pdf" in page.text
    listing = await client.get("/dashboard/images")
    assert 'href="/dashboard/images/export.csv"' in listing.text
    one = await client.get("/dashboard/images/export", params={"urlId": URL_ID,
                                                                "format": "csv"})
    assert one.status_code == 200 and one.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(one.content.decode("utf-8-sig"))))) == 4
    bad = await client.get("/dashboard/images/export", params={"urlId": URL_ID,
                                                                "format": "doc"})
    assert bad.status_code == 400 and "must be one of: csv, jsonld, pdf" in bad.text
    every = await client.get("/dashboard/images/export.csv")
    assert every.status_code == 200
    assert every.headers["content-disposition"] == \
        'attachment; filename="imagechat-acme-images.csv"'
    rows = list(csv.DictReader(io.StringIO(every.content.decode("utf-8-sig"))))
    assert [r["urlId"] for r in rows] == ["mockups/about.png"] + [URL_ID] * 4
    assert rows[0]["text"] == "Drugi obraz"
    for link in ("/dashboard/images/reports.zip", "/dashboard/images/export.jsonld"):
        assert f'href="{link}"' in listing.text

    # Every image's annotations in one JSON-LD document: each image's own collection.
    annotations = await client.get("/dashboard/images/export.jsonld")
    assert annotations.status_code == 200, annotations.text
    assert annotations.headers["content-type"].startswith("application/ld+json")
    collections = annotations.json()
    assert [c["type"] for c in collections] == ["AnnotationCollection"] * 2
    alone = await client.get("/dashboard/images/export", params={"urlId": URL_ID,
                                                                  "format": "jsonld"})
    assert collections[1] == alone.json()
    assert [c["total"] for c in collections] == [1, 4]  # as many as the CSV has rows

    # Every image's review report, a PDF each, in one ZIP archive.
    reports = await client.get("/dashboard/images/reports.zip")
    assert reports.status_code == 200
    assert reports.headers["content-disposition"] == \
        'attachment; filename="imagechat-acme-reports.zip"'
    with zipfile.ZipFile(io.BytesIO(reports.content)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["mockups-about.png.pdf", "mockups-home-page.png.pdf"]
        report = archive.read("mockups-home-page.png.pdf")
    assert report.startswith(b"%PDF-") and report.rstrip().endswith(b"%%EOF")


def test_cli_writes_the_csv_and_the_report(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> None:
        application = create_app(Settings(database_url=url))
        async with application.router.lifespan_context(application):
            await make_tenant(application, TENANT, origins=["https://acme.example"])
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                await post_conversation(client, "https://acme.example/home.png", 50, 50,
                                        "=1+1 cześć")
            await services(application).image_versions.drain()

    asyncio.run(seed())
    runner = CliRunner()
    args = ["--database-url", url]
    out = tmp_path / "home.csv"
    done = runner.invoke(cli_app, ["export-image", TENANT, URL_ID, str(out), *args])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["x"], r["text"]) for r in rows] == [("50", "'=1+1 cześć")]
    report = tmp_path / "report.bin"
    done = runner.invoke(cli_app, ["export-image", TENANT, URL_ID, "--format", "pdf",
                                   str(report), *args])
    assert done.exit_code == 0, done.output
    assert report.read_bytes().startswith(b"%PDF-")
    annotations = tmp_path / "home.jsonld"
    done = runner.invoke(cli_app, ["export-image", TENANT, URL_ID, str(annotations), *args],
                         env={"IMAGECHAT_PUBLIC_URL": "https://chat.acme.example/"})
    assert done.exit_code == 0, done.output
    [item] = json.loads(annotations.read_text())["first"]["items"]
    assert item["id"].startswith(
        f"https://chat.acme.example/annotations/{TENANT}/mockups%2Fhome%20page.png/")
    bodies = item["body"] if isinstance(item["body"], list) else [item["body"]]
    assert [b["value"] for b in bodies if b["type"] == "TextualBody"] == ["=1+1 cześć"]
    done = runner.invoke(cli_app, ["export-image", TENANT, "nope.png", str(out), *args])
    assert done.exit_code == 1 and "no image with that urlId" in done.output
    done = runner.invoke(cli_app, ["export-image", TENANT, URL_ID, str(tmp_path / "x.txt"),
                                   *args])
    assert done.exit_code == 1 and "must be one of: csv, jsonld, pdf" in done.output
