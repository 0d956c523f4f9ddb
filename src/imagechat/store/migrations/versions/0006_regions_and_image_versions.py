"""regions and image versions: rectangles on images, numbered versions, carry-over

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_w", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("region_h", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=True))
    op.create_table(
        "image_versions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("src", sa.String(length=2000), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("checked_at", sa.BigInteger(), nullable=True),
        sa.Column("fetch_error", sa.String(length=64), nullable=True),
        sa.Column("carried_same", sa.Integer(), nullable=False),
        sa.Column("carried_changed", sa.Integer(), nullable=False),
        sa.Column("carried_lost", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_image_versions_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "url_id", "version",
                                name=op.f("pk_image_versions")),
    )
    op.create_table(
        "conversation_positions",
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("region_w", sa.Float(), nullable=True),
        sa.Column("region_h", sa.Float(), nullable=True),
        sa.Column("carry", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["conversations.id"],
                                name=op.f("fk_conversation_positions_chat_id_conversations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_conversation_positions_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "version", name=op.f("pk_conversation_positions")),
    )
    with op.batch_alter_table("conversation_positions", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_positions_tenant_url_version",
                              ["tenant_id", "url_id", "version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_positions_tenant_url_version")
    op.drop_table("conversation_positions")
    op.drop_table("image_versions")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("region_h")
        batch_op.drop_column("region_w")
