"""The reference's answer shapes, written down from FastComments' published OpenAPI document
(components.schemas) and its Image Chat API page: what a client generated from them needs.

Each model lists the schema's required fields with their types. The server-to-server
schemas (`APIComment`, `APIGetCommentsResponse`, ...) declare `additionalProperties: false`,
and clients generated from them refuse other keys, so their models forbid extras. The
widget's public schemas are read by the reference's own JavaScript clients, which ignore
keys they do not know, so those models allow extras and check the fields they rely on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

Status = Literal["success", "failed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


# --- server-to-server (x-api-key) ---------------------------------------------------------

class APIComment(_Strict):
    """APIComment = APICommentBase with `date` as a number (epoch ms)."""

    id: StrictStr
    approved: StrictBool
    comment: StrictStr
    commentHTML: StrictStr
    commenterName: StrictStr
    date: float | None
    locale: StrictStr | None
    tenantId: StrictStr
    url: StrictStr
    urlId: StrictStr
    verified: StrictBool
    # Optional in the schema; typed when present.
    urlIdRaw: StrictStr | None = None
    anonUserId: StrictStr | None = None
    avatarSrc: StrictStr | None = None
    isByAdmin: StrictBool | None = None
    isByModerator: StrictBool | None = None
    parentId: StrictStr | None = None
    userId: StrictStr | None = None
    votes: StrictInt | None = None
    votesUp: StrictInt | None = None
    votesDown: StrictInt | None = None
    pageTitle: StrictStr | None = None
    mentions: list[dict[str, Any]] | None = None


class APIGetCommentsResponse(_Strict):
    status: Status
    comments: list[APIComment]


class APIGetCommentResponse(_Strict):
    status: Status
    comment: APIComment


class APISaveCommentResponse(_Strict):
    status: Status
    comment: APIComment
    user: dict[str, Any] | None
    moduleData: dict[str, Any] | None = None


class APIEmptyResponse(_Strict):
    status: Status


class DeleteCommentResult(_Strict):
    action: Literal["already-deleted", "hard-removed", "anonymized"]
    status: Status


class APIPage(_Strict):
    id: StrictStr
    urlId: StrictStr
    title: StrictStr
    commentCount: StrictInt
    rootCommentCount: StrictInt
    createdAt: StrictStr  # format: date-time
    url: StrictStr | None = None
    isClosed: StrictBool | None = None
    accessibleByGroupIds: list[StrictStr] | None = None


class GetPagesAPIResponse(_Strict):
    status: StrictStr
    pages: list[APIPage] | None = None
    reason: StrictStr | None = None
    code: StrictStr | None = None


class GetPageByURLIdAPIResponse(_Strict):
    status: StrictStr
    page: APIPage | None = None
    reason: StrictStr | None = None
    code: StrictStr | None = None


class APIError(_Strict):
    status: Status
    reason: StrictStr
    code: StrictStr
    secondaryCode: StrictStr | None = None
    bannedUntil: StrictInt | None = None
    maxCharacterLength: StrictInt | None = None
    translatedError: StrictStr | None = None


# --- the widget's public API ---------------------------------------------------------------

class SetCommentTextResult(_Open):
    approved: StrictBool
    commentHTML: StrictStr


class PublicAPISetCommentTextResponse(_Open):
    status: Status
    comment: SetCommentTextResult


class VoteResponseUser(_Open):
    sessionId: StrictStr | None = None


class VoteResponse(_Open):
    status: Literal["success", "failed", "pending-verification"]
    voteId: StrictStr | None = None
    isVerified: StrictBool | None = None
    user: VoteResponseUser | None = None
    editKey: StrictStr | None = None


class VoteDeleteResponse(_Open):
    status: Status
    wasPendingVote: StrictBool | None = None


class DeletedCommentResultComment(_Open):
    commentHTML: StrictStr
    commenterName: StrictStr
    isDeleted: StrictBool | None = None
    userId: StrictStr | None = None


class PublicAPIDeleteCommentResponse(_Open):
    status: Status
    hardRemoved: StrictBool
    comment: DeletedCommentResultComment | None = None


class EventLogEntry(_Strict):
    id: StrictStr = Field(alias="_id")
    createdAt: StrictStr  # format: date-time
    tenantId: StrictStr
    urlId: StrictStr
    broadcastId: StrictStr
    data: StrictStr


class GetEventLogResponse(_Open):
    status: Status
    events: list[EventLogEntry]


class PublicComment(_Open):
    """PublicCommentBase's required fields, plus what the live events must carry."""

    id: StrictStr = Field(alias="_id")
    commenterName: StrictStr
    commentHTML: StrictStr
    date: StrictStr | None
    verified: StrictBool
    tenantId: StrictStr
    urlId: StrictStr
    comment: StrictStr
    url: StrictStr
    approved: StrictBool
    locale: StrictStr | None
    parentId: StrictStr | None = None
    userId: StrictStr | None = None
    anonUserId: StrictStr | None = None
    votes: StrictInt | None = None
    votesUp: StrictInt | None = None
    votesDown: StrictInt | None = None
    editKey: StrictStr | None = None


class GetCommentsResponseWithPresence(_Open):
    status: StrictStr
    comments: list[PublicComment]
    user: dict[str, Any] | None
    pageNumber: StrictInt
    urlIdClean: StrictStr | None = None
    commentCount: StrictInt | None = None
    isSiteAdmin: StrictBool | None = None
    hasMore: StrictBool | None = None
    isClosed: StrictBool | None = None
    tenantIdWS: StrictStr
    urlIdWS: StrictStr
    userIdWS: StrictStr


class SaveCommentsResponseWithPresence(_Open):
    status: Status
    comment: PublicComment
    user: dict[str, Any] | None
    userIdWS: StrictStr | None = None


class ImageChatConversation(_Open):
    """A conversation as the Image Chat API page lists it."""

    id: StrictStr = Field(alias="_id")
    urlId: StrictStr
    x: float
    y: float


class ImageChatList(_Open):
    status: StrictStr
    user: dict[str, Any] | None
    conversations: list[ImageChatConversation]
    urlIdClean: StrictStr
    isSiteAdmin: StrictBool
    tenantIdWS: StrictStr
    urlIdWS: StrictStr
    userIdWS: StrictStr


class CreatedImageChat(_Open):
    status: StrictStr
    createdChatId: StrictStr


class LiveEvent(_Open):
    """LiveEvent: `type` required; `timestamp` an integer; objects as PubSubComment/Vote."""

    type: StrictStr
    timestamp: StrictInt
    broadcastId: StrictStr | None = None
    comment: PublicComment | None = None
    vote: dict[str, Any] | None = None
