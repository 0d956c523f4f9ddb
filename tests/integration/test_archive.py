"""`imagechat export` and `imagechat import`: the archive of generated tenants with a row in
every table, round trips between SQLite and PostgreSQL, idempotence, damaged archives, the
version check, the tenant filter and the secrets (docs/data-model.md, "Archive")."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from imagechat.app import create_app
from imagechat.settings import Settings
from imagechat.store.archive import KINDS, LEFT_OUT
from imagechat.store.tables import channels, metadata, tenants, webhook_endpoints
from tests.archive_data import fill
from tests.conftest import _empty_postgres
from tests.helpers import create_conversation
from tests.integration.archive_helpers import (  # noqa: F401 (a fixture)
    export,
    load,
    new_pg_database,
    records,
    run,
    sqlite_at,
)

CONVERSATIONS = 20


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (epochs included)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {table.name: sorted(map(tuple, await conn.execute(sa.select(table))),
                                       key=repr)
                    for table in metadata.sorted_tables}
    finally:
        await engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return asyncio.run(_snapshot(url))


def filled(url: str) -> str:
    if url.startswith("postgresql"):
        asyncio.run(_empty_postgres(url))
    assert run("migrate", "--database-url", url).exit_code == 0
    asyncio.run(fill(url, "site-a", CONVERSATIONS, seed=1))
    asyncio.run(fill(url, "site-b", CONVERSATIONS // 2, seed=2))
    return url


@pytest.fixture
def source(database_url: str) -> str:
    return filled(database_url)


def test_every_table_is_archived_or_left_out_with_a_reason() -> None:
    archived = {kind.table.name for kind in KINDS}
    assert archived.isdisjoint(LEFT_OUT)
    assert archived | set(LEFT_OUT) - {"alembic_version"} == set(metadata.tables)


@pytest.mark.postgres
def test_round_trip_sqlite_postgres_sqlite_gives_identical_archives(
    tmp_path: Path, new_pg_database: str,  # noqa: F811 (the fixture)
) -> None:
    first_db = filled(sqlite_at(tmp_path / "first.db"))
    for flags in ((), ("--include-secrets",)):
        name = "-".join(flags) or "plain"
        original = export(first_db, tmp_path / f"{name}-1.jsonl", *flags)
        kinds = {r["type"] for r in records(original)}
        assert kinds == {"header"} | {kind.name for kind in KINDS}

        # Into PostgreSQL with no schema yet: the import creates it.
        pg = new_pg_database if not flags else _fresh_schema(new_pg_database)
        loaded = load(pg, tmp_path / f"{name}-1.jsonl")
        assert loaded.exit_code == 0, loaded.output
        assert "0 already there, 0 bad lines" in loaded.output
        assert export(pg, tmp_path / f"{name}-2.jsonl", *flags) == original

        back = sqlite_at(tmp_path / f"{name}-back.db")
        assert load(back, tmp_path / f"{name}-2.jsonl").exit_code == 0
        assert export(back, tmp_path / f"{name}-3.jsonl", *flags) == original

    # Seqs are kept, epochs are new: a client resuming from before must reload.
    before = {(r[0], r[1]): r for r in snapshot(first_db)["channels"]}
    after = {(r[0], r[1]): r for r in snapshot(back)["channels"]}
    assert before.keys() == after.keys()
    seq, epoch = list(channels.c.keys()).index("seq"), list(channels.c.keys()).index("epoch")
    for key, row in before.items():
        assert after[key][seq] == row[seq]
        assert after[key][epoch] != row[epoch]


def _fresh_schema(url: str) -> str:
    asyncio.run(_pg_admin_reset(url))
    return url


async def _pg_admin_reset(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def test_import_twice_changes_nothing(tmp_path: Path, source: str) -> None:
    archive = tmp_path / "all.jsonl"
    original = export(source, archive)
    target = sqlite_at(tmp_path / "target.db")
    assert load(target, archive).exit_code == 0
    once = snapshot(target)
    again = load(target, archive)
    assert again.exit_code == 0, again.output
    total = len(records(original)) - 1
    assert f"0 records loaded, {total} already there, 0 bad lines." in again.output
    assert snapshot(target) == once

    # Into the database it came from: everything is there already, nothing moves (not even
    # an epoch).
    before = snapshot(source)
    into_itself = load(source, archive)
    assert f"0 records loaded, {total} already there" in into_itself.output
    assert snapshot(source) == before


def test_a_stored_channel_gets_a_new_epoch_when_its_tenant_gains_rows(
    tmp_path: Path, source: str
) -> None:
    archive = tmp_path / "all.jsonl"
    export(source, archive)
    lines = archive.read_text().splitlines()
    # The database lacks a few comments of the archive (deleted since, say).
    missing = [json.loads(x)["data"]["id"] for x in lines if '"type":"comment"' in x][-3:]
    engine_url = source
    asyncio.run(_delete_comments(engine_url, missing))
    before = {(r[0], r[1]): r[3] for r in snapshot(source)["channels"]}
    result = load(source, archive)
    assert result.exit_code == 0, result.output
    assert "  3 comment" in result.output
    after = {(r[0], r[1]): r[3] for r in snapshot(source)["channels"]}
    changed = {key for key in before if before[key] != after[key]}
    assert changed and {tenant for tenant, _ in changed} == {"site-a"}


async def _delete_comments(url: str, ids: list[str]) -> None:
    from imagechat.store.tables import comments

    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.delete(comments).where(comments.c.id.in_(ids)))
    finally:
        await engine.dispose()


def _damage(lines: list[str]) -> tuple[list[str], dict[int, str]]:
    """The archive with bad lines spread through it; returns them with line -> reason."""
    vote = json.loads(next(x for x in lines if '"type":"vote"' in x))
    comment = json.loads(next(x for x in lines if '"type":"comment"' in x))
    orphan_vote = {**vote, "data": {**vote["data"], "id": "v-orphan",
                                    "comment_id": "no-such-comment"}}
    orphan_reply = {**comment, "data": {**comment["data"], "id": "c-orphan",
                                        "parent_id": "no-such-parent"}}
    no_name = {**comment, "data": {k: v for k, v in comment["data"].items()
                                   if k != "commenter_name"} | {"id": "c-noname"}}
    wrong_type = {**comment, "data": {**comment["data"], "id": "c-wrong", "votes_up": "3"}}
    foreign_tenant = {**comment, "data": {**comment["data"], "id": "c-foreign",
                                          "tenant_id": "nobody"}}
    bad = [
        ('{"type": "comment", "data": {"id": ', "not JSON"),
        (json.dumps({"type": "gadget", "data": {}}), "unknown record type 'gadget'"),
        (json.dumps(no_name), "the field 'commenter_name' is missing"),
        (json.dumps(wrong_type), "the field 'votes_up' must be a whole number"),
        (json.dumps(orphan_vote), "its comment 'no-such-comment' is neither in the archive"),
        (json.dumps(orphan_reply), "its parent comment 'no-such-parent' is neither"),
        (json.dumps(foreign_tenant), "its tenant 'nobody' is neither in the archive"),
        ("[1, 2]", "not a JSON object"),
    ]
    out = list(lines)
    for k, (line, _) in enumerate(bad):
        out.insert(1 + (k + 1) * (len(lines) // (len(bad) + 1)), line)
    expected = {n: reason for n, line in enumerate(out, start=1)
                for bad_line, reason in bad if line == bad_line}
    return out, expected


def test_a_damaged_archive_loads_its_good_lines_and_names_the_bad_ones(
    tmp_path: Path, source: str
) -> None:
    original = export(source, tmp_path / "all.jsonl")
    damaged, expected = _damage(original.decode().splitlines())
    assert len(expected) == 8
    (tmp_path / "damaged.jsonl").write_text("\n".join(damaged) + "\n")
    target = sqlite_at(tmp_path / "target.db")
    result = load(target, tmp_path / "damaged.jsonl")
    assert result.exit_code == 1, result.output
    assert f"{len(records(original)) - 1} records loaded, 0 already there, 8 bad lines." \
        in result.output
    reported = [line for line in result.output.splitlines() if line.startswith("  line ")]
    assert len(reported) == 8
    for number, reason in expected.items():
        assert any(line.startswith(f"  line {number}: ") and reason in line
                   for line in reported), (number, reason, result.output)
    # Everything good is in, exactly: the database exports the original archive.
    assert export(target, tmp_path / "again.jsonl") == original


def test_a_reply_before_its_parent_and_a_repeated_line_still_load(
    tmp_path: Path, sqlite_url: str
) -> None:
    original = export(filled(sqlite_url), tmp_path / "all.jsonl")
    lines = original.decode().splitlines()
    reply = next(n for n, x in enumerate(lines) if '"type":"comment"' in x
                 and '"parent_id":null' not in x)
    parent_id = json.loads(lines[reply])["data"]["parent_id"]
    parent = next(n for n, x in enumerate(lines) if f'"id":"{parent_id}"' in x)
    # The reply moved to the top of the comments, a vote written twice.
    first_comment = next(n for n, x in enumerate(lines) if '"type":"comment"' in x)
    moved = lines.pop(reply)
    lines.insert(first_comment, moved)
    assert lines.index(moved) < parent + 1
    vote = next(x for x in lines if '"type":"vote"' in x)
    lines.insert(lines.index(vote), vote)
    (tmp_path / "shuffled.jsonl").write_text("\n".join(lines) + "\n")
    target = sqlite_at(tmp_path / "target.db")
    result = load(target, tmp_path / "shuffled.jsonl")
    assert result.exit_code == 0, result.output
    assert f"{len(records(original)) - 1} records loaded, 1 already there, 0 bad lines." \
        in result.output
    assert export(target, tmp_path / "again.jsonl") == original


def test_a_record_never_lands_on_another_tenants_row(tmp_path: Path, source: str) -> None:
    lines = export(source, tmp_path / "b.jsonl", "--tenant", "site-b").decode().splitlines()
    taken = next(json.loads(x)["data"]["id"] for x in export(
        source, tmp_path / "a.jsonl", "--tenant", "site-a").decode().splitlines()
        if '"type":"comment"' in x)
    at = next(n for n, x in enumerate(lines) if '"type":"comment"' in x)
    forged = json.loads(lines[at])
    forged["data"] = {**forged["data"], "id": taken, "comment": "forged"}
    lines.insert(at, json.dumps(forged))
    (tmp_path / "forged.jsonl").write_text("\n".join(lines) + "\n")
    before = snapshot(source)
    result = load(source, tmp_path / "forged.jsonl")
    assert result.exit_code == 1
    assert f"  line {at + 1}: comment: its id is another tenant's" in result.output
    assert snapshot(source) == before


@pytest.mark.parametrize(("header", "reason"), [
    ({"version": 2}, "format version 2; this version of ImageChat reads up to 1"),
    ({"schema": "9999"}, "schema revision '9999', which this version of ImageChat does not"),
    ({"format": "something-else"}, "not the header of an ImageChat archive"),
])
def test_an_archive_of_another_version_is_refused_whole(
    tmp_path: Path, sqlite_url: str, header: dict[str, Any], reason: str
) -> None:
    filled(sqlite_url)
    lines = export(sqlite_url, tmp_path / "all.jsonl").decode().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), **header})
    (tmp_path / "other.jsonl").write_text("\n".join(lines) + "\n")
    target = tmp_path / "target.db"
    result = load(sqlite_at(target), tmp_path / "other.jsonl")
    assert result.exit_code == 1, result.output
    assert reason in result.output
    assert not target.exists() or snapshot(sqlite_at(target)).get("tenants") in (None, [])


def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "x.jsonl").write_text('{"id": "fc1", "comment": "from another tool"}\n')
    result = load(sqlite_url, tmp_path / "x.jsonl")
    assert result.exit_code == 1
    assert "not the header of an ImageChat archive" in result.output


def test_the_tenant_filter_exports_one_tenant_and_nothing_of_others(
    tmp_path: Path, source: str
) -> None:
    data = export(source, tmp_path / "a.jsonl", "--tenant", "site-a")
    rows = records(data)
    assert rows[0]["tenant"] == "site-a"
    assert {r["data"].get("tenant_id", r["data"].get("id")) for r in rows[1:]} == {"site-a"}
    assert b"site-b" not in data
    assert sum(rows[0]["counts"].values()) == len(rows) - 1
    # Loaded next to the other tenant, it is that tenant's part of the whole.
    target = sqlite_at(tmp_path / "target.db")
    assert load(target, tmp_path / "a.jsonl").exit_code == 0
    assert export(target, tmp_path / "a2.jsonl", "--tenant", "site-a") == data

    unknown = run("export", str(tmp_path / "x.jsonl"), "--tenant", "nobody",
                  "--database-url", source)
    assert unknown.exit_code == 1
    assert "no tenant 'nobody'" in unknown.output
    assert not (tmp_path / "x.jsonl").exists()
    assert not (tmp_path / "x.jsonl.partial").exists()


def test_secrets_stay_out_unless_asked_for(tmp_path: Path, source: str) -> None:
    plain = export(source, tmp_path / "plain.jsonl")
    assert b"secret-site-a" not in plain and b"whsec-site-a" not in plain
    for row in records(plain)[1:]:
        assert "api_secret" not in row["data"] and "secret" not in row["data"]
    assert records(plain)[0]["secrets"] is False
    full = export(source, tmp_path / "full.jsonl", "--include-secrets")
    assert b'"api_secret":"secret-site-a"' in full and b'"secret":"whsec-site-a"' in full

    # Restored without them, tenants and endpoints get new secrets, and the output says so.
    target = sqlite_at(tmp_path / "target.db")
    result = load(target, tmp_path / "plain.jsonl")
    assert result.exit_code == 0
    stored = snapshot(target)
    secret_at = list(tenants.c.keys()).index("api_secret")
    hook_secret_at = list(webhook_endpoints.c.keys()).index("secret")
    assert all(len(r[secret_at]) >= 32 and not r[secret_at].startswith("secret-")
               for r in stored["tenants"])
    assert all(not r[hook_secret_at].startswith("whsec-") for r in stored["webhook_endpoints"])
    # Shown once, as when they are made.
    for row in stored["tenants"]:
        assert f"  tenant {row[0]}: the archive has no secret for it; its new one: " \
               f"{row[secret_at]}" in result.output
    for row in stored["webhook_endpoints"]:
        assert f"  webhook {row[0]}: the archive has no secret for it; its new one: " \
               f"{row[hook_secret_at]}" in result.output
    # With them, they come back as they were.
    restored = sqlite_at(tmp_path / "restored.db")
    assert load(restored, tmp_path / "full.jsonl").exit_code == 0
    assert {r[secret_at] for r in snapshot(restored)["tenants"]} == {"secret-site-a",
                                                                     "secret-site-b"}


async def _listing(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/comment-image-chats/demo", params={"urlId": "img-1"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_made_through_the_api_restored_the_api_serves_it_and_clients_resync(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    conversation = await create_conversation(client, x=12.5, y=87.25, region={
        "shape": "rect", "x": 12.5, "y": 87.25, "w": 10, "h": 5})
    thread = conversation["chat"]["windowUrlId"]
    reply = await client.post("/comments/demo", params={"urlId": thread}, json={
        "comment": "a reply", "commenterName": "Bo", "anonUserId": "anon-bo-0001",
        "parentId": conversation["comment"]["_id"]})
    assert reply.status_code == 200, reply.text
    voted = await client.post(f"/comments/demo/{conversation['comment']['_id']}/vote",
                              params={"urlId": thread},
                              json={"voteDir": "up", "anonUserId": "anon-bo-0001"})
    assert voted.status_code == 200, voted.text
    reacted = await client.post(f"/comments/demo/{conversation['comment']['_id']}/reactions",
                                json={"emoji": "👍", "on": True, "anonUserId": "anon-bo-0001"})
    assert reacted.status_code == 200, reacted.text
    before = await _listing(client)
    comments_before = (await client.get("/comments/demo", params={"urlId": thread})).json()

    archive = tmp_path / "api.jsonl"
    # CliRunner runs its own event loop: keep it off this test's loop.
    await asyncio.to_thread(export, database_url, archive)
    target = sqlite_at(tmp_path / "restored.db")
    loaded = await asyncio.to_thread(load, target, archive)
    assert loaded.exit_code == 0, loaded.output

    restored = create_app(Settings(database_url=target))
    async with restored.router.lifespan_context(restored), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=restored), base_url="http://testserver"
    ) as other:
        after = await _listing(other)
        assert after["conversations"] == before["conversations"]
        assert after["seq"] == before["seq"] > 0
        assert after["epoch"] != before["epoch"]
        comments_after = (await other.get("/comments/demo", params={"urlId": thread})).json()
        assert comments_after["comments"] == comments_before["comments"]
        # A client that resumes with the old epoch is told to reload.
        resumed = (await other.get("/events/demo", params={
            "urlId": "img-1", "since": before["seq"], "epoch": before["epoch"]})).json()
        assert resumed["resyncRequired"] is True
        # Writing goes on from the kept seq.
        await create_conversation(other, x=50, y=50)
        assert (await _listing(other))["seq"] > before["seq"]
