"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:20:27.279442
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("api_secret", sa.String(length=128), nullable=False),
        sa.Column("allow_anonymous", sa.Boolean(), nullable=False),
        sa.Column("allow_simple_sso", sa.Boolean(), nullable=False),
        sa.Column("allowed_origins", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "channels",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_channels_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "url_id", name=op.f("pk_channels")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("window_url_id", sa.String(length=64), nullable=False),
        sa.Column("page_url", sa.String(length=2000), nullable=True),
        sa.Column("page_title", sa.String(length=300), nullable=True),
        sa.Column("src", sa.String(length=2000), nullable=True),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("anon_user_id", sa.String(length=128), nullable=True),
        sa.Column("commenter_name", sa.String(length=200), nullable=True),
        sa.Column("edit_key_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_conversations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "tenant_id", "window_url_id", name=op.f("uq_conversations_tenant_id_window_url_id")
        ),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_tenant_url", ["tenant_id", "url_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_tenant_created", ["tenant_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("broadcast_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "tenant_id", "url_id", "seq", name=op.f("uq_events_tenant_id_url_id_seq")
        ),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_tenant_url_created", ["tenant_id", "url_id", "created_at"], unique=False
        )

    op.create_table(
        "usage",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("pubsub_message_count", sa.BigInteger(), nullable=False),
        sa.Column("pubsub_bandwidth", sa.BigInteger(), nullable=False),
        sa.Column("conversation_create_count", sa.BigInteger(), nullable=False),
        sa.Column("comment_create_count", sa.BigInteger(), nullable=False),
        sa.Column("peak_viewers", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_usage_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "hour", name=op.f("pk_usage")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("avatar", sa.String(length=2000), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_moderator", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_users_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "external_id", name=op.f("uq_users_tenant_id_kind_external_id")
        ),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("url_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("commenter_name", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("comment_html", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("anon_user_id", sa.String(length=128), nullable=True),
        sa.Column("avatar", sa.String(length=2000), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("is_by_admin", sa.Boolean(), nullable=False),
        sa.Column("is_by_moderator", sa.Boolean(), nullable=False),
        sa.Column("votes_up", sa.Integer(), nullable=False),
        sa.Column("votes_down", sa.Integer(), nullable=False),
        sa.Column("edit_key_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_comments_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_comments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_conversation", ["conversation_id"], unique=False)
        batch_op.create_index("ix_comments_parent", ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_comments_tenant_url_created",
            ["tenant_id", "url_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "votes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("voter_key", sa.String(length=140), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("anon_user_id", sa.String(length=128), nullable=True),
        sa.Column("direction", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_votes_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_votes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint("comment_id", "voter_key", name=op.f("uq_votes_comment_id_voter_key")),
    )


def downgrade() -> None:

    op.drop_table("votes")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_tenant_url_created")
        batch_op.drop_index("ix_comments_parent")
        batch_op.drop_index("ix_comments_conversation")

    op.drop_table("comments")
    op.drop_table("users")
    op.drop_table("usage")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_tenant_url_created")

    op.drop_table("events")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_tenant_created")
        batch_op.drop_index("ix_conversations_tenant_url")

    op.drop_table("conversations")
    op.drop_table("channels")
    op.drop_table("tenants")
