"""/annotations: the W3C Web Annotation Protocol (https://www.w3.org/TR/annotation-protocol/)
over each image's conversations and comments (docs/annotations.md).

`/annotations/{tenantId}/{urlId}/` is an image's container (an LDP BasicContainer and an
AnnotationCollection); `{container}{id}` a conversation, or a comment on the whole image;
`{container}{id}/replies/{commentId}` a reply in its thread. The urlId is one path segment,
percent-encoded: routes match the path as sent (`raw_path`), so `%2F` stays inside it.

Identity is the API's: `sso` or `anonUserId` (and `editKey`) in the query, or the tenant's
API secret in `X-API-Key`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from imagechat.annotations import documents, incoming
from imagechat.annotations.errors import NotAcceptable
from imagechat.annotations.iris import Iris
from imagechat.annotations.vocabulary import (
    ANNO_MEDIA_TYPE,
    LDP_BASIC_CONTAINER,
    LDP_CONSTRAINED_BY,
    LDP_RESOURCE,
    OA_ANNOTATION,
    PREFER_DESCRIPTIONS,
    PREFER_IRIS,
    PREFER_MINIMAL,
    PROTOCOL,
)
from imagechat.auth.api_secret import backend_actor
from imagechat.domain import rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, NotFound, UnsupportedMedia
from imagechat.domain.models import Tenant
from imagechat.http.deps import actor_of, broadcast_id_of, services_of, tenant_of
from imagechat.http.openapi import ErrorBody
from imagechat.http.rate_limits import limit_writes
from imagechat.services.annotations import Writing

CONTAINER_ALLOW = "GET, HEAD, OPTIONS, POST"
ANNOTATION_ALLOW = "GET, HEAD, OPTIONS, PUT, DELETE"
PAGE_ALLOW = "GET, HEAD, OPTIONS"
CONTAINER_LINKS = (f'<{LDP_BASIC_CONTAINER}>; rel="type", '
                   f'<{PROTOCOL}>; rel="{LDP_CONSTRAINED_BY}"')
ANNOTATION_LINKS = f'<{OA_ANNOTATION}>; rel="type", <{LDP_RESOURCE}>; rel="type"'
# The header an anonymous author finds its edit key in, after a POST.
EDIT_KEY_HEADER = "ImageChat-Edit-Key"
# What a browser page on an allowed origin may read of these answers (http/cors.py).
EXPOSED = ("ETag", "Link", "Allow", "Vary", "Location", "Content-Location", "Accept-Post",
           "Preference-Applied", EDIT_KEY_HEADER)
_JSON_TYPES = ("application/ld+json", "application/json")


class RawPathRoute(APIRoute):
    """Matches the path as the client sent it: `%2F` in a urlId is not a separator."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw = scope.get("raw_path")
        if scope.get("type") == "http" and isinstance(raw, bytes):
            scope = {**scope, "path": raw.decode("latin-1").split("?", 1)[0]}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Each method has its own route here: a 405 names every method of the resource.
        if self.methods and scope["method"] not in self.methods:
            raise HTTPException(status_code=405, headers={"Allow": _ALLOWED[self.path]})
        await super().handle(scope, receive, send)


router = APIRouter(tags=["web annotations"], route_class=RawPathRoute,
                   dependencies=[Depends(limit_writes)])


# --- content negotiation ----------------------------------------------------------------

def _accepted(header: str | None) -> str:
    """The media type to answer in: the protocol's JSON-LD, or plain JSON when that is all
    the client takes. Anything else (Turtle, HTML) is 406."""
    if not header or not header.strip():
        return ANNO_MEDIA_TYPE
    best: tuple[float, str] | None = None
    for part in header.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = kind.lower()
        answer = ("application/json" if kind == "application/json" else ANNO_MEDIA_TYPE
                  if kind in ("application/ld+json", "application/*", "*/*") else None)
        if answer is not None and q > 0 and (best is None or q > best[0]):
            best = (q, answer)
    if best is None:
        raise NotAcceptable("Annotations are served as JSON-LD only: "
                            f"Accept: {ANNO_MEDIA_TYPE}.")
    return best[1]


def _preferences(header: str | None) -> tuple[bool, bool, bool]:
    """(minimal container, IRIs only, a preference was given) from `Prefer`."""
    if not header:
        return False, False, False
    included: set[str] = set()
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "include":
            included |= set(value.strip().strip('"').split())
    minimal = PREFER_MINIMAL in included
    iris_only = PREFER_IRIS in included and PREFER_DESCRIPTIONS not in included
    return minimal, iris_only, bool(included)


def _json_ld(request: Request, body: dict[str, Any], status: int, headers: dict[str, str]
             ) -> Response:
    media = _accepted(request.headers.get("accept"))
    data = orjson.dumps(body)
    headers = {**headers, "ETag": documents.etag(body), "Content-Length": str(len(data))}
    if request.method == "HEAD":
        return Response(b"", status_code=status, headers=headers, media_type=media)
    return Response(data, status_code=status, headers=headers, media_type=media)


def _options(allow: str, links: str, vary: str) -> Response:
    return Response(status_code=200, headers={
        "Allow": allow, "Link": links, "Vary": vary, "Accept-Post": ANNO_MEDIA_TYPE,
        "Content-Length": "0"})


# --- who and where ------------------------------------------------------------------------

def _iris(request: Request, tenant: Tenant, url_id: str) -> Iris:
    return Iris(base=str(request.base_url).rstrip("/"), tenant_id=tenant.id, url_id=url_id)


async def _where(request: Request, tenant_id: str, url_id: str) -> tuple[Tenant, Iris]:
    tenant = await tenant_of(request, unquote(tenant_id))
    # Reads too: an SSO token or API secret that does not verify for this tenant is a
    # 401, as on every route, never silently a stranger's read.
    _actor(request, tenant)
    # The container's own address names the urlId as cleaned: the same one the image's
    # conversations are listed under.
    return tenant, _iris(request, tenant, rules.clean_url_id(unquote(url_id)))


def _actor(request: Request, tenant: Tenant) -> Actor:
    key = request.headers.get("x-api-key")
    if key is not None:
        return backend_actor(tenant, key)
    return actor_of(request, tenant)


def _writing(request: Request, tenant: Tenant) -> Writing:
    query = request.query_params
    return Writing(actor=_actor(request, tenant), broadcast_id=broadcast_id_of(request),
                   edit_key=query.get("editKey") or None,
                   commenter_name=query.get("commenterName") or None)


async def _posted(request: Request, own_iri: str | None = None) -> incoming.Incoming:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _JSON_TYPES:
        raise UnsupportedMedia(f"Send the annotation as {ANNO_MEDIA_TYPE}.",
                               "content-type-unsupported")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise BadInput("The request body is not valid JSON.", "malformed-json") from None
    return incoming.read(body, own_iri)


# --- OpenAPI ----------------------------------------------------------------------------

_WHEN = {
    400: "Not a Web Annotation (no anno.jsonld context, no target), an unsupported selector, "
         "bad input.",
    401: "A wrong API secret or SSO token, or the site requires signing in to write.",
    403: "Not the author, a moderator or an admin; banned; the image is locked.",
    404: "The tenant, container page or annotation does not exist.",
    406: "The client accepts no JSON-LD (Turtle is not served).",
    409: "Conflicts with another change.",
    412: "`If-Match` is not the annotation's current ETag.",
    415: "The body is not application/ld+json.",
    428: "A PUT without `If-Match`.",
    429: "Too many writes from this visitor or for this site; see `Retry-After`.",
    503: "The database is not available; try again shortly.",
}
_ANY_JSON_LD = {"application/ld+json": {"schema": {"type": "object",
                                                   "additionalProperties": True}}}


def _doc(success: int | None, *statuses: int) -> dict[int | str, dict[str, Any]]:
    found: dict[int | str, dict[str, Any]] = {}
    if success == 204:
        found[204] = {"description": "Deleted."}
    elif success is not None:
        found[success] = {"description": "A Web Annotation JSON-LD document.",
                          "content": _ANY_JSON_LD}
    for status in statuses:
        found[status] = {"model": ErrorBody, "description": _WHEN[status]}
    return found


_READS = _doc(200, 400, 401, 404, 406, 503)
_POST_BODY = {"requestBody": {"required": True, "content": {"application/ld+json": {
    "schema": {"type": "object", "additionalProperties": True,
               "description": "A Web Annotation (https://www.w3.org/TR/annotation-model/)."}}}}}
_CONTAINER = "/annotations/{tenantId}/{urlId}/"
_ANNOTATION = "/annotations/{tenantId}/{urlId}/{annotationId}"
_REPLY = "/annotations/{tenantId}/{urlId}/{annotationId}/replies/{replyId}"
_ALLOWED = {_CONTAINER: CONTAINER_ALLOW, _ANNOTATION: ANNOTATION_ALLOW, _REPLY: ANNOTATION_ALLOW}


# --- the container --------------------------------------------------------------------------

@router.get(_CONTAINER, responses=_READS, response_class=Response)
async def get_container(request: Request, tenantId: str, urlId: str) -> Response:
    """An image's annotations: the container with its first page embedded (`Prefer`
    `PreferMinimalContainer`, `PreferContainedIRIs`), or page `?page=N` (`&iris=1`: IRIs
    only)."""
    tenant, iris = await _where(request, tenantId, urlId)
    image = await services_of(request).annotations.image(tenant, iris.url_id)
    size: int = request.app.state.settings.annotation_page_size
    query = request.query_params
    headers = {"Vary": "Accept, Prefer", "Allow": PAGE_ALLOW}
    if "page" in query:
        try:
            number = int(query["page"])
        except ValueError:
            raise BadInput("`page` must be a page number from 0.", "invalid-page") from None
        iris_only = query.get("iris") in ("1", "true")
        found = documents.page(iris, image, number, iris_only=iris_only, page_size=size)
        if found is None:
            raise NotFound("There is no such page of this container.", "page-not-found")
        headers["Content-Location"] = found["id"]
        return _json_ld(request, found, 200, headers)
    minimal, iris_only, preferred = _preferences(request.headers.get("prefer"))
    body = documents.container(iris, image, minimal=minimal, iris_only=iris_only,
                               page_size=size)
    headers.update({"Allow": CONTAINER_ALLOW, "Link": CONTAINER_LINKS,
                    "Accept-Post": ANNO_MEDIA_TYPE, "Content-Location": iris.container})
    if preferred:
        headers["Preference-Applied"] = "return=representation"
    return _json_ld(request, body, 200, headers)


@router.head(_CONTAINER, include_in_schema=False, response_class=Response)
async def head_container(request: Request, tenantId: str, urlId: str) -> Response:
    return await get_container(request, tenantId, urlId)


@router.options(_CONTAINER, include_in_schema=False, response_class=Response)
async def options_container(request: Request, tenantId: str, urlId: str) -> Response:
    await _where(request, tenantId, urlId)
    return _options(CONTAINER_ALLOW, CONTAINER_LINKS, "Accept, Prefer")


@router.post(_CONTAINER, status_code=201, openapi_extra=_POST_BODY, response_class=Response,
             responses=_doc(201, 400, 401, 403, 404, 406, 409, 415, 429, 503))
async def post_annotation(request: Request, tenantId: str, urlId: str) -> Response:
    """Create an annotation: with a Media Fragments selector, a conversation (its
    TextualBody the first comment); without, a comment on the whole image; with
    `motivation: replying`, a reply to the annotation it targets. 201 with `Location`."""
    tenant, iris = await _where(request, tenantId, urlId)
    _accepted(request.headers.get("accept"))
    posted = await _posted(request)
    service = services_of(request).annotations
    written = await service.create(tenant, iris, posted, _writing(request, tenant))
    image = await service.image(tenant, iris.url_id)
    found = documents.find(iris, image, written.root_id, written.reply_id)
    if found is None:  # deleted again in between
        raise NotFound("The annotation was deleted right after it was made.",
                       "annotation-not-found")
    headers = {"Location": found["id"], "Content-Location": found["id"],
               "Link": ANNOTATION_LINKS, "Allow": ANNOTATION_ALLOW, "Vary": "Accept"}
    if written.edit_key is not None:
        headers[EDIT_KEY_HEADER] = written.edit_key
    return _json_ld(request, found, 201, headers)


# --- one annotation -----------------------------------------------------------------------

async def _annotation(request: Request, tenant_id: str, url_id: str, annotation_id: str,
                      reply_id: str | None) -> Response:
    tenant, iris = await _where(request, tenant_id, url_id)
    image = await services_of(request).annotations.image(tenant, iris.url_id)
    found = documents.find(iris, image, unquote(annotation_id),
                           unquote(reply_id) if reply_id is not None else None)
    if found is None:
        raise NotFound("There is no annotation at this address.", "annotation-not-found")
    return _json_ld(request, found, 200, {
        "Link": ANNOTATION_LINKS, "Allow": ANNOTATION_ALLOW, "Vary": "Accept",
        "Content-Location": found["id"]})


async def _put(request: Request, tenant_id: str, url_id: str, annotation_id: str,
               reply_id: str | None) -> Response:
    tenant, iris = await _where(request, tenant_id, url_id)
    _accepted(request.headers.get("accept"))
    root, reply = unquote(annotation_id), unquote(reply_id) if reply_id else None
    posted = await _posted(request, iris.reply(root, reply) if reply else iris.annotation(root))
    await services_of(request).annotations.replace(
        tenant, iris, root, reply, posted, request.headers.get("if-match"),
        _writing(request, tenant))
    return await _annotation(request, tenant_id, url_id, annotation_id, reply_id)


async def _delete(request: Request, tenant_id: str, url_id: str, annotation_id: str,
                  reply_id: str | None) -> Response:
    tenant, iris = await _where(request, tenant_id, url_id)
    await services_of(request).annotations.delete(
        tenant, iris, unquote(annotation_id), unquote(reply_id) if reply_id else None,
        request.headers.get("if-match"), _writing(request, tenant))
    return Response(status_code=204)


_PUT_DOC = _doc(200, 400, 401, 403, 404, 406, 409, 412, 415, 428, 429, 503)
_DELETE_DOC = _doc(204, 400, 401, 403, 404, 409, 412, 429, 503)


@router.get(_ANNOTATION, responses=_READS, response_class=Response)
async def get_annotation(request: Request, tenantId: str, urlId: str, annotationId: str
                         ) -> Response:
    """A conversation (or a comment on the whole image) as a Web Annotation, with its
    `ETag`."""
    return await _annotation(request, tenantId, urlId, annotationId, None)


@router.head(_ANNOTATION, include_in_schema=False, response_class=Response)
async def head_annotation(request: Request, tenantId: str, urlId: str, annotationId: str
                          ) -> Response:
    return await _annotation(request, tenantId, urlId, annotationId, None)


@router.options(_ANNOTATION, include_in_schema=False, response_class=Response)
async def options_annotation(request: Request, tenantId: str, urlId: str, annotationId: str
                             ) -> Response:
    await _annotation(request, tenantId, urlId, annotationId, None)
    return _options(ANNOTATION_ALLOW, ANNOTATION_LINKS, "Accept")


@router.put(_ANNOTATION, openapi_extra=_POST_BODY, responses=_PUT_DOC,
            response_class=Response)
async def put_annotation(request: Request, tenantId: str, urlId: str, annotationId: str
                         ) -> Response:
    """Replace an annotation (`If-Match` required): its place, its text, what it keeps."""
    return await _put(request, tenantId, urlId, annotationId, None)


@router.delete(_ANNOTATION, status_code=204, responses=_DELETE_DOC, response_class=Response)
async def delete_annotation(request: Request, tenantId: str, urlId: str, annotationId: str
                            ) -> Response:
    """Delete a conversation and its thread (or a whole-image comment and its replies)."""
    return await _delete(request, tenantId, urlId, annotationId, None)


# --- one reply ----------------------------------------------------------------------------

@router.get(_REPLY, responses=_READS, response_class=Response)
async def get_reply(request: Request, tenantId: str, urlId: str, annotationId: str,
                    replyId: str) -> Response:
    """A comment of a conversation's thread as a Web Annotation (`motivation: replying`)."""
    return await _annotation(request, tenantId, urlId, annotationId, replyId)


@router.head(_REPLY, include_in_schema=False, response_class=Response)
async def head_reply(request: Request, tenantId: str, urlId: str, annotationId: str,
                     replyId: str) -> Response:
    return await _annotation(request, tenantId, urlId, annotationId, replyId)


@router.options(_REPLY, include_in_schema=False, response_class=Response)
async def options_reply(request: Request, tenantId: str, urlId: str, annotationId: str,
                        replyId: str) -> Response:
    await _annotation(request, tenantId, urlId, annotationId, replyId)
    return _options(ANNOTATION_ALLOW, ANNOTATION_LINKS, "Accept")


@router.put(_REPLY, openapi_extra=_POST_BODY, responses=_PUT_DOC, response_class=Response)
async def put_reply(request: Request, tenantId: str, urlId: str, annotationId: str,
                    replyId: str) -> Response:
    """Replace a reply (`If-Match` required): its text and what it keeps."""
    return await _put(request, tenantId, urlId, annotationId, replyId)


@router.delete(_REPLY, status_code=204, responses=_DELETE_DOC, response_class=Response)
async def delete_reply(request: Request, tenantId: str, urlId: str, annotationId: str,
                       replyId: str) -> Response:
    """Delete a reply and the replies under it."""
    return await _delete(request, tenantId, urlId, annotationId, replyId)
