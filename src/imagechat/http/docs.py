"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), with every asset
served by this server: no CDN, so they work offline and under a strict CSP's `script-src
'self'` (Swagger UI's page still starts itself with one inline script).

The assets come from the `fastapi-offline` package, a dependency, which ships Swagger UI's
and ReDoc's released bundles; they are served like the widget (`assets.py`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from imagechat.domain.errors import NotFound
from imagechat.http.assets import Asset, respond

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
PREFIX = "/docs-assets"
# Only these files are served; nothing else can be reached by name.
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
TITLE = "ImageChat API"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title=TITLE,
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png")


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json", title=TITLE,
        redoc_js_url=f"{PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}/favicon.png", with_google_fonts=False)


@cache
def _asset(name: str) -> Asset:
    media_type = FILES[name]
    return Asset((ASSETS_DIR / name).read_bytes(), media_type,
                 compressible=not media_type.startswith("image/"))


@router.api_route(PREFIX + "/{name}", methods=["GET", "HEAD"])
async def docs_asset(name: str, request: Request) -> Response:
    if name not in FILES or not (ASSETS_DIR / name).is_file():
        raise NotFound("No such file.", "not-found")
    return respond(request, _asset(name))
