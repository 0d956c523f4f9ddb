"""Resuming a client from the last `seq` it applied (docs/protocol.md, "Order and resume"):
all or nothing.

While the client's missed events are read from the log, live events for it are parked on
its subscription (`Channel.receivers`). Then the log's events go out, then the parked ones
newer than the last replayed seq, and the subscription turns live (`Channel.caught_up`).
Every event is sent once, in order. When the log cannot cover the gap (trimmed, other
epoch, a seq from the future) the client gets `resync-required` instead and reloads its
state.
"""

from __future__ import annotations

from collections import Counter

import orjson

from imagechat.live.channel import Channel
from imagechat.live.frames import text_frame
from imagechat.live.subscriber import Subscriber
from imagechat.services.history import HistoryService


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
    history: HistoryService, stats: Counter[str], sub: Subscriber, channel: Channel,
    since: int, epoch: str | None,
) -> None:
    """Replay to `sub`, subscribed to `channel` as catching up, every event after `since`."""
    tenant = sub.tenant
    assert tenant is not None
    sent = since
    possible = not (epoch and channel.epoch and epoch != channel.epoch)
    while possible and not sub.closing:
        page = await history.since(tenant, channel.url_id, sent, epoch)
        if page.resync_required:
            possible = False
            break
        for event in page.events:
            sub.write(text_frame(event.data.encode()))
            sent = event.seq
        stats["events_replayed"] += len(page.events)
        if not page.has_more:
            break
    if sub.closing:
        return  # disconnected meanwhile
    # The log may be ahead of this node's stream (events not yet received from the
    # broker); those must not reach the client a second time when they do arrive.
    parked = channel.caught_up(sub, sent if possible else None)
    if parked is None:
        return  # left meanwhile
    if not possible:
        stats["resyncs_refused"] += 1
        sub.write(text_frame(resync_required(channel)))
        return
    stats["resyncs_served"] += 1
    for seq, payload in parked:
        if seq > sent:
            # A live event that waited for the replay: counted as delivered now.
            if sub.write(text_frame(payload)):
                stats["events_delivered"] += 1
            sent = seq
    sub.write(_resumed_frame(channel, sent))
