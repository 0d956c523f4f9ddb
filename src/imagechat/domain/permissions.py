"""Who may change what (docs/data-model.md, "Who may do what"): the author, or a
moderator or admin of the same tenant."""

from __future__ import annotations

from imagechat.domain.actor import Actor
from imagechat.domain.errors import Forbidden
from imagechat.domain.ids import key_matches


def may_change(
    actor: Actor, *, owner_user_id: str | None, edit_key_hash: str | None, edit_key: str | None
) -> bool:
    if actor.can_moderate:
        return True
    if actor.user_id is not None and owner_user_id is not None:
        return actor.user_id == owner_user_id
    # Anonymous authors prove authorship with the key they were handed at creation;
    # their anonUserId is public and proves nothing.
    return edit_key is not None and key_matches(edit_key, edit_key_hash)


def require_change(
    actor: Actor, what: str, *, owner_user_id: str | None, edit_key_hash: str | None,
    edit_key: str | None,
) -> None:
    if not may_change(actor, owner_user_id=owner_user_id, edit_key_hash=edit_key_hash,
                      edit_key=edit_key):
        raise Forbidden(f"Only the author of this {what}, a moderator or an admin may change it.",
                        "not-author")
