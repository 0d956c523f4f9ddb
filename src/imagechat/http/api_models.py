"""The reference's server-to-server shapes (`/api/v1/comments`, `/api/v1/pages`), under the
reference's schema names, so that the OpenAPI document describes them as its own does and
clients generated from either parse the same answers.

Like reply_models, the answers are built by imagechat.wire.present; these models document
them. Unlike ImageChat's own shapes they are closed: the reference's generated clients
refuse keys its schema does not list.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentUserMentionInfo(_Closed):
    id: str = Field(description="The mentioned user's id.")
    tag: str = Field(description="How the comment names them, e.g. `@Ann Smith`.")


class APIComment(_Closed):
    id: str
    tenantId: str
    urlId: str = Field(description="The thread: a page's urlId, or a conversation's "
                       "windowUrlId.")
    urlIdRaw: str
    url: str
    commenterName: str
    comment: str = Field(description="The text as written.")
    commentHTML: str = Field(description="Sanitized HTML, safe to show.")
    date: int | None = Field(description="Creation time, epoch milliseconds.")
    locale: str | None
    verified: bool
    approved: bool
    userId: str | None
    anonUserId: str | None
    parentId: str | None
    avatarSrc: str | None
    votes: int | None
    votesUp: int | None
    votesDown: int | None
    isByAdmin: bool
    isByModerator: bool
    mentions: list[CommentUserMentionInfo]


class APIGetCommentsResponse(_Closed):
    status: Literal["success"]
    comments: list[APIComment]


class APIGetCommentResponse(_Closed):
    status: Literal["success"]
    comment: APIComment


class APISaveCommentResponse(_Closed):
    status: Literal["success"]
    comment: APIComment
    user: None = Field(description="Always null: a backend call has no visitor session.")


class APIEmptyResponse(_Closed):
    status: Literal["success"]


class DeleteCommentResult(_Closed):
    status: Literal["success"]
    action: Literal["hard-removed"] = Field(
        description="Always `hard-removed`: a deleted comment and its replies are gone.")


class APIPage(_Closed):
    id: str
    urlId: str
    url: str
    title: str
    commentCount: int
    rootCommentCount: int
    createdAt: str = Field(description="ISO 8601, as in the reference.")
    isClosed: bool = Field(description="The thread is locked (read-only).")


class GetPagesAPIResponse(_Closed):
    status: Literal["success"]
    pages: list[APIPage]


class GetPageByURLIdAPIResponse(_Closed):
    status: Literal["success"]
    page: APIPage | None = Field(
        default=None, description="Absent when no comment was ever posted at that urlId.")


class _Params(BaseModel):
    # Generated clients send every field of the reference's schema they were given; the
    # ones ImageChat does not store are accepted and ignored (docs/compatibility.md).
    model_config = ConfigDict(extra="ignore")


class CreateCommentParams(_Params):
    commenterName: str
    comment: str
    urlId: str
    url: str | None = None
    locale: str | None = None
    pageTitle: str | None = None
    parentId: str | None = None
    userId: str | None = Field(default=None, description="The author's id in the site.")
    avatarSrc: str | None = None
    verified: bool | None = Field(default=None, description="The site vouches for the author.")
    date: int | None = Field(default=None, description="When it was written, epoch ms.")


class UpdatableCommentParams(_Params):
    comment: str | None = None
    commenterName: str | None = None
    avatarSrc: str | None = None
    approved: bool | None = None
    verified: bool | None = None
