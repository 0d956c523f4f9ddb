"""An image's comments as CSV: one row per comment, with its conversation's place.

Written with the csv module (every cell quoted where it must be: commas, quotes, line
breaks), UTF-8 with a byte-order mark so spreadsheet programs read accents and emoji right.
A cell a spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`, a tab or
a carriage return) gets a leading `'`, so a comment like `=HYPERLINK(...)` stays text
(CSV injection). Times are ISO 8601 in UTC; text is plain text, its markup dropped.
In each thread a comment comes before its replies, oldest first at each level.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime

from imagechat.domain.text import plain_text
from imagechat.services.image_report import ImageReport, in_reply_order

COLUMNS = (
    "urlId", "version", "conversation", "conversationId", "threadId", "shape", "x", "y", "w",
    "h", "carry", "resolved", "resolvedBy", "resolvedAt", "commentId", "parentId", "author",
    "userId", "date", "text", "reactions", "votesUp", "votesDown",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff".encode()


def safe_cell(value: str) -> str:
    """A cell as a spreadsheet shows it, never as a formula it runs."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def iso_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def reactions_text(counts: dict[str, int]) -> str:
    return " ".join(f"{emoji} {n}" for emoji, n in sorted(counts.items()))


def _lines(report: ImageReport) -> Iterable[list[str]]:
    for thread in report.threads:
        place, conversation = thread.place, thread.place.conversation
        region = place.region_w is not None and place.region_h is not None
        where = [report.url_id, "" if place.on_version is None else str(place.on_version),
                 str(thread.number), conversation.id, conversation.window_url_id,
                 "rect" if region else "point", _number(place.x), _number(place.y),
                 _number(place.region_w), _number(place.region_h), place.carry,
                 "yes" if conversation.resolved else "no", conversation.resolved_by or "",
                 iso_time(conversation.resolved_at)]
        for _, comment in in_reply_order(thread.comments):
            yield [*where, comment.id, comment.parent_id or "", comment.commenter_name,
                   comment.user_id or "", iso_time(comment.created_at),
                   plain_text(comment.comment_html),
                   reactions_text(thread.reactions.get(comment.id, {})),
                   str(comment.votes_up), str(comment.votes_down)]


def _write(lines: Iterable[Iterable[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for line in lines:
        writer.writerow([safe_cell(cell) for cell in line])
    return out.getvalue().encode()


def header() -> bytes:
    return BOM + _write([COLUMNS])


def rows(report: ImageReport) -> bytes:
    """The report's rows without the header (a site's CSV joins many images)."""
    return _write(_lines(report))


def render(report: ImageReport) -> bytes:
    return header() + rows(report)
