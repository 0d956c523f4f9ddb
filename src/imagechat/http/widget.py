"""The embeddable widget and the demo page, served by the server itself (no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from imagechat.domain.errors import NotFound

WEB = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(include_in_schema=False)

# Browsers may keep the widget for an hour; a new release is picked up within that.
_CACHE = {"Cache-Control": "public, max-age=3600"}


def _file(path: Path, media_type: str) -> FileResponse:
    if not path.is_file():
        raise NotFound("The widget is not installed with this server.", "widget-missing")
    return FileResponse(path, media_type=media_type, headers=_CACHE)


@router.get("/js/embed-image-chat.min.js")
async def widget_script() -> FileResponse:
    return _file(WEB / "widget" / "embed-image-chat.js", "text/javascript; charset=utf-8")


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
