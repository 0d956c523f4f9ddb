"""What the tenant dashboard shows: usage over time, the images and their conversations,
the pages and their comments.

Times are UTC: a day bucket runs from 00:00 to 24:00 UTC, whatever the viewer's zone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import urljoin, urlsplit

from imagechat.domain import rules
from imagechat.domain.clock import Clock
from imagechat.domain.errors import BadInput, NotFound
from imagechat.domain.models import Comment, Conversation, ImageSummary, Tenant, UsageBucket
from imagechat.services.pages import PageState
from imagechat.store import channels, conversations, image_versions, images, usage
from imagechat.store import comments as comment_rows
from imagechat.store import pages as page_rows
from imagechat.store.database import Connection, Database

Bucket = Literal["hour", "day"]
HOUR_MS = usage.HOUR_MS
DAY_MS = 24 * HOUR_MS
# The default range: this many days, ending today.
DEFAULT_DAYS = 7
# Longest ranges, so a chart stays readable and a page cheap: 31 days of hours is 744
# bars, about 13 months of days is 400.
MAX_HOURLY_DAYS = 31
MAX_DAILY_DAYS = 400
# Rows per page of the images and pages lists.
PER_PAGE = 25
# Comments read for one image's or page's view; the widget shows every thread in full.
MAX_VIEW_COMMENTS = 2000

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Metric:
    """One usage figure: its UsagePoint field, its name in the API and CSV, and how hours
    combine into days (counters add up; a peak is the largest of the hours)."""

    field: str
    wire_name: str
    label: str
    combine: Literal["sum", "max"]


METRICS = (
    Metric("pubsub_message_count", "pubSubMessageCount", "Live messages sent", "sum"),
    Metric("pubsub_bandwidth", "pubSubBandwidth", "Live bandwidth", "sum"),
    Metric("conversation_create_count", "conversationCreateCount", "Conversations created",
           "sum"),
    Metric("comment_create_count", "commentCreateCount", "Comments posted", "sum"),
    Metric("peak_viewers", "peakViewers", "Peak concurrent viewers", "max"),
)


@dataclass(frozen=True, slots=True)
class UsageRange:
    first_day: date
    last_day: date
    bucket: Bucket

    @property
    def start_ms(self) -> int:
        return _day_ms(self.first_day)

    @property
    def end_ms(self) -> int:
        """Exclusive: midnight after the last day."""
        return _day_ms(self.last_day) + DAY_MS

    @property
    def bucket_ms(self) -> int:
        return HOUR_MS if self.bucket == "hour" else DAY_MS


@dataclass(frozen=True, slots=True)
class UsagePoint:
    """The usage of one bucket (an hour or a day) starting at `start_ms`."""

    start_ms: int
    pubsub_message_count: int = 0
    pubsub_bandwidth: int = 0
    conversation_create_count: int = 0
    comment_create_count: int = 0
    peak_viewers: int = 0

    def value(self, metric: Metric) -> int:
        number: int = getattr(self, metric.field)
        return number


def _day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"`{field}` must be a date like 2024-05-31.", "invalid-date") from None


def parse_range(
    raw_from: str | None, raw_to: str | None, raw_bucket: str | None, now_ms: int
) -> UsageRange:
    """The range a person asked for; by default the last 7 days (today included), by day."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    last = _parse_day(raw_to, "to") if raw_to else today
    first = (_parse_day(raw_from, "from") if raw_from
             else last - timedelta(days=DEFAULT_DAYS - 1))
    if raw_bucket not in (None, "", "hour", "day"):
        raise BadInput("`bucket` is `hour` or `day`.", "invalid-bucket")
    bucket: Bucket = "hour" if raw_bucket == "hour" else "day"
    if last < first:
        raise BadInput("The end date is before the start date.", "invalid-date")
    days = (last - first).days + 1
    limit = MAX_HOURLY_DAYS if bucket == "hour" else MAX_DAILY_DAYS
    if days > limit:
        unit = "hours" if bucket == "hour" else "days"
        raise BadInput(f"Show at most {limit} days by {unit}; pick a shorter range"
                       + (" or show days." if bucket == "hour" else "."), "range-too-long")
    return UsageRange(first_day=first, last_day=last, bucket=bucket)


def usage_points(stored: list[UsageBucket], span: UsageRange) -> list[UsagePoint]:
    """One point per bucket of the range, oldest first; buckets without data are zero."""
    step = span.bucket_ms
    totals: dict[int, dict[str, int]] = {
        start: {} for start in range(span.start_ms, span.end_ms, step)
    }
    for hour in stored:
        start = span.start_ms + (hour.hour - span.start_ms) // step * step
        values = totals.get(start)
        if values is None:
            continue  # outside the range
        for metric in METRICS:
            number = getattr(hour, metric.field)
            before = values.get(metric.field, 0)
            values[metric.field] = (before + number if metric.combine == "sum"
                                    else max(before, number))
    return [UsagePoint(start_ms=start, **values) for start, values in totals.items()]


def usage_csv(points: list[UsagePoint], bucket: Bucket) -> str:
    """The figures as CSV: one row per bucket, start time in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([bucket + "Start", *(m.wire_name for m in METRICS)])
    for point in points:
        start = datetime.fromtimestamp(point.start_ms / 1000, tz=UTC)
        writer.writerow([start.strftime("%Y-%m-%dT%H:%MZ"),
                         *(point.value(m) for m in METRICS)])
    return out.getvalue()


def usage_totals(points: list[UsagePoint]) -> dict[str, int]:
    """Per metric over the range: the sum of counters, the largest peak."""
    found: dict[str, int] = {}
    for metric in METRICS:
        values = [p.value(metric) for p in points] or [0]
        found[metric.field] = sum(values) if metric.combine == "sum" else max(values)
    return found


def image_address(src: str | None, page_url: str | None) -> str | None:
    """The image's absolute http(s) address, or None when there is none to show.

    The widget reports the `src` as the page had it; a relative one is resolved against
    the page it was seen on. Anything but http(s) is not shown.
    """
    if not src:
        return None
    return web_address(urljoin(page_url, src) if page_url else src)


def web_address(url: str | None) -> str | None:
    """The address if it is an http(s) one, to link to; None for anything else."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def author_of(comment: Comment) -> tuple[str, str] | None:
    """Who a ban of the comment's author names: ("user"|"anon", id); None for the backend's."""
    if comment.user_id:
        return "user", comment.user_id
    if comment.anon_user_id:
        return "anon", comment.anon_user_id
    return None


@dataclass(frozen=True, slots=True)
class Listing(Generic[Row]):
    """One page of a list (images, pages) and where it stands in the whole."""

    rows: list[Row]
    total: int
    page: int
    per_page: int
    newest_first: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class Thread:
    conversation: Conversation
    comments: list[Comment]

    @property
    def authors(self) -> list[tuple[str, str, str]]:
        """Distinct authors of the thread: (kind "user"|"anon", id, name), first seen first."""
        seen: dict[tuple[str, str], str] = {}
        for comment in self.comments:
            author = author_of(comment)
            if author is not None:
                seen.setdefault(author, comment.commenter_name)
        return [(kind, ident, name) for (kind, ident), name in seen.items()]


@dataclass(frozen=True, slots=True)
class ImageDetail:
    image: ImageSummary
    threads: list[Thread]
    # False when the image has more comments than one page reads.
    complete: bool
    # Where the latest version was read from, when it has an address (not an upload).
    latest_src: str | None = None

    @property
    def address(self) -> str | None:
        """The latest version's address, so that the widget shows what visitors now see
        (and places the conversations on it); else the first one a conversation had."""
        latest = image_address(self.latest_src, self.image.page_url)
        if latest:
            return latest
        for thread in self.threads:
            found = image_address(thread.conversation.src, thread.conversation.page_url)
            if found:
                return found
        return image_address(self.image.src, self.image.page_url)


@dataclass(frozen=True, slots=True)
class PageDetail:
    state: PageState
    # Oldest first, at most MAX_VIEW_COMMENTS.
    comments: list[Comment]
    # False when the page has more comments than one view reads.
    complete: bool


@dataclass(frozen=True, slots=True)
class LostConversation:
    """A conversation carry-over could not place on the latest version of its image."""

    conversation: Conversation
    version: int
    # Where it waits: its place on the version before.
    x: float
    y: float


# Conversations listed on the "needs review" page at most (the oldest images first).
MAX_REVIEW = 200


class DashboardService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def usage(self, tenant: Tenant, span: UsageRange) -> list[UsagePoint]:
        async with self.db.read() as conn:
            stored = await usage.between(conn, tenant.id, span.start_ms, span.end_ms - 1)
        return usage_points(stored, span)

    async def images(
        self, tenant: Tenant, *, page: int = 1, newest_first: bool = True,
        per_page: int = PER_PAGE,
    ) -> Listing[ImageSummary]:
        page = max(1, page)
        async with self.db.read() as conn:
            total = await images.count(conn, tenant.id)
            found = await images.page(conn, tenant.id, limit=per_page,
                                      offset=(page - 1) * per_page, newest_first=newest_first)
        return Listing(rows=found, total=total, page=page, per_page=per_page,
                       newest_first=newest_first)

    async def image(self, tenant: Tenant, raw_url_id: Any) -> ImageDetail:
        url_id = rules.clean_url_id(raw_url_id)
        async with self.db.read() as conn:
            summary = await images.get(conn, tenant.id, url_id)
            if summary is None:
                raise NotFound("This site has no image with that urlId.", "image-not-found")
            listed = await conversations.list_for_image(conn, tenant.id, url_id)
            found = await comment_rows.for_image(conn, tenant.id, url_id,
                                                 MAX_VIEW_COMMENTS + 1)
            latest = await image_versions.latest(conn, tenant.id, url_id)
        by_thread: dict[str, list[Comment]] = {c.window_url_id: [] for c in listed}
        for comment in found[:MAX_VIEW_COMMENTS]:
            by_thread.setdefault(comment.url_id, []).append(comment)
        threads = [Thread(conversation=c, comments=by_thread[c.window_url_id]) for c in listed]
        return ImageDetail(image=summary, threads=threads,
                           complete=len(found) <= MAX_VIEW_COMMENTS,
                           latest_src=latest.src if latest else None)

    async def needs_review(self, tenant: Tenant) -> list[LostConversation]:
        async with self.db.read() as conn:
            found = await image_versions.lost_at_latest(conn, tenant.id, MAX_REVIEW)
            listed = [await conversations.get_conversation(conn, tenant.id, p.chat_id)
                     for _, p in found]
        return [LostConversation(conversation=c, version=p.version, x=p.x, y=p.y)
                for c, (_, p) in zip(listed, found, strict=True) if c is not None]

    async def pages(
        self, tenant: Tenant, *, page: int = 1, newest_first: bool = True,
        per_page: int = PER_PAGE,
    ) -> Listing[PageState]:
        """The pages with comments that are not a conversation's thread, by last activity."""
        page = max(1, page)
        async with self.db.read() as conn:
            total = await page_rows.count_standalone(conn, tenant.id)
            found = await page_rows.standalone_page(
                conn, tenant.id, limit=per_page, offset=(page - 1) * per_page,
                newest_first=newest_first)
            locked = await channels.locked_among(conn, tenant.id, [p.url_id for p in found])
        return Listing(rows=[PageState(page=p, closed=p.url_id in locked) for p in found],
                       total=total, page=page, per_page=per_page, newest_first=newest_first)

    async def page_state(self, tenant: Tenant, raw_url_id: Any) -> PageState:
        async with self.db.read() as conn:
            return await _page_state(conn, tenant.id, rules.clean_url_id(raw_url_id))

    async def page(self, tenant: Tenant, raw_url_id: Any) -> PageDetail:
        url_id = rules.clean_url_id(raw_url_id)
        async with self.db.read() as conn:
            state = await _page_state(conn, tenant.id, url_id)
            found = await comment_rows.page_for_url_id(conn, tenant.id, url_id, offset=0,
                                                       limit=MAX_VIEW_COMMENTS + 1)
        return PageDetail(state=state, comments=found[:MAX_VIEW_COMMENTS],
                          complete=len(found) <= MAX_VIEW_COMMENTS)


async def _page_state(conn: Connection, tenant_id: str, url_id: str) -> PageState:
    # A conversation's thread is no page here: its image's view shows it.
    found = await page_rows.by_url_id(conn, tenant_id, url_id)
    if found is None or await conversations.by_window_url_id(conn, tenant_id, url_id):
        raise NotFound("This site has no page with that urlId.", "page-not-found")
    locked = await channels.locked_among(conn, tenant_id, [url_id])
    return PageState(page=found, closed=url_id in locked)
