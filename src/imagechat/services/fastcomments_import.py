"""Loading comments exported from FastComments (its `APIComment` shape, as
`GET /api/v1/comments` answers them page by page) into a tenant.

Threads, parents, vote counts, dates and authors are kept; ids too, which is what makes a
second run of the same file change nothing. A thread whose urlId has the reference widget's
form `{urlId}:{src}:{x}:{y}` becomes a conversation on that image. Rows are checked one by
one: a bad row is reported with its line and reason, and the good ones still load.

Imported comments were never live events, so they are not in the event log. Each channel
that received some gets a new `epoch` instead: a client that resumes from before the import
is told to reload, rather than silently missing them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imagechat.domain import limits, rules
from imagechat.domain.clock import Clock
from imagechat.domain.errors import BadInput, ImageChatError
from imagechat.domain.ids import new_id
from imagechat.domain.models import Comment, Conversation, Tenant
from imagechat.domain.text import plain_name, render_comment_html
from imagechat.domain.threads import parse_window_url_id
from imagechat.services.threads import thread_url_id
from imagechat.store import channels, conversations, pages
from imagechat.store import comments as comment_rows
from imagechat.store.database import Database

# Rows written per transaction: long enough to be fast, short enough that a running server
# sharing an SQLite file is never kept waiting for long.
BATCH_ROWS = 500
# Our ids are 24 characters; the column holds 32.
MAX_IMPORTED_ID_CHARS = 32
_MAX_FOREIGN_NAME_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Row:
    """One item of the file: its line, and the parsed JSON (or why it could not be parsed)."""

    line: int
    value: Any = None
    error: str | None = None


@dataclass(slots=True)
class ImportReport:
    loaded: int = 0
    # Comments whose id the tenant has already (from an earlier run).
    already_there: int = 0
    conversations: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)


def read_rows(text: str) -> Iterator[Row]:
    """Items of a JSON array, or of JSON lines, each with the line it starts on."""
    body = text.lstrip("\ufeff")
    if body.lstrip().startswith("["):
        yield from _array_rows(body)
        return
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield Row(number, json.loads(line))
        except json.JSONDecodeError as exc:
            yield Row(number, error=f"not JSON: {exc.msg}")


def _array_rows(body: str) -> Iterator[Row]:
    decoder = json.JSONDecoder()
    pos = body.index("[") + 1
    while True:
        while pos < len(body) and body[pos] in " \t\r\n,":
            pos += 1
        line = body.count("\n", 0, pos) + 1
        if pos >= len(body):
            yield Row(line, error="the JSON array is not closed")
            return
        if body[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(body, pos)
        except json.JSONDecodeError as exc:
            # Nothing after a broken item can be trusted to start where it seems to.
            yield Row(line, error=f"not JSON: {exc.msg}; the rest of the file was skipped")
            return
        yield Row(line, value)
        pos = end


class FastCommentsImport:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def run(
        self, tenant: Tenant, rows: Iterable[Row],
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Load the rows; `progress(done, total)` hears of every batch written."""
        report = ImportReport()
        parsed: dict[str, tuple[int, Comment, str]] = {}
        for row in rows:
            try:
                comment, title = _comment(tenant.id, row)
            except ImageChatError as exc:
                report.bad.append((row.line, exc.reason))
                continue
            if comment.id in parsed:
                report.bad.append((row.line, f"the id {comment.id!r} is already on line "
                                             f"{parsed[comment.id][0]}"))
                continue
            parsed[comment.id] = (row.line, comment, title)
        async with self.db.read() as conn:
            existing = set()
            ids = list(parsed)
            for start in range(0, len(ids), BATCH_ROWS):
                existing |= await comment_rows.existing_ids(conn, tenant.id,
                                                            ids[start : start + BATCH_ROWS])
            # Replies to comments stored before (by an earlier import, or posted since).
            known_parents: dict[str, str] = {}
            for pid in {c.parent_id for _, c, _ in parsed.values() if c.parent_id} - set(parsed):
                stored = await comment_rows.get_comment(conn, tenant.id, pid)
                if stored is not None:
                    known_parents[pid] = stored.url_id
        fresh = self._check_parents(parsed, existing, known_parents, report)
        report.already_there = len(existing)
        touched: set[str] = set()
        if progress is not None:
            progress(0, len(fresh))
        for start in range(0, len(fresh), BATCH_ROWS):
            batch = fresh[start : start + BATCH_ROWS]
            async with self.db.write_in_thread() as conn:
                for comment, title in batch:
                    await comment_rows.insert_comment(conn, comment)
                    await pages.count_comments(conn, tenant.id, comment.url_id,
                                               self.clock.now_ms(), comments=0, roots=0,
                                               url=comment.url, title=title)
                    touched.add(comment.url_id)
            report.loaded += len(batch)
            if progress is not None:
                progress(report.loaded, len(fresh))
        report.conversations = await self._finish_threads(
            tenant.id, {c.url_id for _, c, _ in parsed.values()}, touched)
        return report

    @staticmethod
    def _check_parents(
        parsed: dict[str, tuple[int, Comment, str]], existing: set[str],
        known_parents: dict[str, str], report: ImportReport,
    ) -> list[tuple[Comment, str]]:
        """Drop replies whose parent is neither in the file nor stored, or in another
        thread; a reply to a dropped reply goes too. Parents come before their replies."""
        thread_of = {**known_parents, **{cid: c.url_id for cid, (_, c, _) in parsed.items()}}
        accepted: dict[str, tuple[Comment, str]] = {}
        pending = {cid: item for cid, item in parsed.items() if cid not in existing}
        while pending:
            progressed = False
            for cid, (line, comment, title) in list(pending.items()):
                parent = comment.parent_id
                if parent is None or parent in known_parents or parent in existing \
                        or parent in accepted:
                    if parent is not None and thread_of.get(parent) != comment.url_id:
                        report.bad.append((line, f"its parent {parent!r} is in another thread"))
                    else:
                        accepted[cid] = (comment, title)
                    del pending[cid]
                    progressed = True
                elif parent not in pending:
                    reason = (f"its parent {parent!r} was not loaded" if parent in parsed
                              else f"its parent {parent!r} is neither in the file nor stored")
                    report.bad.append((line, reason))
                    del pending[cid]
                    progressed = True
            if not progressed:  # a cycle of replies: none of them has a real parent
                for line, _, _ in pending.values():
                    report.bad.append((line, "its parents form a cycle"))
                break
        report.bad.sort()
        return list(accepted.values())

    async def _finish_threads(self, tenant_id: str, threads: set[str], touched: set[str]
                              ) -> int:
        """Recount each thread that received comments, make the missing conversations, and
        renew the epoch of every channel that changed."""
        made = 0
        now = self.clock.now_ms()
        renewed: set[str] = set()
        async with self.db.write_in_thread() as conn:
            for url_id in sorted(threads):
                conversation = await conversations.by_window_url_id(conn, tenant_id, url_id)
                point = parse_window_url_id(url_id)
                if conversation is None and point is not None:
                    thread = await comment_rows.in_thread(conn, tenant_id, url_id)
                    if thread:
                        conversation = _conversation(tenant_id, url_id, point.url_id, point.src,
                                                     point.x, point.y, thread)
                        await conversations.insert_conversation(conn, conversation)
                        made += 1
                        touched.add(url_id)
                if url_id not in touched:
                    continue
                await pages.recount(conn, tenant_id, url_id, now)
                if conversation is not None:
                    count = await comment_rows.count_for_url_id(conn, tenant_id, url_id)
                    await conversations.set_comment_count(conn, tenant_id, conversation.id, count,
                                                          now)
                channel = conversation.url_id if conversation is not None else url_id
                if channel not in renewed:
                    await channels.renew_epoch(conn, tenant_id, channel, now)
                    renewed.add(channel)
        return made


def _conversation(
    tenant_id: str, thread: str, raw_image: str, src: str, x: float, y: float,
    comments: list[Comment],
) -> Conversation:
    first = comments[0]
    return Conversation(
        id=new_id(), tenant_id=tenant_id, url_id=rules.clean_url_id(raw_image),
        window_url_id=thread, page_url=first.url or None, page_title=None, src=src or None,
        x=x, y=y, comment_count=len(comments), resolved=False, user_id=first.user_id,
        anon_user_id=first.anon_user_id, commenter_name=first.commenter_name,
        edit_key_hash=None, created_at=first.created_at, updated_at=first.created_at,
    )


def _comment(tenant_id: str, row: Row) -> tuple[Comment, str]:
    """A stored comment from one row, and its page title; BadInput says what is wrong."""
    if row.error is not None:
        raise BadInput(row.error)
    data = row.value
    if not isinstance(data, dict):
        raise BadInput("not a JSON object")
    raw_id = data.get("id", data.get("_id"))
    comment_id = rules.require_id(raw_id, "id")
    if len(comment_id) > MAX_IMPORTED_ID_CHARS:
        raise BadInput(f"`id` is longer than {MAX_IMPORTED_ID_CHARS} characters")
    text = rules.require_text(data.get("comment"), "comment", limits.MAX_COMMENT_CHARS)
    # A longer name than ours is cut rather than refused: it was accepted where it came from.
    name = plain_name(rules.optional_text(data.get("commenterName"), "commenterName",
                                          _MAX_FOREIGN_NAME_CHARS) or "", limits.MAX_NAME_CHARS)
    up, down = _votes(data)
    created = _date(data.get("date"))
    return Comment(
        id=comment_id, tenant_id=tenant_id, url_id=thread_url_id(data.get("urlId")),
        url=rules.optional_text(data.get("url"), "url", limits.MAX_URL_CHARS) or "",
        parent_id=rules.optional_id(data.get("parentId"), "parentId"),
        commenter_name=name or "Anonymous", comment=text,
        comment_html=render_comment_html(text),
        user_id=rules.optional_id(data.get("userId"), "userId"),
        anon_user_id=rules.optional_id(data.get("anonUserId"), "anonUserId"),
        avatar=rules.optional_text(data.get("avatarSrc"), "avatarSrc", limits.MAX_URL_CHARS),
        verified=data.get("verified") is True, approved=data.get("approved") is not False,
        is_by_admin=data.get("isByAdmin") is True,
        is_by_moderator=data.get("isByModerator") is True,
        votes_up=up, votes_down=down, edit_key_hash=None, created_at=created,
        updated_at=created,
    ), rules.optional_text(data.get("pageTitle"), "pageTitle",
                           limits.MAX_PAGE_TITLE_CHARS) or ""


def _votes(data: dict[str, Any]) -> tuple[int, int]:
    def count(key: str) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BadInput(f"`{key}` must be a whole number, zero or more")
        return value

    up, down = count("votesUp"), count("votesDown")
    if up is None and down is None:
        votes = data.get("votes")
        if isinstance(votes, int) and not isinstance(votes, bool):
            return max(votes, 0), max(-votes, 0)
        return 0, 0
    return up or 0, down or 0


def _date(value: Any) -> int:
    """Epoch milliseconds (the reference's `APIComment.date`) or an ISO 8601 time (its
    public shape)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadInput(f"`date` {value!r} is not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            raise BadInput(f"`date` {value!r} has no time zone")
        return rules.epoch_ms(parsed.timestamp() * 1000, "date")
    if value is None:
        raise BadInput("`date` is required")
    return rules.epoch_ms(value, "date")
