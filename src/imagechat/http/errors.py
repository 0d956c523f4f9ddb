"""One error shape for every failure: {"status":"failed","reason":…,"code":…}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from imagechat.domain.errors import ImageChatError, RateLimited
from imagechat.http.responses import OrjsonResponse

log = logging.getLogger("imagechat.http")

_HTTP_CODES = {
    400: "bad-request", 401: "not-authenticated", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
    429: "rate-limited", 503: "unavailable",
}
# FastAPI's answer when a JSON body cannot be decoded at all (bytes that are not UTF-8,
# a number longer than Python's 4,300-digit limit, nesting too deep): malformed JSON,
# said the same way as for a syntax error.
_BODY_NOT_DECODED = "There was an error parsing the body"


def failure(status: int, reason: str, code: str, headers: dict[str, str] | None = None
            ) -> OrjsonResponse:
    return OrjsonResponse({"status": "failed", "reason": reason, "code": code},
                          status_code=status, headers=headers)


def _describe_validation(errors: list[Any]) -> tuple[str, str]:
    for error in errors:
        if error.get("type") == "json_invalid":
            return "The request body is not valid JSON.", "malformed-json"
    parts = []
    for error in errors[:3]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"`{location}`: {error.get('msg', 'invalid')}" if location
                     else error.get("msg", "invalid"))
    return "Invalid input: " + "; ".join(parts) + ".", "bad-input"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ImageChatError)
    async def _domain(_request: Request, exc: ImageChatError) -> OrjsonResponse:
        headers = None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_secs)}
        return failure(exc.status, exc.reason, exc.code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> OrjsonResponse:
        reason, code = _describe_validation(list(exc.errors()))
        return failure(400, reason, code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> OrjsonResponse:
        if exc.status_code == 400 and exc.detail == _BODY_NOT_DECODED:
            return failure(400, "The request body is not valid JSON.", "malformed-json")
        code = _HTTP_CODES.get(exc.status_code, "error")
        reason = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and reason == "Not Found":
            reason = "There is nothing at this address."
        return failure(exc.status_code, reason, code, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> OrjsonResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return failure(500, "Something went wrong on our side; it has been logged.",
                       "internal-error")
