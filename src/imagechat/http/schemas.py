"""Request bodies. Types are checked here; ranges and lengths by the domain rules, so that
every transport reports them the same way."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

from imagechat.domain import limits, rules

# Checked by the domain rule (a JSON number from 0 to 100, not "50", not true), so that the
# error names the field and says what is allowed; documented as a number here.
Coordinate = Annotated[Any, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100})]
# A rectangle on the image, percent; checked by the domain rule (domain/regions.py).
Region = Annotated[Any, WithJsonSchema({
    "type": "object", "required": ["x", "y", "w", "h"],
    "description": "A rectangle in percent of the image: its top-left corner `x`, `y` and "
                   "its size `w`, `h` (each at least 0.5; `x + w` and `y + h` at most 100).",
    "properties": {"shape": {"type": "string", "enum": ["rect"]},
                   **{k: {"type": "number", "minimum": 0, "maximum": 100}
                      for k in ("x", "y", "w", "h")}}})]
# A version number of an image (1, 2, …); checked by the service.
Version = Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1})]


def _text(max_chars: int, pattern: str | None = None) -> WithJsonSchema:
    """A string's limits for the document; the domain rules enforce them (400/413)."""
    schema: dict[str, Any] = {"type": "string", "maxLength": max_chars}
    if pattern is not None:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


# `\S`: not blank (a search, not anchored: somewhere in the text).
Id = Annotated[str, _text(limits.MAX_ID_CHARS, rules.ID_PATTERN)]
UrlId = Annotated[str, _text(limits.MAX_URL_ID_CHARS, r"\S")]
CommentText = Annotated[str, _text(limits.MAX_COMMENT_CHARS, r"\S")]
Name = Annotated[str, _text(limits.MAX_NAME_CHARS)]
Url = Annotated[str, _text(limits.MAX_URL_CHARS)]
PageTitle = Annotated[str, _text(limits.MAX_PAGE_TITLE_CHARS)]


# The reference's CommentUserMentionInfo list; checked by the domain rule, so that the
# error says what is expected.
Mentions = Annotated[Any, WithJsonSchema({
    "type": "array", "maxItems": 20, "items": {
        "type": "object", "required": ["id", "tag"],
        "properties": {"id": {"type": "string"}, "tag": {"type": "string"}}}})]


class _Body(BaseModel):
    # Reference clients send more fields than we use; ignore them rather than fail.
    model_config = ConfigDict(extra="ignore")


class CreateImageChatBody(_Body):
    urlId: UrlId = Field(description="The image's id within the tenant.")
    x: Coordinate = Field(default=None, description="Horizontal position, percent of the "
                          "image width (required without `region`; with one, its corner).")
    y: Coordinate = Field(default=None, description="Vertical position, percent of the image "
                          "height (required without `region`; with one, its corner).")
    region: Region = Field(default=None, description="A region instead of a point: "
                           '`{"shape": "rect", x, y, w, h}`; the conversation\'s `x`, `y` are '
                           "its top-left corner.")
    version: Version = Field(default=None, description="The image version the visitor placed "
                             "it on; refused (409 `not-latest-version`) unless the latest.")
    windowUrlId: UrlId | None = Field(
        default=None, description="The urlId of the conversation's thread, "
        "`{urlId}:{src}:{x}:{y}` as the reference builds it; derived so when not sent.")
    pageTitle: PageTitle | None = None
    src: Url | None = Field(default=None, description="The image's src.")
    createdFromCommentId: Id | None = Field(
        default=None, description="A comment already posted at `windowUrlId`: the "
        "conversation is created over the thread it started.")
    broadcastId: Id | None = Field(default=None, description="Client-generated UUID.")
    comment: CommentText | None = Field(
        default=None, description="The first comment, created atomically with the "
        "conversation (ImageChat's one-request shortcut).")
    commenterName: Name | None = None
    url: Url | None = Field(default=None, description="The page the image is on.")
    mentions: Mentions = Field(default=None, description="Users the first comment mentions.")
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class PostCommentBody(_Body):
    comment: CommentText
    commenterName: Name | None = None
    url: Url | None = Field(default=None, description="The page the comment was written on.")
    urlId: UrlId | None = None
    pageTitle: PageTitle | None = None
    parentId: Id | None = None
    mentions: Mentions = Field(
        default=None, description="Users picked from the suggestions, [{id, tag}]; an "
        "`@name` of a known user in the text counts too.")
    broadcastId: Id | None = None
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class UpdateTextBody(_Body):
    comment: CommentText
    mentions: Mentions = None
    editKey: str | None = None
    broadcastId: Id | None = None
    sso: dict[str, Any] | str | None = None
    anonUserId: Id | None = None


class VoteBody(_Body):
    # Checked by the domain rule, so that the error says what is allowed.
    voteDir: str = Field(description='"up" or "down"',
                         json_schema_extra={"enum": ["up", "down"]})
    broadcastId: Id | None = None
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class ResolveBody(_Body):
    resolved: StrictBool = Field(description="true: resolve; false: reopen.")
    broadcastId: Id | None = None
    editKey: str | None = Field(default=None, description="The anonymous author's key.")
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class ReactionBody(_Body):
    emoji: str = Field(description="One of 👍 ❤️ 🎉 👀 ✅.",
                       json_schema_extra={"enum": ["👍", "❤️", "🎉", "👀", "✅"]})
    on: StrictBool = Field(description="true: put it; false: take it back.")
    broadcastId: Id | None = None
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class OptionalKeysBody(_Body):
    """DELETE bodies: everything may come in the query string instead."""

    broadcastId: Id | None = None
    editKey: str | None = None
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class WebhookBody(_Body):
    url: Url = Field(description="Where to POST events: an http(s) address that resolves to "
                     "public addresses (see IMAGECHAT_OUTBOUND_ALLOW_PRIVATE).")
    events: list[str] | None = Field(
        default=None, max_length=20,
        description="The event types to send; left out or empty: every type.")


class LockBody(_Body):
    locked: StrictBool = Field(description="true: read-only for everyone but moderators.")
    broadcastId: Id | None = None
    sso: dict[str, Any] | str | None = Field(
        default=None, description="The moderator's SSO token (widget routes only).")


class BanBody(_Body):
    """The visitor to ban: a signed-in user's id, or an anonymous visitor's id."""

    userId: str | None = None
    anonUserId: str | None = None
    reason: str | None = Field(default=None, description="Shown in the moderation log.")
    sso: dict[str, Any] | str | None = Field(
        default=None, description="The moderator's SSO token (widget routes only).")


# DELETE routes read an optional body themselves (http/json_body.py); this documents it.
OPTIONAL_KEYS_BODY: dict[str, Any] = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": OptionalKeysBody.model_json_schema()}}}}


class MoveImageChatBody(_Body):
    """A new place for a conversation: a point (`x`, `y`; a region keeps its size), or a
    region (`region`; `null` makes it a point again)."""

    x: Coordinate = None
    y: Coordinate = None
    region: Region = Field(default=None, description='`{"shape": "rect", x, y, w, h}`, or '
                           "null for a point.")
    version: Version = Field(default=None, description="The version of the image it is placed "
                             "on (default: the latest).")
    broadcastId: Id | None = None
    editKey: str | None = Field(default=None, description="The anonymous author's key.")
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class ReportImageBody(_Body):
    """The image the widget shows for `urlId`."""

    urlId: UrlId
    src: Url = Field(description="The address of the image shown (the widget sends the img's "
                     "`currentSrc`); relative addresses are taken against `url`.")
    url: Url | None = Field(default=None, description="The page the image is on.")
    broadcastId: Id | None = None
    anonUserId: Id | None = None
    sso: dict[str, Any] | str | None = None


class ImageVersionBody(_Body):
    urlId: UrlId = Field(description="The image's id within the tenant.")
    src: Url = Field(description="Where the server fetches the new version (the tenant's "
                     "origins only).")
