"""What the archive and backup tests share: the CLI, and a PostgreSQL database of their own."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from imagechat.cli import app as cli
from tests.conftest import _pg_admin, _pg_url_for

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(cli, list(args))


def export(url: str, path: Path, *extra: str) -> bytes:
    result = run("export", str(path), "--database-url", url, *extra)
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def load(url: str, path: Path) -> Result:
    return run("import", str(path), "--database-url", url)


def records(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines()]


@pytest.fixture
def new_pg_database(pg_database: str) -> Iterator[str]:
    """A PostgreSQL database of its own with no schema at all (pg_database: skipped or
    failed like every PostgreSQL test when the server is missing)."""
    name = f"imagechat_archive_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url_for(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_at(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
