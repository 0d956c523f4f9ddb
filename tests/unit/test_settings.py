"""`Settings` is the one source of every setting: the README's configuration table lists
each of them, with its real default and meaning, and nothing else; the live bounds are
built from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main
from pydantic import SecretStr

from imagechat.cli import app
from imagechat.live.limits import LiveLimits
from imagechat.services.outbox import OutboxPolicy
from imagechat.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
_ROW = re.compile(r"^\|\s*`(?P<variable>IMAGECHAT_\w+)`\s*\|(?P<flag>[^|]*)\|(?P<default>[^|]*)"
                  r"\|(?P<meaning>.*)\|$")


def readme_rows() -> dict[str, dict[str, str]]:
    text = README.read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            assert match["variable"] not in rows, f"{match['variable']} is listed twice"
            rows[match["variable"]] = {k: v.strip() for k, v in match.groupdict().items()}
    return rows


def documented_default(value: Any) -> str:
    """A default as the README writes it."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def variable(name: str) -> str:
    return f"IMAGECHAT_{name.upper()}"


def test_every_setting_is_documented_and_nothing_else() -> None:
    assert set(readme_rows()) == {variable(name) for name in Settings.model_fields}


def test_the_readme_gives_each_setting_its_real_default_and_meaning() -> None:
    rows = readme_rows()
    for name, field in Settings.model_fields.items():
        row = rows[variable(name)]
        default = documented_default(field.default)
        # An empty default may say what empty means: "empty (in-process broker)".
        cell = row["default"].split(" (", 1)[0] if default == "empty" else row["default"]
        assert cell == default, f"{variable(name)}: README says {row['default']}"
        assert row["meaning"] == field.description, variable(name)


def test_documented_flags_are_options_of_serve() -> None:
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = {opt for param in serve.params for opt in param.opts}
    flags = {row["flag"].strip("`") for row in readme_rows().values() if row["flag"]}
    assert flags
    assert flags <= options


def test_the_live_bounds_default_to_the_settings_defaults() -> None:
    assert LiveLimits() == LiveLimits.from_settings(Settings.model_construct())


def test_the_live_bounds_follow_the_settings() -> None:
    settings = Settings.model_construct(ws_max_send_buffer=20_000, ws_max_channels=150,
                                        ws_heartbeat_secs=5.0, ws_idle_timeout_secs=9.0,
                                        ws_max_connections_per_ip=0, history_max_events=7,
                                        history_max_age_hours=0.5)
    limits = LiveLimits.from_settings(settings)
    assert (limits.max_send_buffer, limits.max_channels_per_connection) == (20_000, 150)
    assert (limits.heartbeat_interval_secs, limits.idle_timeout_secs) == (5.0, 9.0)
    assert limits.max_connections_per_address == 0
    assert (limits.history_max_events, limits.history_max_age_ms) == (7, 1_800_000)
    assert limits.client_messages_burst == 300  # joins of every image, twice


def test_the_outbox_policy_follows_the_settings() -> None:
    assert OutboxPolicy() == OutboxPolicy.from_settings(Settings.model_construct())
    policy = OutboxPolicy.from_settings(Settings.model_construct(
        outbox_retry_first_secs=1.0, outbox_retry_max_secs=8.0, outbox_give_up_hours=2.0,
        outbox_keep_days=3.0, outbox_lease_secs=30.0))
    assert (policy.retry_first_secs, policy.retry_max_secs, policy.give_up_hours,
            policy.keep_days, policy.lease_secs) == (1.0, 8.0, 2.0, 3.0, 30.0)
