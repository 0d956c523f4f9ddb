"""The embeddable widget and the demo page, served by the server itself (no build step).

The widget's script is joined from its modules the first time it is asked for
(`widget_bundle.py`), then served from memory with an ETag, as FileResponse does for files.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from imagechat.domain.errors import NotFound
from imagechat.http import widget_bundle

WEB = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(include_in_schema=False)

# Browsers may keep the widget for an hour; a new release is picked up within that.
_CACHE = {"Cache-Control": "public, max-age=3600"}


def _file(path: Path, media_type: str) -> FileResponse:
    if not path.is_file():
        raise NotFound("The widget is not installed with this server.", "widget-missing")
    return FileResponse(path, media_type=media_type, headers=_CACHE)


@cache
def _script(directory: Path) -> tuple[bytes, str]:
    """The joined script and its ETag; the modules do not change while the server runs."""
    body = widget_bundle.join(directory).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/js/embed-image-chat.min.js")
async def widget_script(request: Request) -> Response:
    if not (widget_bundle.WIDGET_DIR / widget_bundle.ENTRY).is_file():
        raise NotFound("The widget is not installed with this server.", "widget-missing")
    body, etag = _script(widget_bundle.WIDGET_DIR)
    headers = {**_CACHE, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/js/embed-image-chat.min.css")
async def widget_styles() -> FileResponse:
    return _file(WEB / "widget" / "embed-image-chat.css", "text/css; charset=utf-8")


@router.get("/demo")
async def demo_page(request: Request) -> Response:
    if not request.app.state.settings.demo_tenant:
        raise NotFound("The demo is switched off on this server.", "demo-off")
    return _file(WEB / "demo" / "index.html", "text/html; charset=utf-8")


@router.get("/demo/mockup.svg")
async def demo_image() -> FileResponse:
    return _file(WEB / "demo" / "mockup.svg", "image/svg+xml")


@router.get("/")
async def index(request: Request) -> RedirectResponse:
    target = "/demo" if request.app.state.settings.demo_tenant else "/docs"
    return RedirectResponse(target, status_code=307)
