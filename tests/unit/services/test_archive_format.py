"""The archive's lines (services/archive_format.py): the header's checks, and every record
checked against its table before anything is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imagechat.domain.errors import BadInput
from imagechat.services.archive_format import (
    FORMAT_VERSION,
    ArchiveRefused,
    Header,
    parse_record,
    read_header,
    record_line,
)
from imagechat.store.archive import KIND_BY_NAME

KNOWN = {"0005", "0006"}
BAN = {"tenant_id": "acme", "subject": "a:x", "reason": "spam", "created_by": "Mo",
       "created_at": 1}


def line(kind: str, **data: Any) -> str:
    return json.dumps({"type": kind, "data": data})


def test_a_header_reads_back_as_written() -> None:
    header = Header(version=FORMAT_VERSION, schema="0006", created_at=5, tenant="acme",
                    secrets=False, counts={"ban": 1})
    assert read_header(header.line(), KNOWN) == header


@pytest.mark.parametrize(("text", "reason"), [
    ("not json", "line 1 is not JSON"),
    ('{"type": "ban", "data": {}}', "not the header of an ImageChat archive"),
    ('{"format": "imagechat-archive", "version": 2, "schema": "0006"}',
     "format version 2; this version of ImageChat reads up to 1"),
    ('{"format": "imagechat-archive", "version": "1", "schema": "0006"}',
     "must be a whole number"),
    ('{"format": "imagechat-archive", "version": 1, "schema": "0099"}',
     "schema revision '0099'"),
])
def test_a_header_that_cannot_be_read_refuses_the_file(text: str, reason: str) -> None:
    with pytest.raises(ArchiveRefused, match=reason):
        read_header(text, KNOWN)


def test_a_record_reads_back_as_written_bytes_included() -> None:
    version = {"tenant_id": "acme", "url_id": "a.png", "version": 1, "src": None,
               "content_hash": None, "width": 10, "height": 20, "thumbnail": b"\x00\xffwebp",
               "etag": None, "last_modified": None, "checked_at": None,
               "fetch_error": None, "carried_same": 0, "carried_changed": 0,
               "carried_lost": 0, "created_at": 3}
    kind = KIND_BY_NAME["image_version"]
    record = parse_record(record_line(kind, version))
    assert record.kind is kind and record.values == version


def test_left_out_secrets_and_old_columns_are_filled_in() -> None:
    record = parse_record(line("tenant", id="acme", name="Acme", allow_anonymous=True,
                               allow_simple_sso=False, allowed_origins="[]", created_at=1))
    assert record.missing_secrets == ("api_secret",)
    # Columns added by later revisions take their defaults.
    assert record.values["visitors_resolve"] is False
    assert record.values["emails_enabled"] is True


@pytest.mark.parametrize(("text", "reason"), [
    ("{nope", "not JSON"),
    ("[1]", "not a JSON object"),
    (line("header"), "a second header"),
    (line("gadget"), "unknown record type 'gadget'"),
    (json.dumps({"type": "ban", "data": BAN, "extra": 1}), "unknown key 'extra'"),
    (json.dumps({"type": "ban", "data": [1]}), "`data` must be a JSON object"),
    (line("ban", **{**BAN, "colour": "red"}), "unknown field 'colour'"),
    (line("ban", **{k: v for k, v in BAN.items() if k != "created_by"}),
     "the field 'created_by' is missing"),
    (line("ban", **{**BAN, "created_at": "1"}), "'created_at' must be a whole number"),
    (line("ban", **{**BAN, "created_at": True}), "'created_at' must be a whole number"),
    (line("ban", **{**BAN, "created_by": None}), "'created_by' may not be null"),
    (line("ban", **{**BAN, "subject": "a" * 141}), "longer than its 140 characters"),
    (line("ban", **{**BAN, "reason": "a\x00b"}), "NUL character"),
    (line("channel", tenant_id="acme", url_id="a", seq=1, locked="yes", created_at=1,
          updated_at=1), "'locked' must be true or false"),
    (line("image_version", tenant_id="acme", url_id="a", version=1, thumbnail="%%",
          created_at=1), "'thumbnail' is not base64"),
])
def test_a_bad_record_says_why(text: str, reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        parse_record(text)


def test_a_channels_epoch_is_not_a_field_of_the_archive() -> None:
    with pytest.raises(BadInput, match="unknown field 'epoch'"):
        parse_record(line("channel", tenant_id="acme", url_id="a", seq=1, epoch="e",
                          locked=False, created_at=1, updated_at=1))
