"""`imagechat import`: an archive (services/archive_format.py) back into a database, empty
(the schema is created first) or in use.

Rows keep their ids, threads, dates and authors. A row whose primary key is stored already
is left as it is, never overwritten, which is what makes a second import of the same file
change nothing. Lines are checked one by one: a bad line (not JSON, an unknown type, a
missing or ill-typed field, a parent that is neither earlier in the archive nor stored, a
clash with a stored row) is reported with its number and reason, and the others still load.

Channels keep their `seq` and get a new `epoch`: the event log is not in the archive, so a
client resuming from before the import is told to reload rather than resuming into a
history that is not there (docs/protocol.md, "Resume"). A channel that was stored already
gets a new epoch too when the import added anything to its tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from imagechat.domain.errors import BadInput
from imagechat.domain.ids import new_secret
from imagechat.services.archive_format import (
    ArchiveRefused,
    Header,
    Record,
    parse_record,
    read_header,
)
from imagechat.store import archive
from imagechat.store.database import Database
from imagechat.store.migrate import SchemaNotReady, known_revisions, schema_state, upgrade
from imagechat.store.tables import comments

# Lines written per transaction: long enough to be fast, short enough that a running server
# sharing an SQLite file is never kept waiting for long.
BATCH_ROWS = 500
# Rows kept back for what they point to, to try again at the end of the file; past this,
# they are bad lines at once (memory stays bounded on a badly broken archive).
MAX_WAITING = 50_000

Progress = Callable[[int, int], None]


@dataclass
class ArchiveReport:
    header: Header | None = None
    loaded: dict[str, int] = field(default_factory=dict)
    already_there: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    # Rows the archive had no secret for, and the new one each got (shown once, as
    # `tenant create` and `webhook add` show theirs): ("tenant demo", secret).
    new_secrets: list[tuple[str, str]] = field(default_factory=list)
    schema_created: bool = False


@dataclass
class _Run:
    report: ArchiveReport
    # Rows met before what they point to; tried again at the end of the file.
    deferred: list[tuple[int, Record]] = field(default_factory=list)
    # Channels stored before the import, and tenants the import added rows to.
    stored_channels: list[tuple[str, str, int]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)


class ArchiveImport:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, lines: Iterable[str], progress: Progress | None = None) -> ArchiveReport:
        """Load the archive's lines (an open file streams: memory holds one batch)."""
        numbered = ((n, line) for n, line in enumerate(lines, start=1) if line.strip())
        first = next(numbered, None)
        if first is None:
            raise ArchiveRefused("the file is empty: not an ImageChat archive")
        run = _Run(ArchiveReport(header=read_header(first[1], known_revisions())))
        run.report.schema_created = await self._schema()
        counts = run.report.header.counts if run.report.header else {}
        total = sum(v for v in counts.values() if isinstance(v, int))
        batch: list[tuple[int, Record]] = []
        done = 0
        for number, line in numbered:
            try:
                batch.append((number, parse_record(line)))
            except BadInput as exc:
                run.report.bad.append((number, exc.reason))
            if len(batch) >= BATCH_ROWS:
                done += await self._write(run, batch)
                batch = []
                if progress is not None:
                    progress(done, total)
        done += await self._write(run, batch)
        await self._retry_deferred(run)
        await self._restart_channels(run)
        if progress is not None:
            progress(done, total)
        run.report.bad.sort()
        return run.report

    async def _schema(self) -> bool:
        """Create the schema in an empty database; refuse one that is not current."""
        state = await schema_state(self.db.writer)
        if state.empty:
            await upgrade(self.db.writer, self.db.url)
            return True
        problem = state.problem()
        if problem is not None:
            raise SchemaNotReady(problem)
        return False

    async def _write(self, run: _Run, batch: list[tuple[int, Record]]) -> int:
        if not batch:
            return 0
        async with self.db.write_in_thread() as conn:
            try:
                # Fast: the whole batch in one savepoint. A refused row undoes it, and the
                # batch goes again row by row, each in its own savepoint, to name the bad one.
                async with conn.begin_nested():
                    outcomes = await _insert_batch(conn, [record for _, record in batch])
            except IntegrityError:
                outcomes = [await _insert(conn, record) for _, record in batch]
        for (number, record), outcome in zip(batch, outcomes, strict=True):
            if outcome.status == _WAIT and len(run.deferred) < MAX_WAITING:
                run.deferred.append((number, record))
            else:
                _count(run, number, record, outcome)
        return len(batch)

    async def _retry_deferred(self, run: _Run) -> None:
        # A row may come before what it points to (a reply before its parent, dates edited
        # by hand, another tool's archive; then the reply's votes): try again, in file
        # order, while any of them gets in.
        while run.deferred:
            waiting, run.deferred = run.deferred, []
            still: list[tuple[int, Record, _Outcome]] = []
            async with self.db.write_in_thread() as conn:
                for number, record in waiting:
                    outcome = await _insert(conn, record)
                    if outcome.status == _WAIT:
                        still.append((number, record, outcome))
                    else:
                        _count(run, number, record, outcome)
            if len(still) == len(waiting):
                for number, _, outcome in still:
                    run.report.bad.append((number, outcome.reason))
                return
            run.deferred = [(number, record) for number, record, _ in still]

    async def _restart_channels(self, run: _Run) -> None:
        restart = [c for c in run.stored_channels if c[0] in run.touched]
        for start in range(0, len(restart), BATCH_ROWS):
            async with self.db.write_in_thread() as conn:
                for tenant_id, url_id, seq in restart[start : start + BATCH_ROWS]:
                    await archive.restart_channel(conn, tenant_id, url_id, seq)


_NEW, _THERE, _WAIT, _BAD = "new", "there", "wait", "bad"


@dataclass(frozen=True)
class _Outcome:
    status: str
    values: dict[str, Any]
    reason: str = ""


def _tenant_of(record: Record) -> str:
    return str(record.values["id" if record.kind.name == "tenant" else "tenant_id"])


async def _insert(conn: AsyncConnection, record: Record) -> _Outcome:
    """Insert one record in its own savepoint, or say why not."""
    kind, values = record.kind, dict(record.values)
    tenant_id = _tenant_of(record)
    parent = values.get("parent_id") if kind.name == "comment" else None
    if parent is not None and not await archive.exists(conn, comments, id=parent,
                                                       tenant_id=tenant_id):
        return _Outcome(_WAIT, values, _orphan(parent))
    for name in record.missing_secrets:
        values[name] = new_secret()
    if kind.name == "channel":
        values["epoch"] = archive.new_epoch()
    try:
        async with conn.begin_nested():
            inserted = await archive.insert_absent(conn, kind, values)
    except IntegrityError as exc:
        reason, orphan = await _why(conn, kind, values, exc)
        return _Outcome(_WAIT if orphan else _BAD, values, reason)
    if inserted:
        return _Outcome(_NEW, values)
    if await archive.owner(conn, kind, values) != tenant_id:
        # Ids are random, so this is a forged or mixed-up archive: the row stays with its
        # tenant, and nothing of it counts as restored.
        return _Outcome(_BAD, values, f"{kind.name}: its id is another tenant's")
    return _Outcome(_THERE, values)


async def _insert_batch(conn: AsyncConnection, records: list[Record]) -> list[_Outcome]:
    """What `_insert` does for each record, with one INSERT per run of records of one type;
    a refused row raises, for the caller to undo the batch."""
    outcomes: list[_Outcome] = []
    start = 0
    while start < len(records):
        end = start
        while end < len(records) and records[end].kind is records[start].kind:
            end += 1
        outcomes += await _insert_run(conn, records[start:end])
        start = end
    return outcomes


async def _insert_run(conn: AsyncConnection, records: list[Record]) -> list[_Outcome]:
    kind = records[0].kind
    waiting: set[int] = set()
    if kind.name == "comment":
        # A reply needs its parent stored, or earlier in this run (the same tenant's).
        parents = {r.values["parent_id"] for r in records if r.values["parent_id"]}
        known = await archive.stored_comments(conn, parents) if parents else set()
        for n, record in enumerate(records):
            parent, tenant_id = record.values["parent_id"], _tenant_of(record)
            if parent is not None and (parent, tenant_id) not in known:
                waiting.add(n)
            else:
                known.add((record.values["id"], tenant_id))
    rows: list[dict[str, Any]] = []
    for record in records:
        values = dict(record.values)
        for name in record.missing_secrets:
            values[name] = new_secret()
        if kind.name == "channel":
            values["epoch"] = archive.new_epoch()
        rows.append(values)
    fresh = [row for n, row in enumerate(rows) if n not in waiting]
    inserted = await archive.insert_many_absent(conn, kind, fresh) if fresh else set()
    keys = [archive.key_of(kind, row) for row in rows]
    stored = [key for n, key in enumerate(keys) if n not in waiting and key not in inserted]
    owners = await archive.owners(conn, kind, stored) if stored else {}
    outcomes = []
    for n, (record, row, key) in enumerate(zip(records, rows, keys, strict=True)):
        if n in waiting:
            outcomes.append(_Outcome(_WAIT, row, _orphan(row["parent_id"])))
        elif key in inserted:
            # A second record with the same key in the run found this one stored.
            inserted.discard(key)
            owners[key] = _tenant_of(record)
            outcomes.append(_Outcome(_NEW, row))
        elif owners.get(key) != _tenant_of(record):
            outcomes.append(_Outcome(_BAD, row, f"{kind.name}: its id is another tenant's"))
        else:
            outcomes.append(_Outcome(_THERE, row))
    return outcomes


def _count(run: _Run, number: int, record: Record, outcome: _Outcome) -> None:
    kind, values, tenant_id = record.kind, outcome.values, _tenant_of(record)
    if outcome.status == _BAD:
        run.report.bad.append((number, outcome.reason))
    elif outcome.status == _THERE:
        run.report.already_there += 1
        if kind.name == "channel":
            run.stored_channels.append((tenant_id, values["url_id"], values["seq"]))
    else:
        run.report.loaded[kind.name] = run.report.loaded.get(kind.name, 0) + 1
        run.touched.add(tenant_id)
        key = "/".join(str(values[c.name]) for c in archive.primary_key(kind))
        for name in record.missing_secrets:
            run.report.new_secrets.append((f"{kind.name} {key}", values[name]))


def _orphan(parent: str) -> str:
    return f"comment: its parent comment {parent!r} is neither in the archive nor stored"


async def _why(conn: AsyncConnection, kind: archive.Kind, values: dict[str, Any],
               exc: IntegrityError) -> tuple[str, bool]:
    """A readable reason for a refused row, and whether it is a missing parent (which may
    still come later in the file) rather than a clash with a stored row."""
    for fk in kind.table.foreign_keys:
        value = values.get(fk.parent.name)
        target = fk.column
        if value is not None and not await archive.exists(conn, target.table,
                                                          **{target.name: value}):
            parent = next((k.name for k in archive.KINDS if k.table is target.table),
                          target.table.name)
            return (f"{kind.name}: its {parent} {value!r} is neither in the archive nor "
                    "stored"), True
    detail = str(exc.orig).splitlines()[0] if exc.orig is not None else "a unique key"
    return f"{kind.name}: clashes with a stored row ({detail})", False
