"""Scenario 3: server RSS per idle connection.

RSS of the server process (psutil, by PID) after start-up and one warm-up connection, then
after N idle subscribers (all on one image) are connected and have had their first event,
and a settling pause: (after - before) / N. Subscribers run in their own processes, which
raise their own open-files limit.
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect

from bench.clients import LOST
from bench.config import REFERENCE_TARGETS, Config, subscriber_target
from bench.peers import READY_TIMEOUT_SECS, Peer
from bench.servers import Lab

KIB = 1024


async def rss_per_idle_connection(lab: Lab, kind: str, config: Config) -> dict[str, Any]:
    peer = Peer.start(lab, kind, config, "memory")
    pool = None
    try:
        await _warm_up(peer)
        await asyncio.sleep(config.settle_secs)
        before = peer.server.rss_bytes()
        pool = peer.subscribers(config.idle_connections, config.client_processes, "count")
        await pool.wait_ready(READY_TIMEOUT_SECS)
        await asyncio.sleep(config.settle_secs)
        after = peer.server.rss_bytes()
        return {
            "connections": pool.count,
            "rss_before_mib": round(before / KIB / KIB, 1),
            "rss_after_mib": round(after / KIB / KIB, 1),
            "kib_per_connection": round((after - before) / pool.count / KIB, 2),
            "connections_lost": pool.total(LOST),
        }
    finally:
        if pool is not None:
            pool.close()
        lab.stop(peer.server)


async def _warm_up(peer: Peer) -> None:
    """One subscriber in and out, so first-use imports and caches are in the baseline."""
    target = (subscriber_target(peer.url_id) if peer.kind == "imagechat"
              else REFERENCE_TARGETS[peer.kind])
    async with connect(f"ws://127.0.0.1:{peer.server.port}{target.replace('{i}', 'warm')}",
                       compression=None) as ws:
        if peer.kind == "socketio":
            await ws.recv()
            await ws.send("40")
            await ws.recv()
        await asyncio.wait_for(ws.recv(), 10)
