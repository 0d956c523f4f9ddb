"""Entities as plain frozen dataclasses: what the store returns and services pass around."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    api_secret: str
    allow_anonymous: bool
    allow_simple_sso: bool
    allowed_origins: tuple[str, ...]
    created_at: int
    # Every visitor who may write may resolve and reopen conversations.
    visitors_resolve: bool = False
    # Email notifications to the site's users (when SMTP is set up).
    emails_enabled: bool = True


@dataclass(frozen=True, slots=True)
class ChannelPosition:
    """Where a channel's event stream stands: the last `seq` written, and its `epoch`."""

    seq: int
    epoch: str
    locked: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    tenant_id: str
    url_id: str
    window_url_id: str
    page_url: str | None
    page_title: str | None
    src: str | None
    x: float
    y: float
    comment_count: int
    resolved: bool
    user_id: str | None
    anon_user_id: str | None
    commenter_name: str | None
    edit_key_hash: str | None
    created_at: int
    updated_at: int
    # Who resolved it last (a display name) and when, epoch ms; kept after a reopen.
    resolved_by: str | None = None
    resolved_at: int | None = None
    # A region's size, percent of the image (its corner is x, y); None for a point.
    region_w: float | None = None
    region_h: float | None = None
    # The version of the image it was made on; None while the image has no versions.
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Positioned:
    """A conversation as it sits on one version of its image: `x`, `y` (and the region's
    size) on that version, and how it got there (`carry`)."""

    conversation: Conversation
    # The version whose image x, y are on; None while the image has no versions.
    on_version: int | None
    x: float
    y: float
    region_w: float | None
    region_h: float | None
    # "origin" (its own version), "same", "changed", "lost" (carried over), "moved" (put
    # there by a person).
    carry: str = "origin"


@dataclass(frozen=True, slots=True)
class Mention:
    """A user a comment mentions: the tenant's user id and the text that names them."""

    id: str
    tag: str


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    tenant_id: str
    # The thread's urlId: a page, or a conversation's windowUrlId.
    url_id: str
    url: str
    parent_id: str | None
    commenter_name: str
    comment: str
    comment_html: str
    user_id: str | None
    anon_user_id: str | None
    avatar: str | None
    verified: bool
    approved: bool
    is_by_admin: bool
    is_by_moderator: bool
    votes_up: int
    votes_down: int
    edit_key_hash: str | None
    created_at: int
    updated_at: int
    mentions: tuple[Mention, ...] = ()

    @property
    def votes(self) -> int:
        return self.votes_up - self.votes_down


@dataclass(frozen=True, slots=True)
class Page:
    """A urlId with comments (a page, or a conversation's thread): what the reference's
    `/api/v1/pages` lists. It exists from its first comment on."""

    id: str
    tenant_id: str
    url_id: str
    url: str
    title: str
    comment_count: int
    root_comment_count: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Vote:
    id: str
    tenant_id: str
    comment_id: str
    voter_key: str
    user_id: str | None
    anon_user_id: str | None
    direction: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Notification:
    """Something that happened for one visitor (`user_key` "u:<userId>" or "a:<anonId>")."""

    id: str
    tenant_id: str
    user_key: str
    kind: str
    type: int
    url_id: str
    channel_url_id: str
    chat_id: str | None
    comment_id: str | None
    url: str
    page_title: str
    from_user_id: str | None
    from_name: str
    from_avatar: str | None
    context: str
    viewed: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class KnownUser:
    """A signed-in user the tenant has seen (connected or wrote): who can be mentioned."""

    id: str
    kind: str
    display_name: str | None
    avatar: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Recipient:
    """A Secure SSO user who may get email: their address, name and language."""

    id: str
    email: str
    display_name: str | None
    locale: str | None
    email_notifications: bool


@dataclass(frozen=True, slots=True)
class EmailBounce:
    """An address that refused mail permanently (5xx at RCPT)."""

    tenant_id: str
    address: str
    code: int
    message: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of the outbox: a webhook POST or an email, tried until it succeeds or
    is given up. `id` is stable across attempts: receivers drop repeats by it."""

    id: str
    tenant_id: str
    kind: str
    target: str
    event_type: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: int
    last_attempt_at: int | None
    last_status_code: int | None
    last_error: str
    last_response: str
    created_at: int
    finished_at: int | None


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where a site wants events POSTed, signed with `secret` (shown once, when added)."""

    id: str
    tenant_id: str
    url: str
    # Event types it wants; empty: every type.
    events: tuple[str, ...]
    secret: str
    created_at: int
    # Since when every delivery failed; a day of that disables it.
    failing_since: int | None
    disabled_at: int | None
    disabled_reason: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: str
    tenant_id: str
    url_id: str
    seq: int
    type: str
    broadcast_id: str | None
    created_at: int
    data: str


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """One image of a tenant as the dashboard lists it."""

    url_id: str
    conversations: int
    comments: int
    # The last write to the image (a conversation, comment, vote, deletion, lock), epoch ms.
    last_activity: int
    locked: bool
    # The image's address and the page it was seen on, as the widget reported them.
    src: str | None
    page_url: str | None
    # Conversations resolved (the rest are open).
    resolved: int = 0

    @property
    def open(self) -> int:
        return self.conversations - self.resolved


@dataclass(frozen=True, slots=True)
class UsageBucket:
    hour: int
    pubsub_message_count: int = 0
    pubsub_bandwidth: int = 0
    conversation_create_count: int = 0
    comment_create_count: int = 0
    peak_viewers: int = 0


@dataclass(frozen=True, slots=True)
class Ban:
    """A visitor who may no longer write in a tenant: a signed-in user or an anonymous id."""

    tenant_id: str
    user_id: str | None
    anon_user_id: str | None
    reason: str
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class ModerationEntry:
    id: str
    tenant_id: str
    actor: str
    action: str
    target: str
    detail: str
    created_at: int


@dataclass(frozen=True, slots=True)
class ImageVersion:
    """One version of an image: what was seen, and what carry-over found."""

    tenant_id: str
    url_id: str
    version: int
    src: str | None
    # SHA-256 (hex) of the image's bytes; None until the server could fetch them.
    content_hash: str | None
    width: int | None
    height: int | None
    created_at: int
    # When the server last fetched (or revalidated) `src`.
    checked_at: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    # The code of the last failed fetch of `src` (e.g. `image-origin-not-allowed`).
    fetch_error: str | None = None
    has_thumbnail: bool = False
    carried_same: int = 0
    carried_changed: int = 0
    carried_lost: int = 0
