"""Votes on comments: one per voter and comment; changing direction replaces the vote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, Conflict, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.ids import new_id
from imagechat.domain.models import Tenant, Vote
from imagechat.domain.permissions import require_change
from imagechat.services.recorder import Writer
from imagechat.services.threads import locate
from imagechat.services.write_guard import require_writable
from imagechat.store import comments as comment_rows
from imagechat.store import votes as vote_rows
from imagechat.wire.present import vote_json


@dataclass(frozen=True, slots=True)
class CastVote:
    vote: Vote
    comment_votes: int


def voter_key(actor: Actor) -> str:
    if actor.user_id is not None:
        return f"u:{actor.user_id}"
    if actor.anon_user_id is not None:
        return f"a:{actor.anon_user_id}"
    raise BadInput("Voting without signing in needs an `anonUserId`.", "missing-field")


class VoteService:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    async def vote(
        self, tenant: Tenant, actor: Actor, comment_id: Any, direction: Any,
        broadcast_id: str | None,
    ) -> CastVote:
        require_writer(tenant, actor)
        comment_id = rules.require_id(comment_id, "commentId")
        sign = rules.require_vote_direction(direction)
        key = voter_key(actor)
        async with self.writer.transaction() as rec:
            conn = rec.conn
            comment = await comment_rows.get_comment(conn, tenant.id, comment_id)
            if comment is None:
                raise NotFound("No comment with that id.", "comment-not-found")
            channel = (await locate(conn, tenant.id, comment.url_id)).channel
            await require_writable(conn, tenant.id, channel, actor)
            previous = await vote_rows.by_voter(conn, tenant.id, comment_id, key)
            if previous is not None and previous.direction == sign:
                raise Conflict("You have already voted on this comment.", "already-voted")
            if previous is not None:
                await vote_rows.delete_vote(conn, tenant.id, previous.id)
                await _count(conn, tenant.id, comment_id, previous.direction, -1)
                rec.record(tenant.id, channel, EventType.DELETED_VOTE, broadcast_id,
                           {"vote": vote_json(previous, comment.url_id)})
            vote = Vote(
                id=new_id(), tenant_id=tenant.id, comment_id=comment_id, voter_key=key,
                user_id=actor.user_id, anon_user_id=actor.anon_user_id, direction=sign,
                created_at=rec.now_ms,
            )
            await vote_rows.insert_vote(conn, vote)
            await _count(conn, tenant.id, comment_id, sign, +1)
            rec.record(tenant.id, channel, EventType.NEW_VOTE, broadcast_id,
                       {"vote": vote_json(vote, comment.url_id)})
            updated = await comment_rows.get_comment(conn, tenant.id, comment_id)
            assert updated is not None
        return CastVote(vote=vote, comment_votes=updated.votes)

    async def unvote(
        self, tenant: Tenant, actor: Actor, comment_id: Any, vote_id: Any,
        broadcast_id: str | None,
    ) -> Vote:
        comment_id = rules.require_id(comment_id, "commentId")
        vote_id = rules.require_id(vote_id, "voteId")
        async with self.writer.transaction() as rec:
            conn = rec.conn
            vote = await vote_rows.get_vote(conn, tenant.id, vote_id)
            if vote is None or vote.comment_id != comment_id:
                raise NotFound("No such vote on this comment.", "vote-not-found")
            # A voter is whoever holds the same user id or anonymous id.
            if not actor.can_moderate and (
                (actor.user_id is None and actor.anon_user_id is None)
                or vote.voter_key != voter_key(actor)
            ):
                require_change(actor, "vote", owner_user_id=None, edit_key_hash=None,
                               edit_key=None)
            comment = await comment_rows.get_comment(conn, tenant.id, comment_id)
            if comment is None:
                raise NotFound("No comment with that id.", "comment-not-found")
            channel = (await locate(conn, tenant.id, comment.url_id)).channel
            await require_writable(conn, tenant.id, channel, actor)
            await vote_rows.delete_vote(conn, tenant.id, vote.id)
            await _count(conn, tenant.id, comment_id, vote.direction, -1)
            rec.record(tenant.id, channel, EventType.DELETED_VOTE, broadcast_id,
                       {"vote": vote_json(vote, comment.url_id)})
        return vote


async def _count(conn: Any, tenant_id: str, comment_id: str, direction: int, delta: int) -> None:
    if direction > 0:
        await comment_rows.add_votes(conn, tenant_id, comment_id, delta, 0)
    else:
        await comment_rows.add_votes(conn, tenant_id, comment_id, 0, delta)
