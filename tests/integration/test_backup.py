"""`imagechat backup`: a consistent SQLite copy while a writer keeps committing (WAL mode),
and pg_dump on PostgreSQL, restored with pg_restore."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagechat.cli import app as cli
from tests.archive_data import fill
from tests.conftest import _empty_postgres
from tests.integration.archive_helpers import export, new_pg_database  # noqa: F401 (fixture)

runner = CliRunner()
# The writer stops by itself after this many transactions, whatever happens to the test.
MAX_WRITES = 50_000


def _writer(path: Path, stop: threading.Event, written: list[int]) -> None:
    """Commit pairs of bans, one pair per transaction, until told to stop: a copy that is
    consistent holds whole pairs only."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        for n in range(MAX_WRITES):
            if stop.is_set():
                return
            conn.execute("BEGIN IMMEDIATE")
            for half in ("x", "y"):
                conn.execute("INSERT INTO bans (tenant_id, subject, reason, created_by, "
                             "created_at) VALUES ('site', ?, '', 'test', 0)", (f"a:{n}-{half}",))
            conn.execute("COMMIT")
            written[0] = n + 1
    finally:
        conn.close()


def test_sqlite_backup_is_consistent_while_a_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    url = f"sqlite+aiosqlite:///{path}"
    assert runner.invoke(cli, ["migrate", "--database-url", url]).exit_code == 0
    assert runner.invoke(cli, ["tenant", "create", "Site", "--id", "site",
                               "--database-url", url]).exit_code == 0
    stop, written = threading.Event(), [0]
    writer = threading.Thread(target=_writer, args=(path, stop, written), daemon=True)
    writer.start()
    try:
        for _ in range(500):  # until it has committed some pairs (at most ~5 s)
            if written[0] >= 50:
                break
            threading.Event().wait(0.01)
        copy = tmp_path / "copy.db"
        result = runner.invoke(cli, ["backup", str(copy), "--database-url", url])
        assert result.exit_code == 0, result.output
        assert "a consistent copy" in result.output
        during = written[0]
    finally:
        stop.set()
        writer.join(timeout=10)
    assert not writer.is_alive()
    assert during > 0 and written[0] >= during
    # The copy is one file, whole, of one moment: every pair or none of it.
    assert not Path(f"{copy}-wal").exists()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        subjects = {s for (s,) in conn.execute("SELECT subject FROM bans")}
    pairs = {s[2:].rsplit("-", 1)[0] for s in subjects}
    assert subjects == {f"a:{n}-{half}" for n in pairs for half in ("x", "y")}
    assert 0 < len(pairs) <= written[0]
    # It is a working ImageChat database.
    listed = runner.invoke(cli, ["tenant", "list", "--database-url",
                                 f"sqlite+aiosqlite:///{copy}"])
    assert listed.exit_code == 0 and "site" in listed.output

    again = runner.invoke(cli, ["backup", str(copy), "--database-url", url])
    assert again.exit_code == 1
    assert "exists: a backup never overwrites a file" in again.output
    missing = runner.invoke(cli, ["backup", str(tmp_path / "c2.db"), "--database-url",
                                  f"sqlite+aiosqlite:///{tmp_path / 'nothing.db'}"])
    assert missing.exit_code == 1
    assert "there is no SQLite file" in missing.output


@pytest.mark.postgres
def test_postgres_backup_runs_pg_dump_and_restores(
    tmp_path: Path, pg_database: str, new_pg_database: str  # noqa: F811
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI"):
            raise RuntimeError("pg_dump and pg_restore are required under CI")
        pytest.skip("pg_dump is not installed")
    asyncio.run(_empty_postgres(pg_database))
    assert runner.invoke(cli, ["migrate", "--database-url", pg_database]).exit_code == 0
    asyncio.run(fill(pg_database, "site-a", 10))
    dump = tmp_path / "db.dump"
    result = runner.invoke(cli, ["backup", str(dump), "--database-url", pg_database])
    assert result.exit_code == 0, result.output
    assert "pg_restore" in result.output
    target = new_pg_database.replace("+asyncpg", "")
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={target}", str(dump)],
                   check=True, capture_output=True, timeout=120)
    assert export(new_pg_database, tmp_path / "restored.jsonl", "--include-secrets") == \
        export(pg_database, tmp_path / "source.jsonl", "--include-secrets")
