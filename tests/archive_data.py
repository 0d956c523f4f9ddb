"""A generated tenant with a row in every table the archive holds, written straight into the
database (the archive tests and `bench/archive_memory.py`). Values go to the edges the
archive must carry unchanged: unicode, floats with long fractions, NULLs, thumbnails,
replies, resolved conversations, carried positions, locked channels."""

from __future__ import annotations

import json
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from imagechat.store import tables as t

T0 = 1_700_000_000_000
# Rows per INSERT statement while generating.
CHUNK = 1000


Rows = dict[sa.Table, list[dict[str, Any]]]


def tenant_rows(tenant_id: str, conversations: int, seed: int = 1) -> Rows:
    rng = random.Random(f"{seed}:{tenant_id}")
    rows: Rows = {table: [] for table in (
        t.tenants, t.users, t.channels, t.image_versions, t.conversations,
        t.conversation_positions, t.pages, t.comments, t.votes, t.reactions, t.follows,
        t.notifications, t.bans, t.moderation_log, t.webhook_endpoints, t.email_bounces,
        t.usage, t.annotation_documents)}
    rows[t.tenants].append({
        "id": tenant_id, "name": f"Site {tenant_id} — café", "api_secret": f"secret-{tenant_id}",
        "allow_anonymous": True, "allow_simple_sso": seed % 2 == 0,
        "allowed_origins": json.dumps(["https://site.example"]), "created_at": T0,
        "visitors_resolve": True, "emails_enabled": False,
    })
    for u in range(5):
        rows[t.users].append({
            "id": f"{tenant_id}-user-{u}", "tenant_id": tenant_id, "kind": "sso",
            "external_id": f"ext-{u}", "display_name": f"Zoë {u}",
            "email": f"u{u}@site.example" if u % 2 else None, "avatar": None,
            "is_admin": u == 0, "is_moderator": u == 1, "created_at": T0 + u,
            "last_seen_at": T0 + 10_000 + u, "locale": "pl" if u == 2 else None,
            "email_notifications": u != 3,
        })
    images = max(1, conversations // 20)
    for i in range(images):
        url_id = f"site.example/img/{i}.png"
        rows[t.channels].append({
            "tenant_id": tenant_id, "url_id": url_id, "seq": 40 + i, "epoch": "e" * 16,
            "locked": i == 0, "created_at": T0, "updated_at": T0 + 99 + i,
        })
        for v in (1, 2):
            rows[t.image_versions].append({
                "tenant_id": tenant_id, "url_id": url_id, "version": v,
                "src": f"https://site.example/img/{i}-v{v}.png",
                "content_hash": f"{i:02d}{v:02d}".ljust(64, "a"), "width": 800, "height": 600,
                "thumbnail": rng.randbytes(300) if v == 1 else None,
                "etag": '"abc"' if v == 2 else None, "last_modified": None,
                "checked_at": T0 + 5, "fetch_error": None if v == 1 else "image-fetch-failed",
                "carried_same": v - 1, "carried_changed": 0, "carried_lost": 0,
                "created_at": T0 + v,
            })
    comment_n = 0
    for c in range(conversations):
        chat_id = f"{tenant_id[:6]}c{c:010d}"
        url_id = f"site.example/img/{c % images}.png"
        x, y = rng.random() * 90, rng.uniform(0, 90)
        window = f"{url_id}:/img.png:{x}:{y}"
        region = c % 3 == 0
        rows[t.conversations].append({
            "id": chat_id, "tenant_id": tenant_id, "url_id": url_id, "window_url_id": window,
            "page_url": "https://site.example/page", "page_title": "Page ✓", "src": "/img.png",
            "x": x, "y": y, "comment_count": 3, "resolved": c % 4 == 0,
            "resolved_by": "Zoë 1" if c % 4 == 0 else None,
            "resolved_at": T0 + c if c % 4 == 0 else None,
            "user_id": f"ext-{c % 5}" if c % 2 else None,
            "anon_user_id": None if c % 2 else f"anon-{c}", "commenter_name": "Ann",
            "edit_key_hash": None if c % 2 else "f" * 64, "created_at": T0 + c * 10,
            "updated_at": T0 + c * 10 + 5, "region_w": 5.5 if region else None,
            "region_h": 1 / 3 if region else None, "version": 1,
        })
        rows[t.conversation_positions].append({
            "chat_id": chat_id, "version": 2, "tenant_id": tenant_id, "url_id": url_id,
            "x": x + 0.125, "y": y, "region_w": None, "region_h": None,
            "carry": ("same", "changed", "lost", "moved")[c % 4], "updated_at": T0 + c,
        })
        rows[t.pages].append({
            "id": f"{tenant_id[:6]}p{c:010d}", "tenant_id": tenant_id, "url_id": window,
            "url": "https://site.example/page", "title": "Page ✓", "comment_count": 3,
            "root_comment_count": 2, "created_at": T0 + c * 10, "updated_at": T0 + c * 10 + 2,
        })
        first = None
        for k in range(3):
            comment_id = f"{tenant_id[:6]}m{comment_n:010d}"
            comment_n += 1
            rows[t.comments].append({
                "id": comment_id, "tenant_id": tenant_id, "url_id": window,
                "url": "https://site.example/page", "parent_id": first if k == 2 else None,
                "commenter_name": "Ann" if k else "Zoë 2",
                "comment": f"line {k}\n<b>“quoted”</b> 👍 \\ end",
                "comment_html": f"<p>line {k}</p>", "user_id": None if k else "ext-2",
                "anon_user_id": f"anon-{c}" if k else None, "avatar": None,
                "verified": k == 0, "approved": True, "is_by_admin": False,
                "is_by_moderator": k == 1, "votes_up": 1, "votes_down": 0,
                "edit_key_hash": "e" * 64 if k else None,
                "mentions": json.dumps([{"id": "ext-1", "tag": "@Zoë 1"}]) if k == 1 else "[]",
                # A reply written in the same millisecond as its parent: order by id too.
                "created_at": T0 + c * 10 + (k if k < 2 else 1), "updated_at": T0 + c * 10 + k,
            })
            first = first or comment_id
            rows[t.votes].append({
                "id": f"{comment_id}v", "tenant_id": tenant_id, "comment_id": comment_id,
                "voter_key": "u:ext-1", "user_id": "ext-1", "anon_user_id": None,
                "direction": 1, "created_at": T0 + c,
            })
            rows[t.reactions].append({
                "comment_id": comment_id, "emoji": "🎉", "voter_key": f"a:anon-{c}",
                "tenant_id": tenant_id, "created_at": T0 + c,
            })
        if c % 5 == 0:  # made through the annotation server, with what its client sent
            rows[t.annotation_documents].append({
                "tenant_id": tenant_id, "id": chat_id, "url_id": url_id, "updated_at": T0 + c,
                "document": json.dumps({"canonical": f"urn:uuid:{chat_id}",
                                        "creator": {"type": "Person", "name": "Zoë 2"}},
                                       ensure_ascii=False)})
        rows[t.follows].append({
            "tenant_id": tenant_id, "url_id": window, "user_key": "u:ext-2",
            "url": "https://site.example/page", "page_title": "Page ✓", "created_at": T0 + c,
        })
        rows[t.notifications].append({
            "id": f"{tenant_id[:6]}n{c:010d}", "tenant_id": tenant_id, "user_key": "u:ext-2",
            "kind": "reply", "type": 0, "url_id": window, "channel_url_id": url_id,
            "chat_id": chat_id, "comment_id": first, "url": "https://site.example/page",
            "page_title": "Page ✓", "from_user_id": None, "from_name": "Ann",
            "from_avatar": None, "context": "line 1", "viewed": c % 2 == 0,
            "created_at": T0 + c, "emailed_at": None,
        })
    rows[t.bans].append({"tenant_id": tenant_id, "subject": "a:anon-troll", "reason": "spam",
                         "created_by": "Zoë 1", "created_at": T0 + 7})
    rows[t.moderation_log].append({
        "id": f"{tenant_id[:6]}log1", "tenant_id": tenant_id, "actor": "Zoë 1",
        "action": "ban", "target": "a:anon-troll", "detail": "", "created_at": T0 + 7})
    rows[t.webhook_endpoints].append({
        "id": f"{tenant_id[:6]}hook1", "tenant_id": tenant_id,
        "url": "https://hooks.site.example/in", "events": json.dumps(["comment.created"]),
        "secret": f"whsec-{tenant_id}", "created_at": T0 + 8, "failing_since": None,
        "disabled_at": None, "disabled_reason": ""})
    rows[t.email_bounces].append({"tenant_id": tenant_id, "address": "gone@site.example",
                                  "code": 550, "message": "no such user", "created_at": T0})
    rows[t.usage].append({"tenant_id": tenant_id, "hour": T0 - T0 % 3_600_000,
                          "pubsub_message_count": 12, "pubsub_bandwidth": 3400,
                          "conversation_create_count": conversations,
                          "comment_create_count": comment_n, "peak_viewers": 3})
    return rows


async def fill(url: str, tenant_id: str, conversations: int, seed: int = 1) -> None:
    """Write the generated tenant into a migrated database."""
    engine = create_async_engine(url)
    try:
        for table, rows in tenant_rows(tenant_id, conversations, seed).items():
            for start in range(0, len(rows), CHUNK):
                async with engine.begin() as conn:
                    await conn.execute(sa.insert(table), rows[start : start + CHUNK])
    finally:
        await engine.dispose()
