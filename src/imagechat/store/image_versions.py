"""Image versions and conversations' places on them (docs/data-model.md, "Image versions")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from imagechat.domain.models import ImageVersion
from imagechat.store.database import Connection
from imagechat.store.tables import conversation_positions, image_versions

_V = image_versions.c
_P = conversation_positions.c
# Every column but the thumbnail: listings never carry its bytes.
_COLUMNS = [c for c in image_versions.c if c.name != "thumbnail"]


@dataclass(frozen=True, slots=True)
class Position:
    """A conversation's place on a version after its own."""

    chat_id: str
    version: int
    x: float
    y: float
    region_w: float | None
    region_h: float | None
    carry: str


def _version(row: Any) -> ImageVersion:
    return ImageVersion(
        tenant_id=row.tenant_id, url_id=row.url_id, version=row.version, src=row.src,
        content_hash=row.content_hash, width=row.width, height=row.height,
        created_at=row.created_at, checked_at=row.checked_at, etag=row.etag,
        last_modified=row.last_modified, fetch_error=row.fetch_error,
        has_thumbnail=bool(row.has_thumbnail), carried_same=row.carried_same,
        carried_changed=row.carried_changed, carried_lost=row.carried_lost,
    )


def _select() -> Any:
    return select(*_COLUMNS, _V.thumbnail.is_not(None).label("has_thumbnail"))


async def list_versions(conn: Connection, tenant_id: str, url_id: str) -> list[ImageVersion]:
    rows = await conn.execute(_select().where(_V.tenant_id == tenant_id, _V.url_id == url_id)
                              .order_by(_V.version))
    return [_version(r) for r in rows]


# Run on every create: built once (see store/conversations.py, _BY_WINDOW_URL_ID).
_LATEST = (_select().where(_V.tenant_id == bindparam("tenant_id"),
                           _V.url_id == bindparam("url_id"))
           .order_by(_V.version.desc()).limit(1))


async def latest(conn: Connection, tenant_id: str, url_id: str) -> ImageVersion | None:
    row = (await conn.execute(_LATEST, {"tenant_id": tenant_id, "url_id": url_id})).first()
    return _version(row) if row else None


async def get(conn: Connection, tenant_id: str, url_id: str, version: int
              ) -> ImageVersion | None:
    row = (await conn.execute(_select().where(_V.tenant_id == tenant_id, _V.url_id == url_id,
                                              _V.version == version))).first()
    return _version(row) if row else None


async def thumbnail(conn: Connection, tenant_id: str, url_id: str, version: int
                    ) -> bytes | None:
    value = (await conn.execute(select(_V.thumbnail).where(
        _V.tenant_id == tenant_id, _V.url_id == url_id, _V.version == version))).scalar()
    return bytes(value) if value is not None else None


async def add_first(conn: Connection, tenant_id: str, url_id: str, src: str | None,
                    now_ms: int) -> bool:
    """Version 1 of an image, seen at `src` (its content comes later), unless the image has
    a version already. True when this call made it."""
    insert_ = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    result = await conn.execute(insert_(image_versions).values(
        tenant_id=tenant_id, url_id=url_id, version=1, src=src, carried_same=0,
        carried_changed=0, carried_lost=0, created_at=now_ms,
    ).on_conflict_do_nothing())
    return bool(result.rowcount)


async def add(conn: Connection, v: ImageVersion, thumbnail_bytes: bytes | None) -> None:
    """A new version; the key (tenant, image, number) refuses a second one of that number
    made by another node at the same moment (the caller's transaction then fails)."""
    await conn.execute(insert(image_versions).values(
        tenant_id=v.tenant_id, url_id=v.url_id, version=v.version, src=v.src,
        content_hash=v.content_hash, width=v.width, height=v.height, thumbnail=thumbnail_bytes,
        etag=v.etag, last_modified=v.last_modified, checked_at=v.checked_at,
        fetch_error=v.fetch_error, carried_same=v.carried_same,
        carried_changed=v.carried_changed, carried_lost=v.carried_lost, created_at=v.created_at,
    ))


async def set_content(
    conn: Connection, tenant_id: str, url_id: str, version: int, *, content_hash: str,
    width: int, height: int, thumbnail_bytes: bytes, etag: str | None,
    last_modified: str | None, checked_at: int,
) -> None:
    """What the first fetch of a version found (only if nobody recorded it first)."""
    await conn.execute(update(image_versions).where(
        _V.tenant_id == tenant_id, _V.url_id == url_id, _V.version == version,
        _V.content_hash.is_(None),
    ).values(content_hash=content_hash, width=width, height=height, thumbnail=thumbnail_bytes,
             etag=etag, last_modified=last_modified, checked_at=checked_at, fetch_error=None))


async def set_checked(
    conn: Connection, tenant_id: str, url_id: str, version: int, *, checked_at: int,
    fetch_error: str | None, etag: str | None = None, last_modified: str | None = None,
) -> None:
    values: dict[str, Any] = {"checked_at": checked_at, "fetch_error": fetch_error}
    if etag is not None or last_modified is not None:
        values.update(etag=etag, last_modified=last_modified)
    await conn.execute(update(image_versions).where(
        _V.tenant_id == tenant_id, _V.url_id == url_id, _V.version == version).values(**values))


async def by_hash(conn: Connection, tenant_id: str, url_id: str, content_hash: str
                  ) -> ImageVersion | None:
    row = (await conn.execute(_select().where(
        _V.tenant_id == tenant_id, _V.url_id == url_id, _V.content_hash == content_hash)
        .order_by(_V.version.desc()).limit(1))).first()
    return _version(row) if row else None


async def by_src(conn: Connection, tenant_id: str, url_id: str, src: str
                 ) -> ImageVersion | None:
    """The latest version seen at this address."""
    row = (await conn.execute(_select().where(
        _V.tenant_id == tenant_id, _V.url_id == url_id, _V.src == src)
        .order_by(_V.version.desc()).limit(1))).first()
    return _version(row) if row else None


async def latest_number(conn: Connection, tenant_id: str, url_id: str) -> int | None:
    value = (await conn.execute(select(func.max(_V.version)).where(
        _V.tenant_id == tenant_id, _V.url_id == url_id))).scalar()
    return int(value) if value is not None else None


# --- conversations' places on later versions ---------------------------------------------

def _position(row: Any) -> Position:
    return Position(chat_id=row.chat_id, version=row.version, x=row.x, y=row.y,
                    region_w=row.region_w, region_h=row.region_h, carry=row.carry)


async def positions_at(conn: Connection, tenant_id: str, url_id: str, version: int
                       ) -> dict[str, Position]:
    rows = await conn.execute(select(conversation_positions).where(
        _P.tenant_id == tenant_id, _P.url_id == url_id, _P.version == version))
    return {r.chat_id: _position(r) for r in rows}


async def position_of(conn: Connection, tenant_id: str, chat_id: str, version: int
                      ) -> Position | None:
    row = (await conn.execute(select(conversation_positions).where(
        _P.tenant_id == tenant_id, _P.chat_id == chat_id, _P.version == version))).first()
    return _position(row) if row else None


async def add_positions(conn: Connection, tenant_id: str, url_id: str,
                        positions: list[Position], now_ms: int) -> None:
    if not positions:
        return
    await conn.execute(insert(conversation_positions), [
        {"chat_id": p.chat_id, "version": p.version, "tenant_id": tenant_id, "url_id": url_id,
         "x": p.x, "y": p.y, "region_w": p.region_w, "region_h": p.region_h, "carry": p.carry,
         "updated_at": now_ms} for p in positions])


async def put_position(conn: Connection, tenant_id: str, url_id: str, p: Position,
                       now_ms: int) -> None:
    """Set a conversation's place on one version (a person moved it there)."""
    changed = await conn.execute(update(conversation_positions).where(
        _P.tenant_id == tenant_id, _P.chat_id == p.chat_id, _P.version == p.version,
    ).values(x=p.x, y=p.y, region_w=p.region_w, region_h=p.region_h, carry=p.carry,
             updated_at=now_ms))
    if not changed.rowcount:
        await add_positions(conn, tenant_id, url_id, [p], now_ms)


async def lost_at_latest(conn: Connection, tenant_id: str, limit: int
                         ) -> list[tuple[str, Position]]:
    """(image, place) of every conversation `lost` on the latest version of its image: the
    ones a person should place ("needs review"), by image."""
    newest = (select(func.max(_V.version)).where(_V.tenant_id == _P.tenant_id,
                                                 _V.url_id == _P.url_id).scalar_subquery())
    rows = await conn.execute(select(conversation_positions).where(
        _P.tenant_id == tenant_id, _P.carry == "lost", _P.version == newest,
    ).order_by(_P.url_id, _P.chat_id).limit(limit))
    return [(r.url_id, _position(r)) for r in rows]


async def drop_positions_from(conn: Connection, tenant_id: str, conversation_ids: list[str],
                              version: int) -> None:
    """Forget places on `version` and later (a conversation now made on that version)."""
    if conversation_ids:
        await conn.execute(delete(conversation_positions).where(and_(
            _P.tenant_id == tenant_id, _P.chat_id.in_(conversation_ids), _P.version >= version)))
