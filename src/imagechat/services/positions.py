"""Where conversations sit on a version of their image (docs/data-model.md, "Image
versions"): on their own version at their own `x`, `y`; on later ones where carry-over (or a
person) put them. Images without versions cost nothing here: a conversation then has no
version, and its place is its own."""

from __future__ import annotations

from collections.abc import Sequence

from imagechat.domain.errors import NotFound
from imagechat.domain.models import Conversation, Positioned
from imagechat.store import image_versions
from imagechat.store.database import Connection

ORIGIN, LOST, MOVED = "origin", "lost", "moved"


def origin(conversation: Conversation) -> Positioned:
    return Positioned(conversation=conversation, on_version=conversation.version,
                      x=conversation.x, y=conversation.y, region_w=conversation.region_w,
                      region_h=conversation.region_h, carry=ORIGIN)


def at(conversation: Conversation, p: image_versions.Position) -> Positioned:
    return Positioned(conversation=conversation, on_version=p.version, x=p.x, y=p.y,
                      region_w=p.region_w, region_h=p.region_h, carry=p.carry)


async def place(conn: Connection, conversation: Conversation, version: int | None = None
                ) -> Positioned:
    """The conversation on `version` of its image (default: the latest)."""
    if conversation.version is None:
        return origin(conversation)
    wanted = version if version is not None else await image_versions.latest_number(
        conn, conversation.tenant_id, conversation.url_id)
    if wanted is None or wanted == conversation.version:
        return origin(conversation)
    found = await image_versions.position_of(conn, conversation.tenant_id, conversation.id, wanted)
    if found is None:
        # Not carried there (yet): it waits where it was made, for a person to place.
        return Positioned(conversation=conversation, on_version=wanted, x=conversation.x,
                          y=conversation.y, region_w=conversation.region_w,
                          region_h=conversation.region_h, carry=LOST)
    return at(conversation, found)


async def place_all(
    conn: Connection, tenant_id: str, url_id: str, conversations: Sequence[Conversation],
    version: int | None,
) -> tuple[int | None, int | None, list[Positioned]]:
    """(the version listed, the latest, the conversations on it). Conversations made on a
    later version than the one listed were not on that image, and are left out."""
    latest = await image_versions.latest_number(conn, tenant_id, url_id)
    if latest is None:
        if version is not None:
            raise NotFound("This image has no versions.", "version-not-found")
        return None, None, [origin(c) for c in conversations]
    shown = latest if version is None else version
    if not 1 <= shown <= latest:
        raise NotFound(f"This image has versions 1 to {latest}.", "version-not-found")
    positions = await image_versions.positions_at(conn, tenant_id, url_id, shown)
    placed = []
    for conversation in conversations:
        made = conversation.version or 1
        if made > shown:
            continue
        if made == shown:
            placed.append(origin(conversation))
        elif conversation.id in positions:
            placed.append(at(conversation, positions[conversation.id]))
        else:
            placed.append(Positioned(conversation=conversation, on_version=shown,
                                     x=conversation.x, y=conversation.y,
                                     region_w=conversation.region_w,
                                     region_h=conversation.region_h, carry=LOST))
    return shown, latest, placed
