"""JSON responses rendered with orjson (fast, and strict about what is JSON), and the
headers of a file given as a download."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def download_headers(filename: str) -> dict[str, str]:
    """A download under its own name: never sniffed as anything else, never cached."""
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
