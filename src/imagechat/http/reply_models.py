"""Success bodies as the OpenAPI document describes them.

Routes build their bodies with imagechat.wire.present (one JSON shape for REST and the
live events) and send them with orjson; these models only document those shapes
(`responses={200: {"model": ...}}`), they are not run on every response. What keeps the two
in step is tests/integration/test_api_schema_fuzz.py, which checks real responses against
the document. Models are open: clients must ignore keys they do not know.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Reply(BaseModel):
    # Fields are named as on the wire; `_id` needs an alias (pydantic keeps leading
    # underscores for private attributes).
    model_config = ConfigDict(populate_by_name=True)


class Success(_Reply):
    status: Literal["success"]


class User(_Reply):
    """The signed-in visitor; `null` for anonymous visitors."""

    id: str
    username: str | None
    displayName: str | None
    avatarSrc: str | None
    isAdmin: bool
    isModerator: bool
    verified: bool = Field(description="Signed in by Secure SSO (the site vouched).")


class MentionReply(_Reply):
    id: str = Field(description="The mentioned user's id.")
    tag: str = Field(description="How the comment names them, e.g. `@Ann Smith`.")


class CommentReply(_Reply):
    id: str = Field(alias="_id")
    tenantId: str
    urlId: str = Field(description="The thread: a page's urlId, or a conversation's "
                       "windowUrlId.")
    url: str
    commenterName: str
    commentHTML: str = Field(description="Sanitized HTML, safe to show.")
    comment: str = Field(description="The text as written.")
    date: str = Field(description="ISO 8601 creation time.")
    verified: bool
    approved: bool
    locale: None
    userId: str | None
    anonUserId: str | None
    parentId: str | None
    avatarSrc: str | None
    votes: int
    votesUp: int
    votesDown: int
    isByAdmin: bool
    isByModerator: bool
    chatId: str | None = Field(description="The conversation whose thread this comment is "
                               "in; null for a page's comment.")
    mentions: list[MentionReply] = Field(description="The users it mentions.")
    reactions: dict[str, int] | None = Field(
        default=None, description="Emoji -> how many visitors put it (when known).")
    myReactions: list[str] | None = Field(
        default=None, description="The emoji the asking visitor put (in answers only).")
    editKey: str | None = Field(
        default=None, description="Anonymous authors only, in the answer to their post: "
        "proves authorship later.")


class RegionReply(_Reply):
    shape: Literal["rect"]
    x: float
    y: float
    w: float
    h: float


class ImageChat(_Reply):
    """A conversation: a point on an image with its thread."""

    id: str = Field(alias="_id")
    urlId: str = Field(description="Its thread's urlId (= windowUrlId), as in the reference.")
    windowUrlId: str = Field(description="The urlId of its thread's comments.")
    urlIdClean: str = Field(description="The image's urlId.")
    x: float = Field(description="Percent of the image width, on version `positionVersion`.")
    y: float = Field(description="Percent of the image height, on version `positionVersion`.")
    region: RegionReply | None = Field(description="Its region, if it marks an area (its "
                                       "corner is `x`, `y`); null for a point.")
    version: int | None = Field(description="The version of the image it was made on; null "
                                "while the image has no versions.")
    carry: Literal["origin", "same", "changed", "lost", "moved"] = Field(
        description="How it got to this version: `origin` (made on it), `same` (carried, area "
        "unchanged), `changed` (carried, area edited), `lost` (no confident match: where it "
        "was, to be placed by a person), `moved` (placed by a person).")
    positionVersion: int | None = Field(description="The version `x`, `y` and `region` are "
                                        "on.")
    commentCount: int
    resolved: bool
    resolvedBy: str | None = Field(description="Who resolved it last (a display name).")
    resolvedAt: int | None = Field(description="When it was resolved last, epoch ms.")
    userId: str | None
    anonUserId: str | None
    createdAt: int = Field(description="Epoch milliseconds.")
    updatedAt: int = Field(description="Epoch milliseconds.")
    tenantId: str
    pageUrl: str | None
    pageTitle: str | None
    src: str | None
    commenterName: str | None


class VoteReply(_Reply):
    id: str = Field(alias="_id")
    tenantId: str
    urlId: str
    urlIdRaw: str
    commentId: str
    userId: str | None
    direction: int = Field(description="1 (up) or -1 (down).")
    createdAt: int
    verificationId: None


class _LiveIds(_Reply):
    tenantIdWS: str
    urlIdWS: str
    userIdWS: str = Field(description="The id to subscribe with on /sub.")


class ImageChatList(Success, _LiveIds):
    user: User | None
    conversations: list[ImageChat]
    urlIdClean: str = Field(description="The urlId as the server files it.")
    isSiteAdmin: bool
    seq: int = Field(description="The channel position the list reflects.")
    epoch: str
    locked: bool
    visitorsResolve: bool = Field(description="Every visitor who may write may resolve and "
                                  "reopen conversations here.")
    version: int | None = Field(description="The image version the conversations are placed "
                                "on (the `version` asked for, default the latest); null while "
                                "the image has no versions.")
    latestVersion: int | None


class CreatedImageChat(Success):
    createdChatId: str
    chat: ImageChat
    user: User | None
    comment: CommentReply | None = Field(
        default=None, description="The first message, when one was sent along.")
    editKey: str | None = Field(
        default=None, description="Anonymous authors only: proves authorship later.")
    existing: bool = Field(description="true: the thread had its conversation already "
                           "(created by another tab); this is it.")


class CommentPage(Success, _LiveIds):
    comments: list[CommentReply]
    user: User | None
    urlIdClean: str = Field(description="The thread's urlId as the server files it.")
    pageNumber: int
    commentCount: int
    hasMore: bool
    isSiteAdmin: bool
    isClosed: bool = Field(description="The thread is locked: read-only.")


class PostedComment(Success):
    comment: CommentReply
    user: User | None
    userIdWS: str
    editKey: str | None = Field(
        default=None, description="Anonymous authors only: proves authorship later.")


class ResolvedConversation(Success):
    chat: ImageChat


class MovedConversation(Success):
    chat: ImageChat = Field(description="The conversation on the version it was moved on.")


class Carried(_Reply):
    same: int
    changed: int
    lost: int


class ImageVersionReply(_Reply):
    version: int
    src: str | None = Field(description="Where it was seen (null for an upload).")
    width: int | None = Field(description="Pixels, as received; null until fetched.")
    height: int | None
    createdAt: int = Field(description="Epoch milliseconds.")
    thumbnail: str | None = Field(description="Path of its thumbnail on this server (WebP, "
                                  "long side at most 1,024 pixels); null until fetched.")
    carried: Carried = Field(description="What carry-over from the version before found.")
    fetchError: str | None = Field(description="The code of the last failed fetch of `src`.")


class ImageVersions(Success):
    versions: list[ImageVersionReply] = Field(description="Oldest first.")
    latestVersion: int | None


class ReportedImage(Success):
    version: int = Field(description="The version of the image shown.")
    latest: bool = Field(description="It is the latest version.")
    created: bool = Field(description="It is a new version (its conversations were carried over).")
    image: ImageVersionReply


class SubmittedVersion(Success):
    version: int
    created: bool = Field(description="false: these contents were a version already.")
    carried: Carried

class Reacted(Success):
    comment: CommentReply


class UserSearchResult(_Reply):
    id: str
    name: str
    displayName: str
    avatarSrc: str | None
    type: Literal["sso"] = Field(description="Always `sso`: users the site signed in.")


class SearchUsersResponse(Success):
    users: list[UserSearchResult]


class RenderableUserNotification(_Reply):
    id: str = Field(alias="_id")
    type: int = Field(description="The reference's NotificationType: 0 a reply to you, 1 "
                      "activity in a thread of yours, 7 a mention.")
    kind: Literal["mention", "reply", "resolved", "reopened"]
    createdAt: str = Field(description="ISO 8601.")
    viewed: bool
    sent: bool
    optedOut: bool
    relatedObjectType: int
    relatedObjectId: str
    url: str
    urlId: str = Field(description="The thread.")
    urlIdWS: str = Field(description="The channel to open it on (its image, for a "
                         "conversation's thread).")
    conversationId: str | None
    pageTitle: str | None
    fromCommentId: str | None
    fromUserId: str | None
    fromUserName: str | None
    fromUserAvatarSrc: str | None
    contextHTML: str = Field(description="What was written, escaped.")


class GetMyNotificationsResponse(Success):
    notifications: list[RenderableUserNotification] = Field(description="Newest first.")
    hasMore: bool
    isSubscribed: bool = Field(description="The reader follows the thread `urlId` named.")


class GetUserNotificationCountResponse(Success):
    count: int = Field(description="Unread notifications.")


class UserNotificationWriteResponse(Success):
    matchedCount: int
    modifiedCount: int


class DeletedComment(Success):
    hardRemoved: bool = Field(description="Always true: the comment and its replies are gone.")


class UpdatedComment(Success):
    comment: CommentReply


class CastVote(Success):
    voteId: str
    isVerified: bool
    votes: int = Field(description="The comment's score after this vote.")
    vote: VoteReply


class RemovedVote(Success):
    wasPendingVote: bool


class LoggedEvent(_Reply):
    id: str = Field(alias="_id")
    createdAt: str = Field(description="ISO 8601, as in the reference.")
    tenantId: str
    urlId: str
    broadcastId: str | None
    data: str = Field(description="The live event, as JSON text.")


class EventLog(Success):
    events: list[LoggedEvent]


class LiveEvent(_Reply):
    """A live event as /sub sends it (docs/protocol.md); the rest depends on `type`."""

    model_config = ConfigDict(extra="allow")
    type: str
    timestamp: int
    broadcastId: str | None
    seq: int


class EventsSince(Success):
    resyncRequired: bool
    seq: int
    epoch: str
    hasMore: bool
    events: list[LiveEvent]


class BackendImageChats(Success):
    imageChats: list[ImageChat]


class BackendImageChat(Success):
    imageChat: ImageChat


class BackendComments(Success):
    comments: list[CommentReply]
    commentCount: int
    hasMore: bool


class BackendComment(Success):
    comment: CommentReply


class UsageHour(_Reply):
    hour: int = Field(description="Start of the hour, epoch milliseconds.")
    pubSubMessageCount: int
    pubSubBandwidth: int
    conversationCreateCount: int
    commentCreateCount: int
    peakViewers: int


class Usage(Success):
    usage: list[UsageHour]


class Health(Success):
    version: str


class Ready(Success):
    checks: dict[str, str] = Field(
        description="`database`, and `broker` when one is shared: `ok` each.")


class NotReady(BaseModel):
    status: Literal["failed"]
    checks: dict[str, str] = Field(
        description="`database` and `broker` (when shared): `ok`, or `down: <reason>`.")



class Locked(Success):
    locked: bool = Field(description="The image's state now.")


class BanReply(_Reply):
    userId: str | None
    anonUserId: str | None
    reason: str
    createdBy: str = Field(description="Who banned: a moderator, or the site's backend.")
    createdAt: int = Field(description="Epoch milliseconds.")


class Banned(Success):
    ban: BanReply


class Bans(Success):
    bans: list[BanReply]


class ModerationEntryReply(_Reply):
    id: str
    actor: str = Field(description="Who acted.")
    action: Literal["lock", "unlock", "ban", "unban", "delete-conversation", "delete-comment",
                    "move-conversation"]
    target: str = Field(description="The image, conversation, comment or visitor acted on.")
    detail: str
    createdAt: int = Field(description="Epoch milliseconds.")


class ModerationLog(Success):
    entries: list[ModerationEntryReply] = Field(description="Newest first.")


class WebhookReply(_Reply):
    id: str
    url: str
    events: list[str] = Field(description="The event types it gets; empty: every type.")
    createdAt: int = Field(description="Epoch milliseconds.")
    failingSince: int | None = Field(
        description="Since when every delivery failed (epoch ms); null while it succeeds.")
    disabled: bool = Field(description="Failing for too long: it gets no events until a "
                           "test delivery to it succeeds.")
    disabledAt: int | None
    disabledReason: str | None


class Webhooks(Success):
    webhooks: list[WebhookReply]


class AddedWebhook(Success):
    webhook: WebhookReply
    secret: str = Field(description="Signs every POST to this endpoint; shown now only.")


class DeliveryReply(_Reply):
    id: str = Field(description="The delivery's id, the same on every attempt "
                    "(`ImageChat-Delivery`): receivers drop repeats by it.")
    endpointId: str
    event: str = Field(description="The event type, or `test`.")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    nextAttemptAt: int | None = Field(description="When it is tried next, while pending.")
    lastAttemptAt: int | None
    responseCode: int | None = Field(description="The HTTP status of the last answer.")
    error: str | None = Field(description="Why the last attempt failed.")
    response: str | None = Field(description="The first bytes of the last answer.")
    createdAt: int = Field(description="Epoch milliseconds.")
    finishedAt: int | None


class Deliveries(Success):
    deliveries: list[DeliveryReply] = Field(description="Newest first.")


class DeliveryResult(Success):
    delivery: DeliveryReply
