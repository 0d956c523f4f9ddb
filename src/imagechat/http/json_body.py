"""Optional JSON bodies (DELETE requests may or may not carry one)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from imagechat.domain.errors import BadInput


async def optional_body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadInput("The request body is not valid JSON.", "malformed-json") from None
    if not isinstance(value, dict):
        raise BadInput("The request body must be a JSON object.", "malformed-json")
    return value
