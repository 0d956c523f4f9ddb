"""Request bodies. Types are checked here; ranges and lengths by the domain rules, so that
every transport reports them the same way."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema

# Checked by the domain rule (a JSON number from 0 to 100, not "50", not true), so that the
# error names the field and says what is allowed; documented as a number here.
Coordinate = Annotated[Any, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100})]


class _Body(BaseModel):
    # Reference clients send more fields than we use; ignore them rather than fail.
    model_config = ConfigDict(extra="ignore")


class CreateImageChatBody(_Body):
    urlId: str = Field(description="The image's id within the tenant.")
    x: Coordinate = Field(description="Horizontal position, percent of the image width.")
    y: Coordinate = Field(description="Vertical position, percent of the image height.")
    windowUrlId: str | None = Field(default=None, description="The page the image is on.")
    pageTitle: str | None = None
    src: str | None = Field(default=None, description="The image's src.")
    createdFromCommentId: str | None = None
    broadcastId: str | None = Field(default=None, description="Client-generated UUID.")
    comment: str | None = Field(default=None, description="The first message, created atomically.")
    commenterName: str | None = None
    url: str | None = None
    anonUserId: str | None = None
    sso: dict[str, Any] | str | None = None


class PostCommentBody(_Body):
    comment: str
    commenterName: str | None = None
    url: str | None = None
    urlId: str | None = None
    parentId: str | None = None
    broadcastId: str | None = None
    anonUserId: str | None = None
    sso: dict[str, Any] | str | None = None


class UpdateTextBody(_Body):
    comment: str
    editKey: str | None = None
    sso: dict[str, Any] | str | None = None
    anonUserId: str | None = None


class VoteBody(_Body):
    voteDir: str = Field(description='"up" or "down"')
    anonUserId: str | None = None
    sso: dict[str, Any] | str | None = None


class OptionalKeysBody(_Body):
    """DELETE bodies: everything may come in the query string instead."""

    broadcastId: str | None = None
    editKey: str | None = None
    anonUserId: str | None = None
    sso: dict[str, Any] | str | None = None


class LockBody(_Body):
    locked: StrictBool = Field(description="true: read-only for everyone but moderators.")
    sso: dict[str, Any] | str | None = Field(
        default=None, description="The moderator's SSO token (widget routes only).")


class BanBody(_Body):
    """The visitor to ban: a signed-in user's id, or an anonymous visitor's id."""

    userId: str | None = None
    anonUserId: str | None = None
    reason: str | None = Field(default=None, description="Shown in the moderation log.")
    sso: dict[str, Any] | str | None = Field(
        default=None, description="The moderator's SSO token (widget routes only).")
