from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagechat.cli import app

runner = CliRunner()


@pytest.fixture
def db_args(tmp_path: Path) -> list[str]:
    return ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"]


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
