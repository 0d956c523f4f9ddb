"""The server's own output: JSON or plain lines, and never a secret from a query string."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.server_process import IMAGECHAT_BIN, running_server

WRONG_SECRET = "secret123"
SSO_TOKEN = "sso-payload-4c1e"
EDIT_KEY = "edit-key-77aa"


def create_tenant(database_url: str) -> str:
    """A tenant made with the CLI; returns its real API secret."""
    subprocess.run([IMAGECHAT_BIN, "migrate", "--database-url", database_url],
                   capture_output=True, check=True, timeout=60)
    result = subprocess.run(
        [IMAGECHAT_BIN, "tenant", "create", "Acme", "--id", "acme",
         "--database-url", database_url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"API secret: (\S+)", result.stdout)
    assert match, result.stdout
    return match.group(1)


def exercise(base: str, api_secret: str) -> None:
    """Requests that carry every kind of secret in their query string."""
    with httpx.Client(base_url=base) as http:
        wrong = http.get(f"/api/v1/image-chats?tenantId=acme&API_KEY={WRONG_SECRET}")
        assert wrong.status_code == 401
        right = http.get(f"/api/v1/image-chats?tenantId=acme&API_KEY={api_secret}")
        assert right.status_code == 200
        # A percent-encoded name is the same parameter to the server.
        assert http.get(f"/healthz?API%5FKEY={WRONG_SECRET}&x=1").status_code == 200
        assert http.get(f"/comment-image-chats/demo?urlId=img-1&sso={SSO_TOKEN}"
                        ).status_code in (200, 401)
        assert http.delete(f"/comments/demo/nosuchcomment?editKey={EDIT_KEY}"
                           ).status_code == 404


def serve_and_capture(tmp_path: Path, args: list[str]) -> tuple[str, str]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}"
    api_secret = create_tenant(database_url)
    output_path = tmp_path / "server.log"
    with output_path.open("wb") as output, running_server(
            database_url, args=args, output=output) as base:
        exercise(base, api_secret)
    return output_path.read_text(), api_secret


def assert_no_secret(output: str, api_secret: str) -> None:
    for secret in (WRONG_SECRET, api_secret, SSO_TOKEN, EDIT_KEY):
        assert secret not in output
    assert "API_KEY=***" in output
    assert "sso=***" in output
    assert "editKey=***" in output


def test_json_logs_are_one_object_per_line_without_secrets(tmp_path: Path) -> None:
    output, api_secret = serve_and_capture(tmp_path, ["--log-json"])
    lines = [line for line in output.splitlines() if line.strip()]
    records = []
    for line in lines:
        record = json.loads(line)  # every line, the start-up greeting included
        assert {"time", "level", "logger", "message"} <= set(record), line
        stamp = datetime.fromisoformat(record["time"])
        assert stamp.utcoffset() == timedelta(0), line
        records.append(record)
    loggers = {r["logger"] for r in records}
    assert {"imagechat", "uvicorn.error", "imagechat.access"} <= loggers
    access = [r for r in records if r["logger"] == "imagechat.access"]
    assert len(access) >= 5
    for record in access:
        assert {"method", "path", "status", "duration_ms", "client"} <= set(record)
        assert isinstance(record["status"], int)
        assert isinstance(record["duration_ms"], float | int) and record["duration_ms"] >= 0
        assert record["client"].startswith("127.0.0.1:")
    statuses = {(r["method"], r["path"].split("?")[0], r["status"]) for r in access}
    assert ("GET", "/api/v1/image-chats", 401) in statuses
    assert ("DELETE", "/comments/demo/nosuchcomment", 404) in statuses
    assert_no_secret(output, api_secret)


def test_plain_logs_stay_the_default_and_hide_secrets_too(tmp_path: Path) -> None:
    output, api_secret = serve_and_capture(tmp_path, [])
    access = [line for line in output.splitlines() if '"GET /api/v1/image-chats' in line]
    assert len(access) == 2
    assert all(line.startswith("INFO:") for line in access)
    with pytest.raises(json.JSONDecodeError):
        json.loads(access[0])
    assert_no_secret(output, api_secret)
