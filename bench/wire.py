"""Scenario 4: bytes on the wire of one `new-image-chat` frame (and, for context, the
`new-comment` frame that a conversation's first message adds).

A realistic urlId (a news article's photo URL) and a UUID broadcastId; the frame is
captured by a subscriber: WebSocket header + payload (server frames carry no mask).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson

from bench.clients import ClientPool
from bench.config import Config
from bench.peers import READY_TIMEOUT_SECS, specs_for
from bench.publishers import PostPublisher
from bench.servers import Lab

REALISTIC_URL_ID = "https://www.example-news.com/2024/06/harbour-festival/photos/DSC_0412.jpg"


async def frame_size(lab: Lab, config: Config) -> dict[str, Any]:
    server = lab.imagechat(lab.sqlite_url())
    pool = ClientPool(specs_for(server, "imagechat", 1, 1, "wire", url_id=REALISTIC_URL_ID))
    publisher = PostPublisher(server.base_url, REALISTIC_URL_ID)
    try:
        await pool.wait_ready(READY_TIMEOUT_SECS)
        await publisher.publish(str(uuid.uuid4()))
        publisher.with_comment = True
        await publisher.publish(str(uuid.uuid4()))
        await asyncio.sleep(0.5)
        report = pool.report()[0]
        sizes: dict[str, Any] = {}
        for (header, length), payload in zip(report["wire"], report["payloads"], strict=True):
            event = orjson.loads(payload)
            kind = event.get("type")
            if kind in ("new-image-chat", "new-comment") and kind not in sizes:
                sizes[kind] = {"header_bytes": header, "payload_bytes": length,
                               "frame_bytes": header + length,
                               "payload": payload.decode()}
        created = sizes.get("new-image-chat")
        if created is not None:
            clean = orjson.loads(created["payload"])["chat"]["urlId"]
            sizes["url_id"] = clean
            sizes["url_id_bytes"] = len(clean.encode())
        return sizes
    finally:
        await publisher.close()
        pool.close()
        lab.stop(server)
