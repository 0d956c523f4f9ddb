"""Bounds of the live endpoint, each with the memory or time it costs."""

from __future__ import annotations

from dataclasses import dataclass

from imagechat.rate_limit.base import Rate

# Default burst of client messages: twice the default channel bound, so a page can join
# every image it may watch and do it once more (a resync of each) without pause.
CLIENT_MESSAGES_BURST = 200


@dataclass(frozen=True, slots=True)
class LiveLimits:
    # Largest message a client may send (they send small JSON operations only).
    max_message_bytes: int = 16 * 1024
    # Unsent bytes a connection may accumulate before it is closed as a slow consumer
    # (4001). Worst-case memory per stuck connection; about 1,000 typical events.
    max_send_buffer: int = 512 * 1024
    # Images one connection may watch at once (a page with many images shares a socket).
    max_channels_per_connection: int = 100
    # Connections one client address may hold open on this node (4429); 0: no bound. A
    # connection costs a few KiB idle and up to max_send_buffer when its client stalls.
    max_connections_per_address: int = 100
    # Messages (join, leave, resync, pings) a connection may send: a burst of this
    # many, then this many per second (4429 past it). Each join or resync may read history
    # from the database, so a client looping on them would load it for everyone.
    client_messages_burst: int = CLIENT_MESSAGES_BURST
    client_messages_per_sec: float = 5.0
    # Send a ping to a connection silent for this long (reference clients ping every 25 s).
    heartbeat_interval_secs: float = 25.0
    # Close a connection that has sent nothing, not even a pong, for this long (4408).
    idle_timeout_secs: float = 75.0
    # How long events that arrived out of order wait for the missing ones before the hub
    # fetches them from the event log.
    gap_wait_secs: float = 0.1
    # Presence changes of a channel are coalesced into one `p-u` event per this interval.
    presence_interval_secs: float = 0.5
    # How often the hub compares each watched channel's seq with the database. Catches an
    # event that was committed but never published (its writer died in between).
    audit_interval_secs: float = 3.0
    # History bounds (events per channel, age) and how often they are applied.
    history_max_events: int = 10_000
    history_max_age_ms: int = 7 * 24 * 3_600_000
    history_trim_secs: float = 60.0
    # Usage counters are written to the database this often (and at shutdown).
    meter_flush_secs: float = 10.0

    @property
    def client_message_rate(self) -> Rate:
        return Rate(self.client_messages_burst,
                    self.client_messages_burst / self.client_messages_per_sec)
