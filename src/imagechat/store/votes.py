"""Vote rows: one per voter and comment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from imagechat.domain.models import Vote
from imagechat.store.database import Connection
from imagechat.store.tables import votes


def _to_vote(row: Any) -> Vote:
    return Vote(
        id=row.id, tenant_id=row.tenant_id, comment_id=row.comment_id, voter_key=row.voter_key,
        user_id=row.user_id, anon_user_id=row.anon_user_id, direction=row.direction,
        created_at=row.created_at,
    )


async def insert_vote(conn: Connection, v: Vote) -> None:
    await conn.execute(
        insert(votes).values(
            id=v.id, tenant_id=v.tenant_id, comment_id=v.comment_id, voter_key=v.voter_key,
            user_id=v.user_id, anon_user_id=v.anon_user_id, direction=v.direction,
            created_at=v.created_at,
        )
    )


async def by_voter(
    conn: Connection, tenant_id: str, comment_id: str, voter_key: str
) -> Vote | None:
    row = (
        await conn.execute(
            select(votes).where(
                votes.c.tenant_id == tenant_id, votes.c.comment_id == comment_id,
                votes.c.voter_key == voter_key,
            )
        )
    ).first()
    return _to_vote(row) if row else None


async def get_vote(conn: Connection, tenant_id: str, vote_id: str) -> Vote | None:
    row = (
        await conn.execute(
            select(votes).where(votes.c.tenant_id == tenant_id, votes.c.id == vote_id)
        )
    ).first()
    return _to_vote(row) if row else None


async def delete_vote(conn: Connection, tenant_id: str, vote_id: str) -> None:
    await conn.execute(delete(votes).where(votes.c.tenant_id == tenant_id, votes.c.id == vote_id))
