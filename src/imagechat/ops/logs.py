"""Logging for the server process: plain text (default) or one JSON object per line.

`log_config()` is the `logging.config.dictConfig` the server hands to uvicorn, so uvicorn's
own loggers and ours share one format. Access lines come from `imagechat.access`
(http/observe.py), which knows each request's duration; uvicorn's access log, which does
not, is switched off (`access_log=False` in app.server_options).

Whatever the format, every handler runs `RedactSecrets` first: the values of the query
parameters that carry credentials (`API_KEY`, `sso`, `editKey`) or name whom an email's
unsubscribe link is for (`user`, `sig`) never reach a log line.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import orjson
from uvicorn.config import LOG_LEVELS

# Query parameters whose values are credentials: a tenant's API secret, a signed SSO
# token, an anonymous author's edit key; and an unsubscribe link's user (sites may use
# addresses as user ids) and signature. Compared without regard to case.
SECRET_PARAMS = frozenset({"api_key", "sso", "editkey", "user", "sig"})
REDACTED = "***"

# One `name=value` pair of a query string, with the `?` or `&` before it.
_QUERY_PAIR = re.compile(r"([?&;])([^=&;#\s\"']+)=([^&;#\s\"']*)")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message", "asctime",
    "color_message",  # uvicorn's coloured copy of the message
}


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by `***`."""
    if "=" not in text:
        return text
    return _QUERY_PAIR.sub(_redact_pair, text)


def _redact_pair(match: re.Match[str]) -> str:
    # The name may arrive percent-encoded (`API%5FKEY`); the server decodes it, so must we.
    if unquote_plus(match[2]).lower() in SECRET_PARAMS:
        return f"{match[1]}{match[2]}={REDACTED}"
    return match[0]


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, arguments and extra fields with `redact()`.

    Runs on every handler of `log_config()`, so it applies to the plain and the JSON format
    alike, and to uvicorn's records as well as ours. Running twice changes nothing.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO 8601, UTC), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def log_level(name: str) -> int:
    """uvicorn's level names (`trace` … `critical`) as numbers; unknown names are `info`."""
    return LOG_LEVELS.get(name.lower(), logging.INFO)


def log_config(level: str, *, json: bool) -> dict[str, Any]:
    """The dictConfig for the server: uvicorn's loggers, ours, and (JSON) everyone else's.

    Errors and diagnostics go to stderr, access lines to stdout, as uvicorn does.
    """
    numeric = log_level(level)
    if json:
        formatter: dict[str, Any] = {"()": JsonFormatter}
        formatters = {"default": formatter, "app": formatter, "access": formatter}
    else:
        formatters = {
            "default": {"()": "uvicorn.logging.DefaultFormatter",
                        "fmt": "%(levelprefix)s %(message)s"},
            "app": {"()": "uvicorn.logging.DefaultFormatter",
                    "fmt": "%(levelprefix)s %(name)s: %(message)s"},
            "access": {"()": "uvicorn.logging.DefaultFormatter",
                       "fmt": "%(levelprefix)s %(message)s"},
        }

    def handler(formatter: str, stream: str) -> dict[str, Any]:
        return {"class": "logging.StreamHandler", "formatter": formatter,
                "stream": f"ext://sys.{stream}", "filters": ["redact"]}

    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}},
        "formatters": formatters,
        "handlers": {
            "default": handler("default", "stderr"),
            "app": handler("app", "stderr"),
            "access": handler("access", "stdout"),
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": numeric, "propagate": False},
            "uvicorn.error": {"level": numeric},
            "uvicorn.access": {"handlers": ["access"], "level": numeric, "propagate": False},
            # Plain text: ours also propagate, so a root handler an embedding program (or
            # pytest) installed still sees them. JSON: the root handler below prints them.
            "imagechat": {"handlers": [] if json else ["app"], "level": numeric,
                          "propagate": True},
            "imagechat.access": {"handlers": ["access"], "level": numeric,
                                 "propagate": False},
        },
    }
    if json:
        # Every line must parse, so the libraries' warnings (SQLAlchemy, asyncio...) and
        # our own records come out as JSON too.
        config["root"] = {"handlers": ["app"], "level": logging.WARNING}
    return config
