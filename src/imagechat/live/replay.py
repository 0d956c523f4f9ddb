"""Resuming a client from the last `seq` it applied (SPEC §4): all or nothing.

While the client's missed events are read from the log, live events for it are parked on
its subscription. Then the log's events go out, then the parked ones newer than the last
replayed seq, and the subscription turns live. Every event is sent once, in order. When
the log cannot cover the gap (trimmed, other epoch, a seq from the future) the client gets
`resync-required` instead and reloads its state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from imagechat.live.channel import Channel
from imagechat.live.frames import text_frame

if TYPE_CHECKING:
    from imagechat.live.connection import LiveConnection
    from imagechat.live.hub import Hub


def resync_required(channel: Channel) -> bytes:
    return orjson.dumps({
        "type": "resync-required", "urlId": channel.url_id, "seq": channel.last_seq,
        "epoch": channel.epoch,
    })


def _resumed_frame(channel: Channel, seq: int) -> bytes:
    return text_frame(orjson.dumps({
        "type": "resumed", "urlId": channel.url_id, "seq": seq, "epoch": channel.epoch,
    }))


async def resume(
    hub: Hub, conn: LiveConnection, channel: Channel, since: int, epoch: str | None
) -> None:
    tenant = conn.tenant
    assert tenant is not None
    sent = since
    possible = not (epoch and channel.epoch and epoch != channel.epoch)
    while possible and not conn.closing:
        page = await hub.services.history.since(tenant, channel.url_id, sent, epoch)
        if page.resync_required:
            possible = False
            break
        for event in page.events:
            conn.write(text_frame(event.data.encode()))
            sent = event.seq
        hub.stats["events_replayed"] += len(page.events)
        if not page.has_more:
            break
    if channel.subscribers.get(conn, False) is False or conn.closing:
        return  # left or disconnected meanwhile
    state = channel.subscribers[conn]
    parked = state if isinstance(state, list) else []
    # The log may be ahead of this node's stream (events not yet received from the
    # broker); those must not reach the client a second time when they do arrive.
    channel.subscribers[conn] = sent if possible and sent > channel.last_seq else None
    if not possible:
        hub.stats["resyncs_refused"] += 1
        conn.write(text_frame(resync_required(channel)))
        return
    hub.stats["resyncs_served"] += 1
    for seq, payload in parked:
        if seq > sent:
            # A live event that waited for the replay: counted as delivered now.
            if conn.write(text_frame(payload)):
                hub.stats["events_delivered"] += 1
            sent = seq
    conn.write(_resumed_frame(channel, sent))
