"""The archive's format (docs/data-model.md, "Archive"): JSON lines, a header first, then one
record per line, `{"type": <kind>, "data": {<column>: <value>, …}}` with the columns of the
kind's table. Values are JSON as they are: strings, numbers, booleans, null; bytes (thumbnails)
are base64.

The encoding is deterministic (columns in table order, no spaces, rows in a fixed order,
the header's `createdAt` the newest time the data holds rather than the clock's), so
exporting the same data twice, from any database, gives the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Column, Float, Integer, LargeBinary, String

from imagechat.domain.errors import BadInput
from imagechat.store.archive import KIND_BY_NAME, Kind

FORMAT = "imagechat-archive"
# Bumped when a reader of an older version could not read the records right.
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Header:
    version: int
    schema: str  # the Alembic revision of the database it was made from
    created_at: int
    tenant: str | None  # the one tenant it holds, or None: all of them
    secrets: bool
    counts: dict[str, int]

    def line(self) -> str:
        return _dump({"type": "header", "format": FORMAT, "version": self.version,
                      "schema": self.schema, "createdAt": self.created_at,
                      "tenant": self.tenant, "secrets": self.secrets,
                      "counts": self.counts})


class ArchiveRefused(BadInput):
    """The file as a whole cannot be read: not an archive, or one of a newer version."""

    code = "archive-refused"


def read_header(line: str, known_schemas: set[str]) -> Header:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ArchiveRefused(f"line 1 is not JSON ({exc.msg}): not an ImageChat archive") \
            from exc
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ArchiveRefused(f"line 1 is not the header of an ImageChat archive (format "
                             f"{FORMAT!r})")
    version = value.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveRefused("the header's `version` must be a whole number from 1")
    if version > FORMAT_VERSION:
        raise ArchiveRefused(f"the archive has format version {version}; this version of "
                             f"ImageChat reads up to {FORMAT_VERSION}: import it with a newer "
                             "release")
    schema = value.get("schema")
    if not isinstance(schema, str) or schema not in known_schemas:
        raise ArchiveRefused(f"the archive was made on schema revision {schema!r}, which this "
                             "version of ImageChat does not know: import it with the release "
                             "that made it, or a newer one")
    counts = value.get("counts")
    return Header(version=version, schema=schema, created_at=int(value.get("createdAt") or 0),
                  tenant=value.get("tenant"), secrets=bool(value.get("secrets")),
                  counts=counts if isinstance(counts, dict) else {})


def record_line(kind: Kind, row: dict[str, Any]) -> str:
    return _dump({"type": kind.name,
                  "data": {name: _encode(value) for name, value in row.items()}})


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


@dataclass(frozen=True)
class Record:
    kind: Kind
    values: dict[str, Any]
    # Secret columns the record does not carry (the archive was made without secrets).
    missing_secrets: tuple[str, ...]


def parse_record(line: str) -> Record:
    """One record line, checked against its table: every reason is a BadInput."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInput(f"not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise BadInput("not a JSON object")
    name = value.get("type")
    if name == "header":
        raise BadInput("a second header: only the first line is one")
    kind = KIND_BY_NAME.get(name) if isinstance(name, str) else None
    if kind is None:
        raise BadInput(f"unknown record type {name!r}")
    extra = sorted(set(value) - {"type", "data"})
    if extra:
        raise BadInput(f"{kind.name}: unknown key {extra[0]!r} (a record has `type` and "
                       "`data`)")
    value = value.get("data")
    if not isinstance(value, dict):
        raise BadInput(f"{kind.name}: `data` must be a JSON object")
    columns = {c.name: c for c in kind.columns(secrets=True)}
    unknown = sorted(set(value) - set(columns))
    if unknown:
        raise BadInput(f"{kind.name}: unknown field {unknown[0]!r}")
    values: dict[str, Any] = {}
    missing_secrets = []
    for column in columns.values():
        if column.name in value:
            values[column.name] = _decode(kind, column, value[column.name])
        elif column.name in kind.secret:
            missing_secrets.append(column.name)
        elif column.nullable:
            values[column.name] = None
        elif column.default is not None and getattr(column.default, "is_scalar", False):
            # Records of an older schema, before the column was added.
            values[column.name] = getattr(column.default, "arg", None)
        else:
            raise BadInput(f"{kind.name}: the field {column.name!r} is missing")
    return Record(kind, values, tuple(missing_secrets))


def _decode(kind: Kind, column: Column[Any], value: Any) -> Any:
    where = f"{kind.name}: the field {column.name!r}"
    if value is None:
        if not column.nullable:
            raise BadInput(f"{where} may not be null")
        return None
    kind_of = column.type
    if isinstance(kind_of, Boolean):
        if not isinstance(value, bool):
            raise BadInput(f"{where} must be true or false")
        return value
    if isinstance(kind_of, Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(f"{where} must be a whole number")
        return value
    if isinstance(kind_of, Float):
        if not isinstance(value, int | float) or isinstance(value, bool) \
                or not math.isfinite(value):
            raise BadInput(f"{where} must be a number")
        return float(value)
    if isinstance(kind_of, LargeBinary):
        if not isinstance(value, str):
            raise BadInput(f"{where} must be base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadInput(f"{where} is not base64") from exc
    if isinstance(kind_of, String):  # also Text
        if not isinstance(value, str):
            raise BadInput(f"{where} must be text")
        if kind_of.length is not None and len(value) > kind_of.length:
            raise BadInput(f"{where} is longer than its {kind_of.length} characters")
        if "\x00" in value:
            raise BadInput(f"{where} holds a NUL character")
        return value
    raise BadInput(f"{where} has a type the archive cannot read")  # pragma: no cover
