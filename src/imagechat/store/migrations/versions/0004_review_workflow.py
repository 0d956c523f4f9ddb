"""review workflow: resolve and reopen, mentions, reactions, follows, in-app notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visitors_resolve", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions", sa.Text(), nullable=False,
                                      server_default="[]"))
    # The server defaults fill existing rows; new rows get theirs from the application,
    # as every other column does.
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.alter_column("visitors_resolve", server_default=None)
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.alter_column("mentions", server_default=None)

    op.create_table(
        "reactions",
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("emoji", sa.String(length=16), nullable=False),
        sa.Column("voter_key", sa.String(length=140), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_reactions_comment_id_comments"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_reactions_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("comment_id", "emoji", "voter_key", name=op.f("pk_reactions")),
    )
    op.create_table(
        "follows",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("user_key", sa.String(length=140), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("page_title", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_follows_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "url_id", "user_key", name=op.f("pk_follows")),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index("ix_follows_tenant_user", ["tenant_id", "user_key"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_key", sa.String(length=140), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("channel_url_id", sa.String(length=1000), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=True),
        sa.Column("comment_id", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("page_title", sa.String(length=300), nullable=False),
        sa.Column("from_user_id", sa.String(length=128), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("from_avatar", sa.String(length=2000), nullable=True),
        sa.Column("context", sa.String(length=300), nullable=False),
        sa.Column("viewed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_notifications_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_tenant_user_created",
                              ["tenant_id", "user_key", "created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_tenant_user_created")
    op.drop_table("notifications")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index("ix_follows_tenant_user")
    op.drop_table("follows")
    op.drop_table("reactions")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("mentions")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("visitors_resolve")
