"""threads at any urlId: comments belong to a urlId, not to a conversation; pages

A conversation's thread becomes the set of comments at its window_url_id, so comments no
longer point at a conversation, and may live at any urlId of a tenant (a page). Existing
threads keep their urlId (`chat-<id>`), so nothing is renumbered and no link breaks. Each
urlId that has comments gets a row in `pages`, with its counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Pages are filled from the comments in batches of this many threads.
_BATCH = 500


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url_id", sa.String(length=1000), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("root_comment_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_pages_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("tenant_id", "url_id", name=op.f("uq_pages_tenant_id_url_id")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index("ix_pages_tenant_created", ["tenant_id", "created_at", "id"],
                              unique=False)

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_conversation")
        batch_op.drop_constraint("fk_comments_conversation_id_conversations",
                                 type_="foreignkey")
        batch_op.drop_column("conversation_id")
        batch_op.alter_column("url_id", existing_type=sa.String(length=64),
                              type_=sa.String(length=1000), existing_nullable=False)
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("window_url_id", existing_type=sa.String(length=64),
                              type_=sa.String(length=1000), existing_nullable=False)

    _fill_pages()


def _fill_pages() -> None:
    if op.get_context().as_sql:
        # `imagechat migrate --sql` writes this migration out only for a database that has
        # no schema yet (store/migrate.upgrade_sql): no comments, so no pages to fill.
        return
    bind = op.get_bind()
    comments = sa.table(
        "comments", sa.column("tenant_id"), sa.column("url_id"), sa.column("url"),
        sa.column("parent_id"), sa.column("created_at"), sa.column("updated_at"))
    conversations = sa.table("conversations", sa.column("tenant_id"),
                             sa.column("window_url_id"), sa.column("page_title"))
    pages = sa.table(
        "pages", sa.column("id"), sa.column("tenant_id"), sa.column("url_id"), sa.column("url"),
        sa.column("title"), sa.column("comment_count"), sa.column("root_comment_count"),
        sa.column("created_at"), sa.column("updated_at"))
    c = comments.c
    threads = bind.execute(
        sa.select(
            c.tenant_id, c.url_id, sa.func.max(c.url).label("url"),
            sa.func.count().label("comments"),
            sa.func.sum(sa.case((c.parent_id.is_(None), 1), else_=0)).label("roots"),
            sa.func.min(c.created_at).label("created"),
            sa.func.max(c.updated_at).label("updated"),
        ).group_by(c.tenant_id, c.url_id)
    ).all()
    titles = {(r.tenant_id, r.window_url_id): r.page_title or ""
              for r in bind.execute(sa.select(conversations))}
    rows = [{
        "id": secrets.token_hex(12), "tenant_id": t.tenant_id, "url_id": t.url_id,
        "url": t.url or "", "title": titles.get((t.tenant_id, t.url_id), "")[:300],
        "comment_count": int(t.comments), "root_comment_count": int(t.roots or 0),
        "created_at": int(t.created), "updated_at": int(t.updated),
    } for t in threads]
    for start in range(0, len(rows), _BATCH):
        bind.execute(sa.insert(pages), rows[start : start + _BATCH])


def downgrade() -> None:
    # Comments at urlIds that are not a conversation's thread have no conversation to
    # point at in the old schema; a downgrade would have to delete them. It refuses.
    bind = op.get_bind()
    orphans = bind.execute(sa.text(
        "SELECT count(*) FROM comments WHERE NOT EXISTS (SELECT 1 FROM conversations v "
        "WHERE v.tenant_id = comments.tenant_id AND v.window_url_id = comments.url_id)"
    )).scalar()
    if orphans:
        raise RuntimeError(f"{orphans} comments are not in a conversation's thread; "
                           "the schema before 0003 cannot hold them.")
    long_ids = bind.execute(sa.text(
        "SELECT count(*) FROM conversations WHERE length(window_url_id) > 64")).scalar()
    if long_ids:
        raise RuntimeError(f"{long_ids} conversations have a thread urlId longer than the "
                           "schema before 0003 can hold.")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("window_url_id", existing_type=sa.String(length=1000),
                              type_=sa.String(length=64), existing_nullable=False)
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=32), nullable=True))
    bind.execute(sa.text(
        "UPDATE comments SET conversation_id = (SELECT v.id FROM conversations v "
        "WHERE v.tenant_id = comments.tenant_id AND v.window_url_id = comments.url_id)"))
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=sa.String(length=32),
                              nullable=False)
        batch_op.alter_column("url_id", existing_type=sa.String(length=1000),
                              type_=sa.String(length=64), existing_nullable=False)
        batch_op.create_foreign_key("fk_comments_conversation_id_conversations",
                                    "conversations", ["conversation_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.create_index("ix_comments_conversation", ["conversation_id"], unique=False)
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index("ix_pages_tenant_created")
    op.drop_table("pages")
