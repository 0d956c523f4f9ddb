"""Exports of an image: a CSV of its comments, a PDF review report, and its W3C
AnnotationCollection (JSON-LD) for annotation tools; and of every image of a site: one CSV,
one JSON-LD document, a ZIP archive of the reports (README "Exports").

An export shows the image's latest version: every conversation placed on it (its point or
region there, and how it got there), numbered 1, 2, ... in the order they were made, with
its whole thread, reactions and resolved state. The formats are a table, `FORMATS`; each
turns one `ImageReport` into bytes, so a format is one entry. JSON-LD is the one format
built from the image's annotations instead (docs/annotations.md): the very documents the
protocol server serves, whose ids are addresses on this server. The PDF also draws the image:
it is fetched like a version's image (outbound/images.fetch_image: the site's origins
only, no private addresses, bounded), never kept. When it cannot be fetched the stored
thumbnail of the version stands in for it, and without that the report says why the image
is missing and lists the threads all the same: a review report is still worth having when
the image host is down.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from imagechat.annotations import collection
from imagechat.annotations.iris import Iris
from imagechat.annotations.vocabulary import ANNO_MEDIA_TYPE
from imagechat.domain import rules
from imagechat.domain.errors import (
    BadInput,
    ImageChatError,
    NotFound,
    TooLarge,
    Unavailable,
)
from imagechat.domain.models import Comment, Tenant
from imagechat.services import export_csv, export_pdf, positions
from imagechat.services.annotations import AnnotationService
from imagechat.services.dashboard import image_address
from imagechat.services.image_report import ImageReport, ReportImage, ReportThread
from imagechat.services.image_versions import ImageVersionService
from imagechat.store import comments as comment_rows
from imagechat.store import conversations, image_versions, images, reactions
from imagechat.store.database import Connection

log = logging.getLogger("imagechat.exports")

# Comments of one image an export reads at most; past it the export is refused (413) rather
# than cut short without saying so. The archive (`imagechat export`) has no such bound.
MAX_EXPORT_COMMENTS = 100_000
# Images read per query when the whole site is exported (CSV, JSON-LD, the PDF reports).
_IMAGES_PER_READ = 100


@dataclass(frozen=True, slots=True)
class ExportFormat:
    media_type: str
    extension: str
    # The format draws the image: the service fetches it before rendering.
    draws_image: bool
    # None: the format is the image's AnnotationCollection, not a rendering of the report.
    render: Callable[[ImageReport], bytes] | None


FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat("text/csv; charset=utf-8", "csv", False, export_csv.render),
    "pdf": ExportFormat("application/pdf", "pdf", True, export_pdf.render),
    "jsonld": ExportFormat(ANNO_MEDIA_TYPE, "jsonld", False, None),
}


@dataclass(frozen=True, slots=True)
class ExportFile:
    body: bytes
    media_type: str
    filename: str


def require_format(raw: Any) -> ExportFormat:
    supported = ", ".join(sorted(FORMATS))
    if not isinstance(raw, str) or raw.strip().lower() not in FORMATS:
        raise BadInput(f"`format` must be one of: {supported}.", "export-format-unsupported")
    return FORMATS[raw.strip().lower()]


def file_name(url_id: str, extension: str) -> str:
    """A file name from the urlId that every system and browser takes as is."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", url_id).strip("-.")[:80] or "image"
    return f"{stem}.{extension}"


class ImageExportService:
    def __init__(self, versions: ImageVersionService, annotations: AnnotationService
                 ) -> None:
        self.versions = versions
        self.annotations = annotations
        self.db = versions.db
        self.clock = versions.writer.clock

    async def export(self, tenant: Tenant, raw_url_id: Any, raw_format: Any, *,
                     base_url: str) -> ExportFile:
        """One image in one format; 404 `image-not-found` for a urlId the site has no
        image at. `base_url`: this server's address, the start of the JSON-LD's ids."""
        chosen = require_format(raw_format)
        url_id = rules.clean_url_id(raw_url_id)
        if chosen.render is None:
            body = await self._collection(tenant, url_id, base_url)
            return ExportFile(body=body, media_type=chosen.media_type,
                              filename=file_name(url_id, chosen.extension))
        async with self.db.read() as conn:
            report = await _report(conn, tenant.id, url_id, self.clock.now_ms())
        if report is None:
            raise NotFound("This site has no image with that urlId.", "image-not-found")
        return ExportFile(body=await self._render(tenant, report, chosen),
                          media_type=chosen.media_type,
                          filename=file_name(url_id, chosen.extension))

    async def _render(self, tenant: Tenant, report: ImageReport, chosen: ExportFormat
                      ) -> bytes:
        assert chosen.render is not None
        if chosen.draws_image:
            report = replace(report, image=await self._picture(tenant, report))
        return await self.versions.work.run(chosen.render, report)

    async def _collection(self, tenant: Tenant, url_id: str, base_url: str) -> bytes:
        async with self.db.read() as conn:
            if await images.get(conn, tenant.id, url_id) is None:
                raise NotFound("This site has no image with that urlId.", "image-not-found")
        image = await self.annotations.image(tenant, url_id)
        document = collection(Iris(base=base_url.rstrip("/"), tenant_id=tenant.id,
                                   url_id=url_id), image)
        return json.dumps(document, ensure_ascii=False, indent=1).encode()

    async def site_csv(self, tenant: Tenant) -> AsyncIterator[bytes]:
        """Every image of the site in one CSV (the same columns, images in urlId order),
        read and written one image at a time so memory stays flat."""
        yield export_csv.header()
        async for url_id in self._url_ids(tenant):
            async with self.db.read() as conn:
                report = await _report(conn, tenant.id, url_id, self.clock.now_ms())
            if report is not None and report.threads:
                yield export_csv.rows(report)

    async def site_jsonld(self, tenant: Tenant, *, base_url: str) -> AsyncIterator[bytes]:
        """Every image's AnnotationCollection, as one JSON-LD document: an array of them,
        in urlId order, each as `export(..., "jsonld")` gives it; written one at a time."""
        yield b"["
        first = True
        async for url_id in self._url_ids(tenant):
            body = await self._collection(tenant, url_id, base_url)
            yield (b"\n" if first else b",\n") + body
            first = False
        yield b"\n]\n"

    async def site_reports(self, tenant: Tenant) -> AsyncIterator[bytes]:
        """Every image's PDF review report in one ZIP archive (a file per image, named after
        its urlId), each written out as soon as it is made."""
        out = _Chunks()
        names: set[str] = set()
        pdf = FORMATS["pdf"]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
            async for url_id in self._url_ids(tenant):
                try:
                    async with self.db.read() as conn:
                        report = await _report(conn, tenant.id, url_id, self.clock.now_ms())
                    if report is None or not report.threads:
                        continue  # as in the site's CSV: images with something to read
                    body = await self._render(tenant, report, pdf)
                    name = _unique(file_name(url_id, pdf.extension), names)
                except TooLarge as exc:
                    # One image too big to report on does not end the others' download.
                    body = f"{url_id}: {exc.reason}\n".encode()
                    name = _unique(file_name(url_id, "txt"), names)
                archive.writestr(zipfile.ZipInfo(name, _zip_time(self.clock.now_ms())), body)
                yield out.take()
        yield out.take()

    async def _url_ids(self, tenant: Tenant) -> AsyncIterator[str]:
        after: str | None = None
        while True:
            async with self.db.read() as conn:
                found = await images.url_ids_after(conn, tenant.id, after, _IMAGES_PER_READ)
            for url_id in found:
                yield url_id
            if len(found) < _IMAGES_PER_READ:
                return
            after = found[-1]

    async def _picture(self, tenant: Tenant, report: ImageReport) -> ReportImage:
        if report.src is None:
            return ReportImage(None, "The server has no address for this image.")
        fetch_limits = self.versions.limits
        try:
            fetched = await self.versions.fetch(report.src,
                                                allowed_origins=tenant.allowed_origins,
                                                limits=fetch_limits.fetch)
            assert fetched.body is not None  # an unconditional GET: never a 304
            return ReportImage(await self.versions.work.run(
                export_pdf.prepare_picture, fetched.body, fetch_limits.max_pixels))
        except Unavailable:
            raise  # the node is busy with images: 503, try again
        except ImageChatError as exc:
            log.info("report of %s of %s without its image: %s (%s)", report.url_id,
                     tenant.id, exc.reason, exc.code)
            why = f"The image could not be fetched ({exc.code}): {exc.reason}"
        if report.version is not None:
            async with self.db.read() as conn:
                thumbnail = await image_versions.thumbnail(conn, tenant.id, report.url_id,
                                                           report.version)
            if thumbnail is not None:
                return ReportImage(
                    await self.versions.work.run(export_pdf.prepare_picture, thumbnail,
                                                 fetch_limits.max_pixels),
                    f"{why} Shown instead: the thumbnail the server keeps of version "
                    f"{report.version}.")
        return ReportImage(None, why)


class _Chunks(io.RawIOBase):
    """What zipfile writes, kept until taken: the archive streams out as it grows. Not
    seekable, so zipfile counts the position itself and never goes back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        taken, self._parts = b"".join(self._parts), []
        return taken


def _unique(name: str, taken: set[str]) -> str:
    """Two urlIds may clean to one file name: the second gets a number."""
    stem, dot, extension = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{extension}"
    taken.add(candidate)
    return candidate


def _zip_time(now_ms: int) -> tuple[int, int, int, int, int, int]:
    made = datetime.fromtimestamp(now_ms / 1000, UTC)
    return (max(made.year, 1980), made.month, made.day, made.hour, made.minute, made.second)


async def _report(conn: Connection, tenant_id: str, url_id: str, now_ms: int
                  ) -> ImageReport | None:
    if await images.get(conn, tenant_id, url_id) is None:
        return None
    listed = await conversations.list_for_image(conn, tenant_id, url_id)
    shown, _, placed = await positions.place_all(conn, tenant_id, url_id, listed, None)
    found = await comment_rows.for_image(conn, tenant_id, url_id, MAX_EXPORT_COMMENTS + 1)
    if len(found) > MAX_EXPORT_COMMENTS:
        raise TooLarge(f"This image has more than {MAX_EXPORT_COMMENTS:,} comments, more "
                       "than one export reads.", "export-too-large")
    counts = await reactions.counts(conn, tenant_id, [c.id for c in found])
    by_thread: dict[str, list[Comment]] = {p.conversation.window_url_id: [] for p in placed}
    for comment in found:
        if comment.url_id in by_thread:
            by_thread[comment.url_id].append(comment)
    threads = []
    for number, place in enumerate(placed, start=1):
        thread = by_thread[place.conversation.window_url_id]
        threads.append(ReportThread(number=number, place=place, comments=thread,
                                    reactions={c.id: counts[c.id] for c in thread
                                               if c.id in counts}))
    src = None
    if shown is not None:
        version = await image_versions.get(conn, tenant_id, url_id, shown)
        src = version.src if version is not None else None
    if src is None:
        src = next((a for c in listed if (a := image_address(c.src, c.page_url))), None)
    return ImageReport(tenant_id=tenant_id, url_id=url_id, version=shown, src=src,
                       threads=threads, made_at_ms=now_ms)


__all__ = ["FORMATS", "ExportFile", "ExportFormat", "ImageExportService", "ImageReport",
           "ReportImage", "ReportThread", "file_name", "require_format"]
