"""The embeddable widget and the demo page, served by the server itself (no build step).

The widget's script is joined from its modules and minified the first time it is asked
for (`widget_bundle.py`), then served from memory like every asset here (`assets.py`):
brotli or gzip as the browser accepts, an ETag, `HEAD`. At the versioned address
(`?v=<version>`, what snippets should use) script and styles are cached for a year as
immutable; at the plain address for an hour, so a release is picked up within that.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from imagechat import __version__
from imagechat.domain.errors import NotFound
from imagechat.http import widget_bundle
from imagechat.http.assets import IMMUTABLE_CACHE, SHORT_CACHE, Asset, respond

WEB = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(include_in_schema=False)
GET_HEAD = ["GET", "HEAD"]


@cache
def _script(directory: Path) -> Asset:
    """The joined, minified script; the modules do not change while the server runs."""
    return Asset(widget_bundle.minified(directory).encode(), "text/javascript; charset=utf-8")


@cache
def _file(path: Path, media_type: str) -> Asset:
    if not path.is_file():
        raise NotFound("The widget is not installed with this server.", "widget-missing")
    return Asset(path.read_bytes(), media_type, compressible=not media_type.startswith("image/")
                 or media_type.startswith("image/svg"))


def _widget_cache(request: Request) -> str:
    return IMMUTABLE_CACHE if request.query_params.get("v") == __version__ else SHORT_CACHE


@router.api_route("/js/embed-image-chat.min.js", methods=GET_HEAD)
async def widget_script(request: Request) -> Response:
    if not (widget_bundle.WIDGET_DIR / widget_bundle.ENTRY).is_file():
        raise NotFound("The widget is not installed with this server.", "widget-missing")
    return respond(request, _script(widget_bundle.WIDGET_DIR), _widget_cache(request))


@router.api_route("/js/embed-image-chat.min.css", methods=GET_HEAD)
async def widget_styles(request: Request) -> Response:
    asset = _file(WEB / "widget" / "embed-image-chat.css", "text/css; charset=utf-8")
    return respond(request, asset, _widget_cache(request))


@router.api_route("/demo", methods=GET_HEAD)
async def demo_page(request: Request) -> Response:
    if not request.app.state.settings.demo_tenant:
        raise NotFound("The demo is switched off on this server.", "demo-off")
    return respond(request, _file(WEB / "demo" / "index.html", "text/html; charset=utf-8"))


@router.api_route("/demo/mockup.svg", methods=GET_HEAD)
async def demo_image(request: Request) -> Response:
    return respond(request, _file(WEB / "demo" / "mockup.svg", "image/svg+xml"))


@router.get("/")
async def index(request: Request) -> RedirectResponse:
    target = "/demo" if request.app.state.settings.demo_tenant else "/docs"
    return RedirectResponse(target, status_code=307)
