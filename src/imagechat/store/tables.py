"""The schema. Migrations in `migrations/versions` create exactly this; a test checks it.

Times are integer milliseconds since the epoch (UTC): the wire format's unit, and the
same on SQLite and PostgreSQL. Every table carries `tenant_id` and every query filters on
it, which is what keeps tenants apart.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("api_secret", String(128), nullable=False),
    Column("allow_anonymous", Boolean, nullable=False, default=True),
    Column("allow_simple_sso", Boolean, nullable=False, default=False),
    # JSON list of origins ("https://example.com"); empty list = any origin.
    Column("allowed_origins", Text, nullable=False, default="[]"),
    Column("created_at", BigInteger, nullable=False),
    # Every visitor who may write may also resolve and reopen conversations (else only
    # their authors, moderators and admins).
    Column("visitors_resolve", Boolean, nullable=False, default=False),
    # Email notifications to this site's users (when the server has SMTP set up at all).
    Column("emails_enabled", Boolean, nullable=False, default=True),
)

users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # "sso" (signed by the site), "simple" (unsigned SSO) or "anon".
    Column("kind", String(8), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("display_name", String(200)),
    Column("email", String(320)),
    Column("avatar", String(2000)),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("is_moderator", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    # For emails: the user's language (en, pl, de, es, fr) and whether they want them.
    Column("locale", String(16)),
    Column("email_notifications", Boolean, nullable=False, default=True),
    UniqueConstraint("tenant_id", "kind", "external_id"),
)

# One row per image: the ordering point for its events. `seq` is bumped under a row lock
# inside every write transaction, so events of one image are totally ordered.
channels = Table(
    "channels",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("url_id", String(1000), primary_key=True),
    Column("seq", BigInteger, nullable=False, default=0),
    # Changes only if the channel's history is lost (e.g. restored from an old backup).
    Column("epoch", String(32), nullable=False),
    Column("locked", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url_id", String(1000), nullable=False),
    # Its thread: the urlId of its comments, `{urlId}:{src}:{x}:{y}` as the reference builds
    # it (sent by the client or derived), or `chat-<id>` for conversations made before
    # threads were urlIds of their own. One conversation per thread.
    Column("window_url_id", String(1000), nullable=False),
    # The page the conversation was started on.
    Column("page_url", String(2000)),
    Column("page_title", String(300)),
    Column("src", String(2000)),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("comment_count", Integer, nullable=False, default=0),
    Column("resolved", Boolean, nullable=False, default=False),
    # Who resolved it last (a display name) and when; kept when it is reopened.
    Column("resolved_by", String(200)),
    Column("resolved_at", BigInteger),
    Column("user_id", String(128)),
    Column("anon_user_id", String(128)),
    Column("commenter_name", String(200)),
    Column("edit_key_hash", String(64)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # A region's size in percent (its top-left corner is x, y); NULL for a point.
    Column("region_w", Float),
    Column("region_h", Float),
    # The version of the image it was made on (image_versions); NULL while the image has
    # none. x, y and the region are its place on that version.
    Column("version", Integer),
    UniqueConstraint("tenant_id", "window_url_id"),
    Index("ix_conversations_tenant_url", "tenant_id", "url_id", "created_at"),
    Index("ix_conversations_tenant_created", "tenant_id", "created_at", "id"),
)

# The versions of an image (docs/data-model.md, "Image versions"): numbered from 1 per
# urlId, one per distinct content seen. Only a small thumbnail of each is kept: the compare
# view shows it, and carry-over to the next version aligns against it.
image_versions = Table(
    "image_versions",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("url_id", String(1000), primary_key=True),
    Column("version", Integer, primary_key=True),
    # Where it was seen (NULL for a backend's upload without an address).
    Column("src", String(2000)),
    # SHA-256 (hex) of its bytes; NULL until the server could fetch them.
    Column("content_hash", String(64)),
    Column("width", Integer),
    Column("height", Integer),
    Column("thumbnail", LargeBinary),
    # For revalidating `src` cheaply (conditional GET) and not too often.
    Column("etag", String(200)),
    Column("last_modified", String(100)),
    Column("checked_at", BigInteger),
    Column("fetch_error", String(64)),
    # What carry-over from the version before found.
    Column("carried_same", Integer, nullable=False, default=0),
    Column("carried_changed", Integer, nullable=False, default=0),
    Column("carried_lost", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
)

# Where each conversation sits on the versions after its own (its own: conversations.x, y).
conversation_positions = Table(
    "conversation_positions",
    metadata,
    Column("chat_id", String(32), ForeignKey("conversations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # The image, so that one version's positions are read in one query.
    Column("url_id", String(1000), nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("region_w", Float),
    Column("region_h", Float),
    # "same", "changed", "lost" (carry-over) or "moved" (put there by a person).
    Column("carry", String(8), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_conversation_positions_tenant_url_version", "tenant_id", "url_id", "version"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # The thread: any urlId of the tenant (a page, an article), or a conversation's
    # window_url_id. A conversation's thread is the set of comments at its window_url_id.
    Column("url_id", String(1000), nullable=False),
    Column("url", String(2000), nullable=False, default=""),
    Column("parent_id", String(32)),
    Column("commenter_name", String(200), nullable=False),
    Column("comment", Text, nullable=False),
    Column("comment_html", Text, nullable=False),
    Column("user_id", String(128)),
    Column("anon_user_id", String(128)),
    Column("avatar", String(2000)),
    Column("verified", Boolean, nullable=False, default=False),
    Column("approved", Boolean, nullable=False, default=True),
    Column("is_by_admin", Boolean, nullable=False, default=False),
    Column("is_by_moderator", Boolean, nullable=False, default=False),
    Column("votes_up", Integer, nullable=False, default=0),
    Column("votes_down", Integer, nullable=False, default=0),
    Column("edit_key_hash", String(64)),
    # JSON list of the users it mentions, [{"id": …, "tag": "@name"}], as the reference.
    Column("mentions", Text, nullable=False, default="[]"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_comments_tenant_url_created", "tenant_id", "url_id", "created_at", "id"),
    Index("ix_comments_parent", "parent_id"),
)

# One row per thread (urlId) with comments: the reference's "page". Created by its first
# comment; its counts change in the same transaction as the comments they count.
pages = Table(
    "pages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url_id", String(1000), nullable=False),
    Column("url", String(2000), nullable=False, default=""),
    Column("title", String(300), nullable=False, default=""),
    Column("comment_count", Integer, nullable=False, default=0),
    Column("root_comment_count", Integer, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "url_id"),
    Index("ix_pages_tenant_created", "tenant_id", "created_at", "id"),
)

votes = Table(
    "votes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("comment_id", String(32), ForeignKey("comments.id", ondelete="CASCADE"),
           nullable=False),
    # "u:<userId>" or "a:<anonUserId>": one vote per voter and comment.
    Column("voter_key", String(140), nullable=False),
    Column("user_id", String(128)),
    Column("anon_user_id", String(128)),
    Column("direction", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("comment_id", "voter_key"),
)

# One row per reaction: a visitor ("u:<userId>" or "a:<anonUserId>") put one emoji of the
# fixed set on a comment. Counts are counted from these rows, so they are exact however
# many visitors toggle at once.
reactions = Table(
    "reactions",
    metadata,
    Column("comment_id", String(32), ForeignKey("comments.id", ondelete="CASCADE"),
           primary_key=True),
    Column("emoji", String(16), primary_key=True),
    Column("voter_key", String(140), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Threads a visitor follows: writing in one follows it; a bell in the chat window, or the
# reference's set-subscription-state, follows or unfollows it.
follows = Table(
    "follows",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("url_id", String(1000), primary_key=True),
    # "u:<userId>" or "a:<anonUserId>".
    Column("user_key", String(140), primary_key=True),
    Column("url", String(2000), nullable=False, default=""),
    Column("page_title", String(300), nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_follows_tenant_user", "tenant_id", "user_key"),
)

# In-app notifications, in the reference's terms: for one visitor, about one comment or
# conversation. The widget's bell counts the unviewed ones.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_key", String(140), nullable=False),
    # "mention", "reply", "resolved" or "reopened"; `type` is the reference's number for it.
    Column("kind", String(16), nullable=False),
    Column("type", Integer, nullable=False),
    # The thread, the channel its events go on (the image, for a conversation's thread),
    # the conversation if any, and the page, so that the notification can open it.
    Column("url_id", String(1000), nullable=False),
    Column("channel_url_id", String(1000), nullable=False),
    Column("chat_id", String(32)),
    Column("comment_id", String(32)),
    Column("url", String(2000), nullable=False, default=""),
    Column("page_title", String(300), nullable=False, default=""),
    Column("from_user_id", String(128)),
    Column("from_name", String(200), nullable=False, default=""),
    Column("from_avatar", String(2000)),
    # A short plain-text excerpt of what happened (the comment), for the list.
    Column("context", String(300), nullable=False, default=""),
    Column("viewed", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    # When it went out in an email digest (None: not emailed, or not yet).
    Column("emailed_at", BigInteger),
    Index("ix_notifications_tenant_user_created", "tenant_id", "user_key", "created_at", "id"),
)

# Addresses that refused mail permanently (5xx at RCPT): no email goes to them again.
email_bounces = Table(
    "email_bounces",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("code", Integer, nullable=False),
    Column("message", String(500), nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
)

# Deliveries to make outside (webhook POSTs, emails), written in the transaction of the
# change that causes them, so none is lost and none is made for a change rolled back.
# `id` is the delivery's stable id: receivers drop repeats by it (delivery is at least once).
outbox = Table(
    "outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    # "webhook" or "email".
    Column("kind", String(16), nullable=False),
    # The webhook endpoint's id, or the email's recipient (a visitor key).
    Column("target", String(140), nullable=False),
    Column("event_type", String(32), nullable=False),
    # What to send (JSON text): the webhook's body, or what the email is about.
    Column("payload", Text, nullable=False),
    # "pending" (to try at `next_attempt_at`), "delivered" or "failed" (given up; kept).
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_attempt_at", BigInteger),
    Column("last_status_code", Integer),
    # Why the last attempt failed, and the first bytes of the answer (never a secret).
    Column("last_error", String(500), nullable=False, default=""),
    Column("last_response", String(500), nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_tenant_created", "tenant_id", "created_at", "id"),
    Index("ix_outbox_target_status", "target", "status"),
)

# A site's webhook endpoints: where to POST which events, signed with the endpoint's secret.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2000), nullable=False),
    # JSON list of event types; empty: every type.
    Column("events", Text, nullable=False, default="[]"),
    Column("secret", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Since when every delivery failed (None while it succeeds); past a day, it is disabled.
    Column("failing_since", BigInteger),
    Column("disabled_at", BigInteger),
    Column("disabled_reason", String(500), nullable=False, default=""),
    Index("ix_webhook_endpoints_tenant", "tenant_id", "created_at"),
)

# The per-channel event log: what a reconnecting client replays (docs/data-model.md, Channels).
events = Table(
    "events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("url_id", String(1000), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("broadcast_id", String(128)),
    Column("created_at", BigInteger, nullable=False),
    # The event exactly as it went on the wire (JSON text).
    Column("data", Text, nullable=False),
    UniqueConstraint("tenant_id", "url_id", "seq"),
    Index("ix_events_tenant_url_created", "tenant_id", "url_id", "created_at"),
)

# Usage per tenant and hour (docs/protocol.md): `hour` is the bucket's start in epoch ms.
usage = Table(
    "usage",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("hour", BigInteger, primary_key=True),
    Column("pubsub_message_count", BigInteger, nullable=False, default=0),
    Column("pubsub_bandwidth", BigInteger, nullable=False, default=0),
    Column("conversation_create_count", BigInteger, nullable=False, default=0),
    Column("comment_create_count", BigInteger, nullable=False, default=0),
    Column("peak_viewers", BigInteger, nullable=False, default=0),
)

# Visitors banned from writing in a tenant. `subject` is "u:<userId>" for signed-in users
# or "a:<anonUserId>" for anonymous ones (weak: a browser can pick a new anonymous id).
bans = Table(
    "bans",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    Column("subject", String(140), primary_key=True),
    Column("reason", String(500), nullable=False, default=""),
    Column("created_by", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Who did what as a moderator, and when: locks, bans, deletions of other people's content.
moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(1000), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_moderation_log_tenant_created", "tenant_id", "created_at", "id"),
)

# What a Web Annotation client gave for a conversation or a comment (canonical, via,
# creators, more bodies): kept as sent, merged with the server's properties when served.
annotation_documents = Table(
    "annotation_documents",
    metadata,
    Column("tenant_id", String(64), ForeignKey("tenants.id", ondelete="CASCADE"),
           primary_key=True),
    # A conversation's or a comment's id.
    Column("id", String(32), primary_key=True),
    # The image, so that a container is read in one query.
    Column("url_id", String(1000), nullable=False),
    Column("document", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_annotation_documents_tenant_url", "tenant_id", "url_id"),
)
