"""Asset delivery: compression negotiated, an ETag per form, 304s, HEAD, cache policies;
the API documentation's assets from this server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from imagechat import __version__
from imagechat.http import docs, widget
from imagechat.http.assets import accepted
from imagechat.http.errors import install_error_handlers
from imagechat.http.widget_bundle import minified

SCRIPT = "/js/embed-image-chat.min.js"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.include_router(widget.router)
    app.include_router(docs.router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize(("header", "codings"), [
    ("", set()),
    ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}),
    ("gzip;q=0.5, br;q=0", {"gzip"}),
    ("*", {"*", "br", "gzip"}),
    ("*;q=1, gzip;q=0", {"*", "br"}),
    ("br;q=bad", set()),
])
def test_accept_encoding_is_read_with_its_weights(header: str, codings: set[str]) -> None:
    assert accepted(header) == codings


async def test_the_script_is_negotiated_brotli_gzip_or_plain(client: httpx.AsyncClient) -> None:
    plain = minified().encode()
    tags = set()
    sizes = {}
    for header, coding in (("gzip, br", "br"), ("gzip", "gzip"), ("identity", None)):
        answer = await client.get(SCRIPT, headers={"Accept-Encoding": header})
        assert answer.status_code == 200
        assert answer.headers.get("content-encoding") == coding
        assert answer.headers["vary"] == "Accept-Encoding"
        assert answer.content == plain  # httpx decoded it by its Content-Encoding
        sizes[coding] = int(answer.headers["content-length"])
        tags.add(answer.headers["etag"])
    assert sizes["br"] < sizes["gzip"] < sizes[None] == len(plain)

    assert len(tags) == 3  # one per form


async def test_any_form_of_the_same_bytes_revalidates(client: httpx.AsyncClient) -> None:
    br = await client.get(SCRIPT, headers={"Accept-Encoding": "br"})
    for sent in (br.headers["etag"], "W/" + br.headers["etag"], '"other", ' + br.headers["etag"]):
        again = await client.get(SCRIPT, headers={"If-None-Match": sent,
                                                  "Accept-Encoding": "gzip"})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"].endswith('-gzip"')
    assert (await client.get(SCRIPT, headers={"If-None-Match": '"else"'})).status_code == 200


async def test_the_versioned_address_is_immutable_the_plain_one_an_hour(
    client: httpx.AsyncClient,
) -> None:
    for path in (SCRIPT, "/js/embed-image-chat.min.css"):
        versioned = await client.get(path, params={"v": __version__})
        assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
        for plain in (await client.get(path), await client.get(path, params={"v": "0.0.0"})):
            assert plain.headers["cache-control"] == "public, max-age=3600"


@pytest.mark.parametrize("path", [SCRIPT, "/js/embed-image-chat.min.css", "/demo/mockup.svg",
                                  "/docs-assets/swagger-ui.css"])
async def test_head_answers_the_headers_of_get(client: httpx.AsyncClient, path: str) -> None:
    headers = {"Accept-Encoding": "br"}
    got = await client.get(path, headers=headers)
    head = await client.head(path, headers=headers)
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "content-type", "cache-control", "content-encoding"):
        assert head.headers.get(name) == got.headers.get(name), name
    assert int(head.headers["content-length"]) == int(got.headers["content-length"])


async def test_the_api_documentation_loads_nothing_from_elsewhere(
    client: httpx.AsyncClient,
) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        sources = [part.split('"', 1)[0] for part in html.split('src="')[1:]]
        sources += [part.split('"', 1)[0] for part in html.split('href="')[1:]]
        assert sources, page
        assert all(s.startswith("/docs-assets/") for s in sources), (page, sources)
        for source in sources:
            answer = await client.get(source)
            assert answer.status_code == 200 and answer.headers["etag"], source
    assert (await client.get("/docs-assets/core.py")).status_code == 404
