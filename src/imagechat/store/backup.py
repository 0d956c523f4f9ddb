"""`imagechat backup`: a consistent copy of the database while the server keeps running.

SQLite in WAL mode keeps recent commits in the `-wal` file next to the database, so copying
the `.db` file alone (cp, rsync) can give a copy that misses them or is torn mid-write.
`VACUUM INTO` reads the database in one read transaction (one snapshot, WAL included) and
writes a new, compacted, self-contained file; writers go on meanwhile. PostgreSQL has its
own tool for the same: `pg_dump`, which also reads one snapshot.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from imagechat.domain.errors import BadInput, Unavailable

# How long the copy may wait for a writer's lock before giving up (it needs none in WAL
# mode; a database in another journal mode may be briefly locked).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def sqlite_copy(url: str, target: Path) -> int:
    """Copy the SQLite database at `url` to `target` (a new file); returns its size."""
    source = make_url(url).database
    if not source or source == ":memory:" or not Path(source).is_file():
        raise BadInput(f"there is no SQLite file at {source!r}", "backup-source-missing")
    if target.exists():
        raise BadInput(f"{target} exists: a backup never overwrites a file",
                       "backup-target-exists")
    conn = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.Error as exc:
        raise Unavailable(f"the copy failed: {exc}", "backup-failed") from exc
    finally:
        conn.close()
    return target.stat().st_size


@dataclass(frozen=True)
class PgDump:
    """The pg_dump run that backs up a PostgreSQL database: its arguments (no password:
    that goes in the environment, so it never shows in a process list) and environment."""

    args: list[str]
    password: str | None

    def shown(self) -> str:
        return " ".join(self.args)

    def run(self) -> None:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        done = subprocess.run(self.args, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Unavailable(f"pg_dump failed: {done.stderr.strip() or done.returncode}",
                              "backup-failed")


def pg_dump(url: str, target: Path) -> PgDump:
    if target.exists():
        raise BadInput(f"{target} exists: a backup never overwrites a file",
                       "backup-target-exists")
    parsed = make_url(url).set(drivername="postgresql")
    plain = parsed.set(password=None).render_as_string(hide_password=False)
    # Custom format: compressed, and pg_restore can restore all of it or single tables.
    return PgDump(["pg_dump", "--format=custom", "--no-owner", f"--file={target}",
                   f"--dbname={plain}"], parsed.password)


def pg_dump_available() -> bool:
    return shutil.which("pg_dump") is not None
