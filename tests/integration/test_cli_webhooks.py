"""`imagechat webhook add|list|remove|test`: the secret printed once, refused targets exit
with status 2, a test event goes to a real receiver process and its outcome is printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagechat.cli import app
from tests.integration.webhook_helpers import new_receiver, running

runner = CliRunner()
# Public, and a literal: nothing is looked up, and nothing is sent to it here.
PUBLIC = "http://93.184.215.14/hook"


@pytest.fixture
def db_args(tmp_path: Path) -> list[str]:
    args = ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"]
    assert runner.invoke(app, ["migrate", *args]).exit_code == 0
    created = runner.invoke(app, ["tenant", "create", "Hooks", "--id", "hooks", *args])
    assert created.exit_code == 0, created.output
    return args


def _added(output: str) -> tuple[str, str]:
    endpoint = re.search(r"endpoint id: (\w+)", output)
    secret = re.search(r"Secret: (\S+)", output)
    assert endpoint and secret, output
    return endpoint.group(1), secret.group(1)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://[::1]/",
                                 "http://169.254.169.254/", "http://10.0.0.1/",
                                 "http://localhost/", "gopher://example.com/"])
def test_a_refused_target_exits_2_with_the_reason(db_args: list[str], url: str) -> None:
    result = runner.invoke(app, ["webhook", "add", "hooks", url, *db_args])
    assert result.exit_code == 2, result.output
    assert "refused:" in result.output
    assert re.search(r"private or local address|Only http", result.output)
    listed = runner.invoke(app, ["webhook", "list", "hooks", *db_args])
    assert "93.184" not in listed.output and url not in listed.output


def test_add_list_remove(db_args: list[str]) -> None:
    result = runner.invoke(app, ["webhook", "add", "hooks", PUBLIC, "--event", "mention",
                                 "--event", "reaction", *db_args])
    assert result.exit_code == 0, result.output
    endpoint, secret = _added(result.output)
    listed = runner.invoke(app, ["webhook", "list", "hooks", *db_args])
    assert listed.exit_code == 0, listed.output
    assert endpoint in listed.output and "mention, reaction" in listed.output
    assert "active" in listed.output and secret not in listed.output
    bad = runner.invoke(app, ["webhook", "add", "hooks", PUBLIC, "--event", "nope", *db_args])
    assert bad.exit_code == 1 and "not an event type" in bad.output
    removed = runner.invoke(app, ["webhook", "remove", "hooks", endpoint, *db_args])
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(app, ["webhook", "remove", "hooks", endpoint, *db_args])
    assert again.exit_code == 1 and "No webhook endpoint" in again.output


def test_test_sends_a_signed_event_and_prints_the_outcome(
    db_args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGECHAT_OUTBOUND_ALLOW_PRIVATE", "true")
    receiver = new_receiver(tmp_path)
    endpoint, secret = _added(runner.invoke(
        app, ["webhook", "add", "hooks", receiver.url, *db_args]).output)
    with running(receiver, secret, "--answers", "503"):
        failed = runner.invoke(app, ["webhook", "test", "hooks", endpoint, *db_args])
    assert failed.exit_code == 1, failed.output
    assert "pending, HTTP 503: Answered 503, not a 2xx." in failed.output
    failing = runner.invoke(app, ["webhook", "list", "hooks", *db_args])
    assert "failing" in failing.output
    with running(receiver, secret, "--answers", "200"):
        passed = runner.invoke(app, ["webhook", "test", "hooks", endpoint, *db_args])
    assert passed.exit_code == 0, passed.output
    assert "delivered, HTTP 200" in passed.output
    records = receiver.records()
    assert [(r["event"], r["valid"], r["status"]) for r in records] == [
        ("test", True, 503), ("test", True, 200)]
    listed = runner.invoke(app, ["webhook", "list", "hooks", *db_args])
    assert "active" in listed.output  # the success ended the failing streak
