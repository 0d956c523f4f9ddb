"""annotation documents: what Web Annotation clients gave, kept as sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotation_documents",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_annotation_documents_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_annotation_documents")),
    )
    op.create_index("ix_annotation_documents_tenant_url", "annotation_documents",
                    ["tenant_id", "url_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_annotation_documents_tenant_url", table_name="annotation_documents")
    op.drop_table("annotation_documents")
