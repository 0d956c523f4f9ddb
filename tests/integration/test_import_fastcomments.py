"""`imagechat import-fastcomments`: a few thousand generated comments in the reference's
APIComment shape, with bad rows mixed in, loaded twice on each database."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from imagechat.app import create_app
from imagechat.cli import app as cli
from imagechat.domain.clock import iso_from_ms
from imagechat.settings import Settings
from imagechat.store.tables import channels, comments, conversations, pages
from tests.conftest import _empty_postgres

runner = CliRunner()
T0 = 1_700_000_000_000
PAGES = [f"https://site.example/blog/{i}" for i in range(40)]
# Threads of the reference widget's conversations: {urlId}:{src}:{x}:{y}.
POINTS = [(f"/img/{k % 3}.png", round(3.5 + k * 3.1, 1), float(10 + k)) for k in range(30)]
THREADS = [f"site.example/gallery:{src}:{x}:{y}" for src, x, y in POINTS]
GOOD = 3000


def generate(rng: random.Random) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    by_thread: dict[str, list[str]] = {}
    for n in range(GOOD):
        url_id = rng.choice(PAGES + THREADS)
        siblings = by_thread.setdefault(url_id, [])
        date = T0 + n * 1000
        row: dict[str, Any] = {
            "id": f"fc{n:08d}", "tenantId": "the-old-tenant-id", "urlId": url_id,
            "url": "https://site.example/page", "commenterName": f"Writer {n % 17}",
            "comment": f"comment {n} <b>bold</b>", "commentHTML": "<p>ignored</p>",
            # Half in APIComment's epoch ms, half in the public shape's ISO 8601.
            "date": date if n % 2 else iso_from_ms(date), "verified": n % 5 == 0,
            "approved": True, "locale": "en_us", "votesUp": n % 4, "votesDown": n % 3,
            "parentId": rng.choice(siblings) if siblings and rng.random() < 0.3 else None,
        }
        if n % 3 == 0:
            row["userId"] = f"user-{n % 11}"
        else:
            row["anonUserId"] = f"anon-{n % 13}"
        if n % 7 == 0:
            row["pageTitle"] = f"Title of {url_id}"
        rows.append(row)
        siblings.append(row["id"])
    return rows


BAD = [
    ({"urlId": PAGES[0], "comment": "no id", "date": T0}, "`id` is required"),
    ({"id": "bad-date", "urlId": PAGES[0], "comment": "x", "date": "yesterday"},
     "not an ISO 8601 time"),
    ({"id": "orphan", "urlId": PAGES[0], "comment": "x", "date": T0, "parentId": "nowhere"},
     "neither in the file nor stored"),
    ({"id": "orphan-child", "urlId": PAGES[0], "comment": "x", "date": T0,
      "parentId": "orphan"}, "its parent 'orphan' was not loaded"),
    ({"id": "too-long", "urlId": PAGES[0], "comment": "x" * 5001, "date": T0}, "limit is 5000"),
    (42, "not a JSON object"),
    ("{broken", "not JSON"),
    ({"id": "fc00000001", "urlId": PAGES[1], "comment": "again", "date": T0},
     "is already on line"),
]


def write_json_lines(path: Path, rows: list[Any]) -> dict[int, str]:
    """The file, with the bad rows spread through it; returns line -> expected reason."""
    lines = [json.dumps(r) for r in rows]
    expected: dict[int, str] = {}
    for k, (bad, _) in enumerate(BAD):
        lines.insert(100 + k * 300, bad if isinstance(bad, str) else json.dumps(bad))
    for number, line in enumerate(lines, start=1):
        for bad, reason in BAD:
            text = bad if isinstance(bad, str) else json.dumps(bad)
            if line == text:
                expected[number] = reason
    path.write_text("\n".join(lines) + "\n")
    return expected


async def snapshot(url: str, tenant: str) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    found = {}
    try:
        async with engine.connect() as conn:
            for table in (comments, conversations, pages, channels):
                rows = await conn.execute(sa.select(table).where(table.c.tenant_id == tenant))
                found[table.name] = sorted(tuple(r) for r in rows)
    finally:
        await engine.dispose()
    return found


def _import(path: Path, tenant: str, url: str) -> Any:
    return runner.invoke(cli, ["import-fastcomments", str(path), "--tenant", tenant,
                               "--database-url", url])


@pytest.fixture
def fresh_url(database_url: str) -> str:
    if database_url.startswith("postgresql"):
        asyncio.run(_empty_postgres(database_url))
    return database_url


def test_import_loads_threads_twice_without_change_and_names_bad_rows(
    tmp_path: Path, fresh_url: str
) -> None:
    tenant = f"site-{secrets.token_hex(3)}"
    assert runner.invoke(cli, ["migrate", "--database-url", fresh_url]).exit_code == 0
    created = runner.invoke(cli, ["tenant", "create", "Site", "--id", tenant,
                                  "--database-url", fresh_url])
    assert created.exit_code == 0, created.output
    rows = generate(random.Random(7))
    dump = tmp_path / "comments.jsonl"
    expected_bad = write_json_lines(dump, rows)
    assert len(expected_bad) == len(BAD)

    first = _import(dump, tenant, fresh_url)
    assert first.exit_code == 1, first.output  # bad rows: said so, the rest loaded
    assert f"{GOOD} comments loaded, 0 already there, {len(THREADS)} conversations made, " \
           f"{len(BAD)} bad rows." in first.output
    for line, reason in expected_bad.items():
        assert any(out.startswith(f"  line {line}: ") and reason in out
                   for out in first.output.splitlines()), (line, reason, first.output)
    before = asyncio.run(snapshot(fresh_url, tenant))

    second = _import(dump, tenant, fresh_url)
    assert f"0 comments loaded, {GOOD} already there, 0 conversations made" in second.output
    assert asyncio.run(snapshot(fresh_url, tenant)) == before

    secret = created.output.split("API secret:")[1].split()[0]
    asyncio.run(_check_through_the_api(fresh_url, tenant, secret, rows))


async def _check_through_the_api(
    url: str, tenant: str, secret: str, rows: list[dict[str, Any]]
) -> None:
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        listing = (await client.get(f"/comment-image-chats/{tenant}",
                                    params={"urlId": "site.example/gallery"})).json()
        by_thread = {c["urlId"]: c for c in listing["conversations"]}
        assert set(by_thread) == set(THREADS)
        for thread, (src, x, y) in zip(THREADS, POINTS, strict=True):
            in_file = [r for r in rows if r["urlId"] == thread]
            conversation = by_thread[thread]
            assert (conversation["x"], conversation["y"], conversation["src"]) == (x, y, src)
            assert conversation["commentCount"] == len(in_file)
            page = (await client.get(f"/comments/{tenant}",
                                     params={"urlId": thread, "count": 200})).json()
            # Oldest first, as written; parents, authors, votes and dates kept.
            assert [c["_id"] for c in page["comments"]] == [r["id"] for r in in_file][:200]
            for got, want in zip(page["comments"], in_file, strict=False):
                assert got["parentId"] == want["parentId"]
                assert got["userId"] == want.get("userId")
                assert got["anonUserId"] == want.get("anonUserId")
                assert (got["votesUp"], got["votesDown"]) == (want["votesUp"],
                                                              want["votesDown"])
                assert got["date"] == iso_from_ms(T0 + int(want["id"][2:]) * 1000)
                assert got["chatId"] == conversation["_id"]
        blog = (await client.get(f"/comments/{tenant}", params={"urlId": PAGES[3]})).json()
        assert blog["commentCount"] == sum(1 for r in rows if r["urlId"] == PAGES[3])
        assert blog["urlIdWS"] == "site.example/blog/3"
        listed = (await client.get("/api/v1/pages", params={"tenantId": tenant},
                                   headers={"X-API-Key": secret})).json()["pages"]
        counts = {p["urlId"]: (p["commentCount"], p["rootCommentCount"]) for p in listed}
        for thread in {r["urlId"] for r in rows}:
            in_file = [r for r in rows if r["urlId"] == thread]
            key = thread.replace("https://", "")
            assert counts[key] == (len(in_file), sum(1 for r in in_file if not r["parentId"]))


def test_a_json_array_dump_reports_the_line_of_each_item(tmp_path: Path, sqlite_url: str) -> None:
    runner.invoke(cli, ["migrate", "--database-url", sqlite_url])
    runner.invoke(cli, ["tenant", "create", "Site", "--id", "site", "--database-url",
                        sqlite_url])
    items = [{"id": "a1", "urlId": "p", "comment": "one", "date": T0},
             {"id": "a2", "urlId": "p", "comment": "two", "date": "soon"},
             {"id": "a3", "urlId": "p", "comment": "three", "date": T0 + 1, "parentId": "a1"}]
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(items, indent=2))
    result = _import(dump, "site", sqlite_url)
    assert "2 comments loaded" in result.output
    # Indented, the first item takes lines 2 to 7; the second starts on line 8.
    assert "line 8: `date` 'soon' is not an ISO 8601 time" in result.output
    unknown = _import(dump, "nobody", sqlite_url)
    assert unknown.exit_code == 1 and "No site with tenant id 'nobody'" in unknown.output
