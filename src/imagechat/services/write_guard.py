"""The checks every write makes inside its transaction: a ban, and a locked image.

Both are read in the write transaction itself, so a ban or a lock takes effect for the
very next write on every node, with no cache to expire.
"""

from __future__ import annotations

from imagechat.domain.actor import Actor
from imagechat.domain.errors import Forbidden
from imagechat.store import moderation
from imagechat.store.database import Connection


def ban_subjects(actor: Actor) -> list[str]:
    subjects = []
    if actor.user_id is not None:
        subjects.append(moderation.ban_subject(actor.user_id, None))
    if actor.anon_user_id is not None:
        subjects.append(moderation.ban_subject(None, actor.anon_user_id))
    return subjects


async def require_writable(
    conn: Connection, tenant_id: str, url_id: str, actor: Actor
) -> None:
    # Moderators are never banned nor locked out: they are who lifts bans and locks.
    if actor.can_moderate:
        return
    locked, banned = await moderation.write_guard(conn, tenant_id, url_id, ban_subjects(actor))
    if banned:
        raise Forbidden("You have been banned from writing on this site.", "banned")
    if locked:
        # An image, or a page: each urlId with a channel of its own can be locked.
        raise Forbidden("This image or page is locked: it is read-only.", "image-locked")
