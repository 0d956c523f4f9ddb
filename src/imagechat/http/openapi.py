"""The OpenAPI document says what the API really answers, failures included.

Every failure has one JSON shape (http/errors.py); routes declare which statuses they can
answer with `failures(...)`. FastAPI documents a 422 for every operation that takes input,
but this server answers validation errors with 400 (the reference's status), so the
document drops that entry. tests/integration/test_api_schema_fuzz.py holds the document to
its word: generated requests against every operation must get only documented statuses,
content types and bodies.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

# Why a status can happen, as the document tells it.
_WHEN = {
    400: "Bad input: a missing or malformed parameter or body field.",
    401: "Not authenticated: a missing or wrong API secret or SSO token, or the site "
         "requires signing in to write.",
    403: "Not allowed: not the author, a moderator or an admin, the image is locked, or an "
         "image address the server may not fetch.",
    404: "The tenant or the object does not exist (or belongs to another tenant).",
    409: "Conflicts with another change (a second vote, a concurrent write).",
    413: "The request body or a text field is larger than the limit.",
    415: "Not an image the server reads (PNG, JPEG, WebP, GIF).",
    422: "An image that cannot be decoded, or has too many pixels.",
    429: "Too many writes from this visitor or for this site; see `Retry-After`.",
    502: "The image host failed: an error status, a broken connection.",
    503: "A backing service (the database) is not available; try again shortly.",
    504: "The image host did not answer in time.",
}


class ErrorBody(BaseModel):
    """Every failure, whatever its status."""

    status: Literal["failed"]
    reason: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="A stable machine-readable code, e.g. `tenant-not-found`.")


def failures(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these error statuses, all with the `ErrorBody` shape."""
    return {
        status: {"model": ErrorBody,
                 "description": f"{HTTPStatus(status).phrase}. {_WHEN[status]}"}
        for status in statuses
    }


# Every operation: the body limit (http/body_limit.py) answers any request, and text
# fields over their limits give the same status. Declared once, on the app.
EVERY_OPERATION = failures(413)
# Reads of one tenant's data that identify the visitor or check the API secret: bad input,
# an SSO token that does not verify or a wrong secret, an unknown tenant or object, the
# database down.
READ_FAILURES = failures(400, 401, 404, 503)
# Reads that identify nobody (the event log).
ANONYMOUS_READ_FAILURES = failures(400, 404, 503)
# Writes add permission checks and conflicts.
WRITE_FAILURES = failures(400, 401, 403, 404, 409, 429, 503)
# Writes with the API secret: the backend may change anything of its tenant (no 403).
BACKEND_WRITE_FAILURES = failures(400, 401, 404, 409, 429, 503)
# Routes that fetch or read an image: also 403 (origin not allowed, private target,
# redirect elsewhere), 415, 422, 502, 504.
IMAGE_FAILURES = failures(400, 401, 403, 404, 409, 415, 422, 429, 502, 503, 504)


def replies(success: type[BaseModel], failed: dict[int | str, dict[str, Any]]
            ) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its success body (documentation only, see
    http/reply_models.py), then its failures."""
    return {200: {"model": success, "description": "Success."}, **failed}


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's document without the 422 entries this server never sends."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = FastAPI.openapi(app)  # builds and caches it on the app
        _tidy(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _tidy(document: dict[str, Any]) -> None:
    """Drop the 422s (and their schemas), keep only the documented success shapes, and list
    each operation's statuses in order."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            for response in responses.values():
                for media in response.get("content", {}).values():
                    _keep_documented_shape(media)
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _keep_documented_shape(media: dict[str, Any]) -> None:
    """Routes return `dict[str, Any]` (pydantic-core checks and serializes that quickly);
    FastAPI merges that "any object" schema with the model given in `responses=`. The model
    is the documentation, so its reference alone stays."""
    schema = media.get("schema")
    if isinstance(schema, dict) and "$ref" in schema:
        media["schema"] = {"$ref": schema["$ref"]}
