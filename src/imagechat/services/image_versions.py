"""Versions of an image and carry-over (docs/data-model.md, "Image versions").

An image (a urlId) gets version 1 from the first `src` seen for it: a conversation's
creation, the widget's report of the image it shows, or the site's backend. A new version
starts when an image is seen whose content (SHA-256 of its bytes) no version has yet; the
same bytes at another address are the same version, and a known address is fetched again
only after IMAGECHAT_IMAGE_RECHECK_SECS (with a conditional GET).

A new version n+1 is aligned with version n's thumbnail and every conversation on n is
carried over (imaging/carry.py); the version, every place and the `image-version` event
are written in one transaction, so viewers on every node see the anchors move together, and a
failure leaves nothing half done. Two nodes seeing the same new image race on the version's
key: the loser finds the winner's version, with the same content, and answers with it.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from imagechat.auth.identity import require_writer
from imagechat.domain import limits, rules
from imagechat.domain.actor import Actor
from imagechat.domain.errors import BadInput, Conflict, ImageChatError, NotFound
from imagechat.domain.events import EventType
from imagechat.domain.models import Conversation, ImageVersion, Positioned, Tenant
from imagechat.imaging.align import Alignment
from imagechat.imaging.carry import LOST, Anchor, Carried, carry_over
from imagechat.imaging.decode import Picture, read_image, read_thumbnail
from imagechat.outbound.images import (
    Fetched,
    FetchLimits,
    absolute_src,
    fetch_image,
    origin_of,
)
from imagechat.services import positions
from imagechat.services.image_work import ImageWork
from imagechat.services.recorder import EventRecorder, Writer
from imagechat.services.write_guard import require_writable
from imagechat.store import conversations, image_versions
from imagechat.wire.present import carried_place_json, version_json

log = logging.getLogger("imagechat.images")

# Another node may add a version, or a conversation may be created, while one is carried
# over; the carry-over is then made again against what is there now, this many times.
_ADD_TRIES = 3

Fetcher = Callable[..., Awaitable[Fetched]]


@dataclass(frozen=True, slots=True)
class ImageLimits:
    fetch: FetchLimits
    max_pixels: int
    recheck_ms: int


@dataclass(frozen=True, slots=True)
class VersionOutcome:
    version: ImageVersion
    # False: the content was a version already (`version` is that one).
    created: bool


class _Moved(Exception):
    """The image changed under a carry-over: make it again."""


class ImageVersionService:
    def __init__(self, writer: Writer, image_limits: ImageLimits, work: ImageWork,
                 fetch: Fetcher = fetch_image) -> None:
        self.writer = writer
        self.db = writer.db
        self.limits = image_limits
        self.work = work
        self.fetch = fetch
        # One fetch per node for the same new image, however many viewers report it.
        self._inflight: dict[tuple[str, str, str], asyncio.Future[VersionOutcome]] = {}
        self._background: set[asyncio.Task[None]] = set()

    # --- reads ------------------------------------------------------------------------

    async def versions(self, tenant: Tenant, raw_url_id: Any) -> builtins.list[ImageVersion]:
        url_id = rules.clean_url_id(raw_url_id)
        async with self.db.read() as conn:
            return await image_versions.list_versions(conn, tenant.id, url_id)

    async def thumbnail(self, tenant: Tenant, raw_url_id: Any, raw_version: Any) -> bytes:
        url_id = rules.clean_url_id(raw_url_id)
        version = require_version(raw_version)
        async with self.db.read() as conn:
            found = await image_versions.thumbnail(conn, tenant.id, url_id, version)
        if found is None:
            raise NotFound("No thumbnail for that version of this image.",
                           "thumbnail-not-found")
        return found

    # --- what was seen ----------------------------------------------------------------

    async def report(self, tenant: Tenant, actor: Actor, raw_url_id: Any, raw_src: Any,
                     raw_page_url: Any, broadcast_id: str | None) -> VersionOutcome:
        """The widget shows the image at `src`: answer which version that is, making a new
        one (and carrying every anchor over) when its content is new."""
        require_writer(tenant, actor)
        url_id = rules.clean_url_id(raw_url_id)
        src = _fetchable(raw_src, raw_page_url)
        async with self.db.read() as conn:
            await require_writable(conn, tenant.id, url_id, actor)
        return await self._once((tenant.id, url_id, src),
                                lambda: self._seen(tenant, url_id, src, None, broadcast_id))

    async def submit(self, tenant: Tenant, raw_url_id: Any, raw_src: Any, data: bytes | None,
                     broadcast_id: str | None) -> VersionOutcome:
        """The site's backend says `src` (or these bytes) is the image now."""
        url_id = rules.clean_url_id(raw_url_id)
        if data is None:
            src = _fetchable(raw_src, None)
            return await self._once((tenant.id, url_id, src),
                                    lambda: self._seen(tenant, url_id, src, None, broadcast_id))
        named = rules.optional_text(raw_src, "src", limits.MAX_URL_CHARS)
        return await self._seen(tenant, url_id, named, data, broadcast_id)

    def seen_in_background(self, tenant: Tenant, url_id: str, src: str,
                           page_url: str | None) -> None:
        """A conversation was made over `src`: look at it after the answer has gone."""
        try:
            fetchable = _fetchable(src, page_url)
        except ImageChatError:
            return  # a relative or data: address: nothing the server can fetch

        async def look() -> None:
            try:
                await self._once((tenant.id, url_id, fetchable), lambda: self._seen(
                    tenant, url_id, fetchable, None, None))
            except ImageChatError as exc:
                log.info("image %s of %s not read: %s (%s)", url_id, tenant.id, exc.reason,
                         exc.code)
            except Exception:
                log.exception("image %s of %s: carry-over failed", url_id, tenant.id)

        task = asyncio.create_task(look())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for the background looks (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*list(self._background), return_exceptions=True)
        self.work.close()

    async def _once(self, key: tuple[str, str, str],
                    make: Callable[[], Awaitable[VersionOutcome]]) -> VersionOutcome:
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[VersionOutcome] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            outcome = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(outcome)
            return outcome
        finally:
            del self._inflight[key]

    async def _seen(self, tenant: Tenant, url_id: str, src: str | None, data: bytes | None,
                    broadcast_id: str | None) -> VersionOutcome:
        etag = last_modified = None
        if data is None:
            assert src is not None
            now = self.writer.clock.now_ms()
            async with self.db.read() as conn:
                known = await image_versions.by_src(conn, tenant.id, url_id, src)
            if known is not None and known.content_hash is not None:
                if known.checked_at is not None and now - known.checked_at < \
                        self.limits.recheck_ms:
                    return VersionOutcome(known, created=False)
            else:
                known = None
            try:
                fetched = await self.fetch(
                    src, allowed_origins=tenant.allowed_origins, limits=self.limits.fetch,
                    etag=known.etag if known else None,
                    last_modified=known.last_modified if known else None)
            except ImageChatError as exc:
                if known is None:
                    raise
                # A known address that cannot be checked again now: it is still what it was.
                log.info("image %s of %s not checked again: %s (%s)", url_id, tenant.id,
                         exc.reason, exc.code)
                return VersionOutcome(known, created=False)
            if fetched.body is None:
                assert known is not None  # a 304 answers a conditional request only
                async with self.writer.transaction() as rec:
                    await image_versions.set_checked(rec.conn, tenant.id, url_id,
                                                     known.version, checked_at=rec.now_ms,
                                                     fetch_error=None)
                return VersionOutcome(known, created=False)
            data, etag, last_modified = fetched.body, fetched.etag, fetched.last_modified
        picture = await self.work.run(read_image, data, max_pixels=self.limits.max_pixels)
        return await self._add(tenant, url_id, src, picture, etag, last_modified, broadcast_id)

    # --- a new version ----------------------------------------------------------------

    async def _add(self, tenant: Tenant, url_id: str, src: str | None, picture: Picture,
                   etag: str | None, last_modified: str | None, broadcast_id: str | None,
                   ) -> VersionOutcome:
        alignment: Alignment | None = None
        for attempt in range(1, _ADD_TRIES + 1):
            async with self.db.read() as conn:
                latest = await image_versions.latest(conn, tenant.id, url_id)
                known = await image_versions.by_hash(conn, tenant.id, url_id,
                                                     picture.content_hash)
            if known is not None:
                await self._checked(known, src, etag, last_modified)
                return VersionOutcome(known, created=False)
            if latest is not None and latest.content_hash is None:
                filled = await self._fill(tenant, latest, src, picture, etag, last_modified,
                                          broadcast_id)
                if filled is not None:
                    return filled
                continue  # version n has its content now: carry over from it
            try:
                if latest is None:
                    return await self._first(tenant, url_id, src, picture, etag,
                                             last_modified, broadcast_id)
                outcome, alignment = await self._next(tenant, latest, src, picture, etag,
                                                      last_modified, broadcast_id, alignment)
                return outcome
            except (_Moved, Conflict) as exc:
                if isinstance(exc, Conflict) and exc.code != "write-conflict":
                    raise
                if attempt == _ADD_TRIES:
                    raise Conflict("The image changed again while its anchors were carried "
                                   "over; try again.", "write-conflict") from None
        raise Conflict("The image changed again while its anchors were carried over; try "
                       "again.", "write-conflict")

    def _version(self, tenant: Tenant, url_id: str, number: int, src: str | None,
                 picture: Picture, etag: str | None, last_modified: str | None, now_ms: int,
                 counts: tuple[int, int, int] = (0, 0, 0)) -> ImageVersion:
        return ImageVersion(
            tenant_id=tenant.id, url_id=url_id, version=number, src=src,
            content_hash=picture.content_hash, width=picture.width, height=picture.height,
            created_at=now_ms, checked_at=now_ms if src else None, etag=etag,
            last_modified=last_modified, has_thumbnail=True, carried_same=counts[0],
            carried_changed=counts[1], carried_lost=counts[2])

    async def _checked(self, known: ImageVersion, src: str | None, etag: str | None,
                       last_modified: str | None) -> None:
        if src is None or known.src != src:
            return
        async with self.writer.transaction() as rec:
            await image_versions.set_checked(rec.conn, known.tenant_id, known.url_id,
                                             known.version, checked_at=rec.now_ms,
                                             fetch_error=None, etag=etag,
                                             last_modified=last_modified)

    async def _first(self, tenant: Tenant, url_id: str, src: str | None, picture: Picture,
                     etag: str | None, last_modified: str | None, broadcast_id: str | None,
                     ) -> VersionOutcome:
        async with self.writer.transaction() as rec:
            version = self._version(tenant, url_id, 1, src, picture, etag, last_modified,
                                    rec.now_ms)
            await image_versions.add(rec.conn, version, picture.thumbnail)
            ids = await conversations.without_version(rec.conn, tenant.id, url_id)
            await conversations.set_version(rec.conn, tenant.id, ids, 1, rec.now_ms)
            placed = [positions.origin(c) for c in
                      await conversations.list_for_image(rec.conn, tenant.id, url_id)]
            _record(rec, version, placed, broadcast_id)
        return VersionOutcome(version, created=True)

    async def _fill(self, tenant: Tenant, latest: ImageVersion, src: str | None,
                    picture: Picture, etag: str | None, last_modified: str | None,
                    broadcast_id: str | None) -> VersionOutcome | None:
        """The latest version was seen without its content (a conversation's `src` that
        could not be fetched then). If this is that address, this is its content; else try
        to fetch that address for the version before the new one."""
        if src is not None and latest.src == src:
            return await self._store_content(latest, picture, etag, last_modified,
                                             broadcast_id)
        old: Picture | None = None
        if latest.src is not None:
            try:
                fetched = await self.fetch(latest.src, allowed_origins=tenant.allowed_origins,
                                           limits=self.limits.fetch)
                if fetched.body is not None:
                    old = await self.work.run(read_image, fetched.body,
                                              max_pixels=self.limits.max_pixels)
            except ImageChatError as exc:
                log.info("version %d of %s: %s (%s)", latest.version, latest.url_id,
                         exc.reason, exc.code)
        if old is None or old.content_hash == picture.content_hash:
            # Its content cannot be known apart from the new one: this is it.
            return await self._store_content(latest, picture, etag, last_modified,
                                             broadcast_id)
        await self._store_content(latest, old, None, None, broadcast_id)
        return None

    async def _store_content(self, v: ImageVersion, picture: Picture, etag: str | None,
                             last_modified: str | None, broadcast_id: str | None
                             ) -> VersionOutcome:
        async with self.writer.transaction() as rec:
            await image_versions.set_content(
                rec.conn, v.tenant_id, v.url_id, v.version, content_hash=picture.content_hash,
                width=picture.width, height=picture.height, thumbnail_bytes=picture.thumbnail,
                etag=etag, last_modified=last_modified, checked_at=rec.now_ms)
            stored = await image_versions.get(rec.conn, v.tenant_id, v.url_id, v.version)
            assert stored is not None
            _record(rec, stored, [], broadcast_id)
        return VersionOutcome(stored, created=False)

    async def _next(self, tenant: Tenant, latest: ImageVersion, src: str | None,
                    picture: Picture, etag: str | None, last_modified: str | None,
                    broadcast_id: str | None, alignment: Alignment | None,
                    ) -> tuple[VersionOutcome, Alignment | None]:
        url_id, number = latest.url_id, latest.version + 1
        async with self.db.read() as conn:
            listed = await conversations.list_for_image(conn, tenant.id, url_id)
            _, _, placed = await positions.place_all(conn, tenant.id, url_id, listed,
                                                     latest.version)
            old_thumbnail = await image_versions.thumbnail(conn, tenant.id, url_id,
                                                           latest.version)
        # Made over the new image already (their `src` is its address): not carried.
        made_on_new = {p.conversation.id for p in placed if _made_on(p.conversation, latest, src)}
        anchors = [Anchor(p.conversation.id, p.x, p.y, p.region_w, p.region_h, lost=p.carry == LOST)
                for p in placed if p.conversation.id not in made_on_new]
        if old_thumbnail is None:
            carried = [Carried(p.key, p.x, p.y, p.w, p.h, LOST) for p in anchors]
        else:
            result = await self.work.run(_carry, old_thumbnail, picture, anchors, alignment)
            carried, alignment = result.anchors, result.alignment
        counts = (sum(c.carry == "same" for c in carried),
                  sum(c.carry == "changed" for c in carried),
                  sum(c.carry == LOST for c in carried))
        async with self.writer.transaction() as rec:
            if await image_versions.latest_number(rec.conn, tenant.id, url_id) != latest.version:
                raise _Moved
            now_conversations = {c.id: c for c in await conversations.list_for_image(
                rec.conn, tenant.id, url_id)}
            expected = {p.conversation.id for p in placed}
            if {i for i, c in now_conversations.items() if (c.version or 1) <= latest.version} \
                    - expected:
                raise _Moved  # a conversation was made meanwhile: carry it too
            version = self._version(tenant, url_id, number, src, picture, etag, last_modified,
                                    rec.now_ms, counts)
            await image_versions.add(rec.conn, version, picture.thumbnail)
            await conversations.set_version(rec.conn, tenant.id, sorted(made_on_new), number,
                                            rec.now_ms)
            kept = [c for c in carried if c.key in now_conversations]
            await image_versions.add_positions(rec.conn, tenant.id, url_id, [
                image_versions.Position(c.key, number, c.x, c.y, c.w, c.h, c.carry)
                for c in kept], rec.now_ms)
            moved = [Positioned(conversation=now_conversations[c.key], on_version=number, x=c.x,
                                y=c.y, region_w=c.w, region_h=c.h, carry=c.carry) for c in kept]
            moved += [positions.origin(replace(now_conversations[i], version=number))
                      for i in sorted(made_on_new) if i in now_conversations]
            _record(rec, version, moved, broadcast_id)
        return VersionOutcome(version, created=True), alignment


def _made_on(conversation: Conversation, latest: ImageVersion, src: str | None) -> bool:
    return (src is not None and conversation.version == latest.version and conversation.src == src
            and latest.src != src)


def _carry(old_thumbnail: bytes, picture: Picture, anchors: Sequence[Anchor],
           alignment: Alignment | None) -> Any:
    return carry_over(read_thumbnail(old_thumbnail), picture.work, anchors, alignment=alignment)


def _record(rec: EventRecorder, version: ImageVersion, placed: Sequence[Positioned],
            broadcast_id: str | None) -> None:
    rec.record(version.tenant_id, version.url_id, EventType.IMAGE_VERSION, broadcast_id,
               {"version": version_json(version),
                "chats": [carried_place_json(p) for p in placed]})


def require_version(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise BadInput("`version` must be a whole number from 1.", "invalid-version")
    return value


def _fetchable(raw_src: Any, raw_page_url: Any) -> str:
    src = rules.require_text(raw_src, "src", limits.MAX_URL_CHARS).strip()
    page = rules.optional_text(raw_page_url, "url", limits.MAX_URL_CHARS)
    absolute = absolute_src(src, page)
    origin_of(absolute)  # 400 for what cannot be fetched (data:, blob:, relative)
    return absolute
