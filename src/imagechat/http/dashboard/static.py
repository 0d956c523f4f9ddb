"""The dashboard's own stylesheet and script (no third-party assets, no CDN)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from imagechat.domain.errors import NotFound
from imagechat.http.dashboard.common import PREFIX, WEB

router = APIRouter(prefix=PREFIX)

# Only these files are served; nothing else of the package can be reached by name.
FILES = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
# A release changes these files; an hour of caching picks the new ones up soon enough.
_CACHE = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    media_type = FILES.get(name)
    path = WEB / "static" / name
    if media_type is None or not path.is_file():
        raise NotFound("No such file.", "not-found")
    return FileResponse(path, media_type=media_type, headers=_CACHE)
