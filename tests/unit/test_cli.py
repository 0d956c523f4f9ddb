from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagechat import __version__
from imagechat.cli import app
from imagechat.store.migrate import head_revision

runner = CliRunner()


@pytest.fixture
def db_args(tmp_path: Path) -> list[str]:
    """A migrated database: the commands below refuse any other."""
    args = ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"]
    assert runner.invoke(app, ["migrate", *args]).exit_code == 0
    return args


def _secret(output: str) -> str:
    match = re.search(r"API secret: (\S+)", output)
    assert match, output
    return match.group(1)


def test_tenant_create_prints_id_and_secret(db_args: list[str]) -> None:
    result = runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme",
                                 "--origin", "https://acme.example", *db_args])
    assert result.exit_code == 0, result.output
    assert "tenant id:  acme" in result.output
    assert len(_secret(result.output)) >= 32


def test_tenant_list_shows_tenants_but_never_secrets(db_args: list[str]) -> None:
    created = runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme",
                                  "--origin", "https://acme.example", *db_args])
    secret = _secret(created.output)
    listed = runner.invoke(app, ["tenant", "list", *db_args])
    assert listed.exit_code == 0, listed.output
    assert "acme" in listed.output
    assert "https://acme.example" in listed.output
    assert secret not in listed.output


def test_duplicate_tenant_id_is_a_clear_error(db_args: list[str]) -> None:
    runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme", *db_args])
    again = runner.invoke(app, ["tenant", "create", "Other", "--id", "acme", *db_args])
    assert again.exit_code == 1
    assert "exists already" in again.output


@pytest.mark.parametrize("tenant_id", ["acme\n", "ac me", "a" * 65])
def test_invalid_tenant_id_is_refused(db_args: list[str], tenant_id: str) -> None:
    """Also a trailing newline, which a `$`-anchored pattern used to let through."""
    result = runner.invoke(app, ["tenant", "create", "Acme", "--id", tenant_id, *db_args])
    assert result.exit_code == 1
    assert "A tenant id has 1-64 letters" in result.output


def test_invalid_origin_is_refused(db_args: list[str]) -> None:
    result = runner.invoke(app, ["tenant", "create", "Acme", "--origin", "not an origin",
                                 *db_args])
    assert result.exit_code == 1
    assert "is not an origin" in result.output


def test_rotate_secret_replaces_it(db_args: list[str]) -> None:
    first = _secret(runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme",
                                        *db_args]).output)
    rotated = runner.invoke(app, ["tenant", "rotate-secret", "acme", *db_args])
    assert rotated.exit_code == 0, rotated.output
    assert _secret(rotated.output) != first


def test_rotate_secret_of_unknown_tenant_fails(db_args: list[str]) -> None:
    result = runner.invoke(app, ["tenant", "rotate-secret", "nobody", *db_args])
    assert result.exit_code == 1
    assert "No site" in result.output


def test_migrate_is_idempotent(db_args: list[str]) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["migrate", *db_args])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_tenant_origins_replaces_the_list_and_any_clears_it(db_args: list[str]) -> None:
    runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme", *db_args])
    result = runner.invoke(app, ["tenant", "origins", "acme", "--origin", "https://A.example",
                                 "--origin", "https://b.example/", *db_args])
    assert result.exit_code == 0, result.output
    assert "https://a.example, https://b.example" in result.output
    listed = runner.invoke(app, ["tenant", "list", *db_args])
    assert "https://a.example" in listed.output
    cleared = runner.invoke(app, ["tenant", "origins", "acme", "--any", *db_args])
    assert cleared.exit_code == 0 and "allowed origins: any" in cleared.output
    assert "https://a.example" not in runner.invoke(app, ["tenant", "list", *db_args]).output


def test_tenant_origins_needs_a_choice_and_a_known_tenant(db_args: list[str]) -> None:
    runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme", *db_args])
    assert runner.invoke(app, ["tenant", "origins", "acme", *db_args]).exit_code == 1
    bad = runner.invoke(app, ["tenant", "origins", "acme", "--origin", "ftp://x", *db_args])
    assert bad.exit_code == 1 and "is not an origin" in bad.output
    unknown = runner.invoke(app, ["tenant", "origins", "nobody", "--any", *db_args])
    assert unknown.exit_code == 1 and "No site" in unknown.output


def test_tenant_update_changes_only_what_is_given(db_args: list[str]) -> None:
    runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme", *db_args])
    result = runner.invoke(app, ["tenant", "update", "acme", "--no-anonymous",
                                 "--visitors-resolve", *db_args])
    assert result.exit_code == 0, result.output
    assert ("name 'Acme', anonymous no, simple SSO no, visitors resolve yes, emails yes"
            in result.output)
    again = runner.invoke(app, ["tenant", "update", "acme", "--name", "Acme Design",
                                "--no-emails", *db_args])
    assert ("name 'Acme Design', anonymous no, simple SSO no, visitors resolve yes, emails no"
            in again.output)
    missing = runner.invoke(app, ["tenant", "update", "nobody", "--anonymous", *db_args])
    assert missing.exit_code == 1 and "No site with tenant id 'nobody'" in missing.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"imagechat {__version__}"


def test_commands_other_than_migrate_leave_the_schema_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    url = ["--database-url", f"sqlite:///{path}"]
    for command in (["tenant", "list"], ["tenant", "create", "Acme"], ["db", "current"],
                    ["export", str(tmp_path / "all.jsonl")]):
        result = runner.invoke(app, [*command, *url])
        assert "no ImageChat schema yet: run `imagechat migrate`" in result.output, command
        assert result.exit_code == (0 if command[0] == "db" else 2), command
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert runner.invoke(app, ["migrate", *url]).exit_code == 0
    current = runner.invoke(app, ["db", "current", *url])
    assert current.output.strip() == f"{head_revision()} (up to date)"


def test_a_schema_behind_is_refused_with_what_to_run(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = ["--database-url", f"sqlite:///{path}"]
    runner.invoke(app, ["migrate", *url])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0004'")
    result = runner.invoke(app, ["tenant", "list", *url])
    assert result.exit_code == 2
    assert f"at revision 0004, this version needs {head_revision()}: run `imagechat migrate`" \
        in result.output
    # An import too: it creates the schema in an empty database only.
    archive = tmp_path / "a.jsonl"
    archive.write_text(json.dumps({"type": "header", "format": "imagechat-archive",
                                   "version": 1, "schema": head_revision()}) + "\n")
    result = runner.invoke(app, ["import", str(archive), *url])
    assert result.exit_code == 2
    assert "at revision 0004" in result.output


@pytest.mark.parametrize(("url", "said"), [
    ("mysql://db/x", "IMAGECHAT_DATABASE_URL: the scheme 'mysql' is not supported"),
    ("not a url", "IMAGECHAT_DATABASE_URL: 'not a url' is not a database URL"),
    ("postgresql://nobody@127.0.0.1:9/x", "cannot reach the database at "
                                          "postgresql+asyncpg://nobody@127.0.0.1:9/x"),
])
def test_bad_or_unreachable_databases_end_in_one_line_and_a_hint(url: str, said: str) -> None:
    result = runner.invoke(app, ["tenant", "list", "--database-url", url])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and said in lines[0] and lines[1].startswith("hint: "), lines


def test_migrate_sql_prints_what_it_would_run_and_refuses_sqlite(db_args: list[str]) -> None:
    sqlite = runner.invoke(app, ["migrate", "--sql", *db_args])
    assert sqlite.exit_code == 2 and "--sql writes PostgreSQL's statements" in sqlite.output


def test_tenant_list_json_and_plain_lines_keep_ids_whole(db_args: list[str]) -> None:
    long_id = "a-tenant-id-long-enough-to-be-cut-by-a-table-" + "x" * 19
    runner.invoke(app, ["tenant", "create", "A name that is also rather long to print",
                        "--id", long_id, "--origin", "https://acme.example", *db_args])
    listed = json.loads(runner.invoke(app, ["tenant", "list", "--json", *db_args]).output)
    assert listed == [{"id": long_id, "name": "A name that is also rather long to print",
                       "allowAnonymous": True, "allowSimpleSSO": False,
                       "visitorsResolve": False, "allowedOrigins": ["https://acme.example"],
                       "createdAt": listed[0]["createdAt"]}]
    plain = runner.invoke(app, ["tenant", "list", *db_args]).output.splitlines()
    assert plain[1].split("\t")[0] == long_id


def test_tenant_delete_asks_first_and_removes_the_tenant(db_args: list[str]) -> None:
    runner.invoke(app, ["tenant", "create", "Acme", "--id", "acme", *db_args])
    refused = runner.invoke(app, ["tenant", "delete", "acme", *db_args], input="n\n")
    assert refused.exit_code == 1 and "Delete tenant acme (Acme)" in refused.output
    assert "acme" in runner.invoke(app, ["tenant", "list", *db_args]).output
    confirmed = runner.invoke(app, ["tenant", "delete", "acme", *db_args], input="y\n")
    assert confirmed.exit_code == 0
    assert "Deleted tenant acme; rows removed: tenants 1." in confirmed.output
    assert "acme" not in runner.invoke(app, ["tenant", "list", *db_args]).output
    again = runner.invoke(app, ["tenant", "delete", "acme", "--yes", *db_args])
    assert again.exit_code == 1 and "No site with tenant id 'acme'" in again.output
