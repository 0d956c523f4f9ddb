"""Log formats and secret redaction, records in and text out."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta

import pytest

from imagechat.ops.logs import JsonFormatter, RedactSecrets, log_config, redact

# --- redact ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("/x?API_KEY=s3cr3t", "/x?API_KEY=***"),
    ("/x?a=1&sso=tok.en-1&b=2", "/x?a=1&sso=***&b=2"),
    ("/c/1?editKey=k1&urlId=img", "/c/1?editKey=***&urlId=img"),
    ("/x?api_key=lower&EDITKEY=upper", "/x?api_key=***&EDITKEY=***"),
    ("/x?API%5FKEY=encoded", "/x?API%5FKEY=***"),
    ("/x?sso=", "/x?sso=***"),
    ('GET /x?sso=abc HTTP/1.1" 200', 'GET /x?sso=*** HTTP/1.1" 200'),
])
def test_secret_parameters_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "/x?ssoish=1&my_API_KEY=2&editKeys=3", "/healthz", "plain words = no query",
    "/sso/API_KEY/editKey", "/x?urlId=sso%3Dx",
])
def test_other_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redacting_twice_changes_nothing() -> None:
    once = redact("/x?API_KEY=a&sso=b")
    assert redact(once) == once


# --- RedactSecrets ---------------------------------------------------------------------


def record(msg: str, args: object = None, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "t", "levelno": logging.INFO, "levelname": "INFO",
                                  "msg": msg, "args": args, **extra})
    return made


def test_the_filter_masks_positional_arguments_like_uvicorns_access_line() -> None:
    # uvicorn.access logs the full path as the third argument.
    rec = record('%s - "%s %s HTTP/%s" %d',
                 ("127.0.0.1:5000", "GET", "/api/v1/usage?API_KEY=topsecret", "1.1", 200))
    assert RedactSecrets().filter(rec) is True
    assert rec.getMessage() == '127.0.0.1:5000 - "GET /api/v1/usage?API_KEY=*** HTTP/1.1" 200'


def test_the_filter_masks_the_message_mapping_arguments_and_extra_fields() -> None:
    rec = record("fetching /x?sso=inline and %(url)s", None, path="/p?editKey=extra",
                 status=200)
    rec.args = {"url": "/y?API_KEY=mapped"}
    RedactSecrets().filter(rec)
    text = rec.getMessage()
    assert "inline" not in text and "mapped" not in text
    assert rec.__dict__["path"] == "/p?editKey=***"
    assert rec.__dict__["status"] == 200


# --- JsonFormatter ---------------------------------------------------------------------


def test_json_lines_carry_time_level_logger_message_and_extras() -> None:
    rec = record("%s done", ("job",), method="GET", duration_ms=1.5)
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "INFO"
    assert data["logger"] == "t"
    assert data["message"] == "job done"
    assert data["method"] == "GET"
    assert data["duration_ms"] == 1.5
    assert datetime.fromisoformat(data["time"]).utcoffset() == timedelta(0)
    assert "args" not in data and "msg" not in data and "levelno" not in data


def test_json_lines_include_the_exception_and_survive_odd_extras() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = record("failed", None, exc_info=sys.exc_info(), thing=object())
    data = json.loads(JsonFormatter().format(rec))
    assert "ValueError: boom" in data["exception"]
    assert data["thing"].startswith("<object")


# --- log_config ------------------------------------------------------------------------


@pytest.mark.parametrize("json_lines", [True, False])
def test_every_handler_redacts_in_both_formats(json_lines: bool) -> None:
    config = log_config("info", json=json_lines)
    assert config["handlers"]
    for handler in config["handlers"].values():
        assert handler["filters"] == ["redact"]
    assert config["filters"]["redact"]["()"] is RedactSecrets
    formatters = {f.get("()") for f in config["formatters"].values()}
    assert (formatters == {JsonFormatter}) is json_lines


def test_json_mode_also_formats_other_libraries_plain_mode_leaves_root_alone() -> None:
    assert log_config("info", json=True)["root"]["handlers"] == ["app"]
    assert "root" not in log_config("info", json=False)


def test_levels_follow_the_setting() -> None:
    loggers = log_config("warning", json=False)["loggers"]
    assert loggers["imagechat"]["level"] == logging.WARNING
    assert loggers["uvicorn.error"]["level"] == logging.WARNING
