"""Bounds of the live endpoint, each with the memory or time it costs.

Those an operator may set come from `Settings`, where their defaults and meanings are
written once; the rest are fixed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagechat.rate_limit.base import Rate
from imagechat.settings import Settings

HOUR_MS = 3_600_000
# The least burst of client messages: twice the default channel bound, so a page can join
# every image it may watch and do it once more (a resync of each) without pause.
CLIENT_MESSAGES_BURST = 200


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def message_burst_for(max_channels: int) -> int:
    """A page may join all its images at once, and again after a resync."""
    return max(CLIENT_MESSAGES_BURST, 2 * max_channels)


@dataclass(frozen=True, slots=True)
class LiveLimits:
    # Largest message a client may send (they send small JSON operations only).
    max_message_bytes: int = 16 * 1024
    # IMAGECHAT_WS_MAX_SEND_BUFFER: unsent bytes a connection may accumulate before it is
    # closed as a slow consumer (4001); the worst-case memory of one stuck connection.
    max_send_buffer: int = _default("ws_max_send_buffer")
    # IMAGECHAT_WS_MAX_CHANNELS: images one connection may watch at once (4413).
    max_channels_per_connection: int = _default("ws_max_channels")
    # IMAGECHAT_WS_MAX_CONNECTIONS_PER_IP: connections one client address may hold open on
    # this node (4429); 0: no bound.
    max_connections_per_address: int = _default("ws_max_connections_per_ip")
    # Messages (join, leave, resync, pings) a connection may send: a burst of this
    # many, then this many per second (4429 past it). Each join or resync may read history
    # from the database, so a client looping on them would load it for everyone.
    client_messages_burst: int = message_burst_for(_default("ws_max_channels"))
    client_messages_per_sec: float = 5.0
    # IMAGECHAT_WS_HEARTBEAT_SECS, IMAGECHAT_WS_IDLE_TIMEOUT_SECS: ping a connection silent
    # for the first; close one that has sent nothing, not even a pong, for the second (4408).
    heartbeat_interval_secs: float = _default("ws_heartbeat_secs")
    idle_timeout_secs: float = _default("ws_idle_timeout_secs")
    # How long events that arrived out of order wait for the missing ones before the hub
    # fetches them from the event log.
    gap_wait_secs: float = 0.1
    # Presence changes of a channel are coalesced into one `p-u` event per this interval.
    presence_interval_secs: float = 0.5
    # How often the hub compares each watched channel's seq with the database. Catches an
    # event that was committed but never published (its writer died in between).
    audit_interval_secs: float = 3.0
    # IMAGECHAT_HISTORY_*: history bounds (events per channel, age), applied this often.
    history_max_events: int = _default("history_max_events")
    history_max_age_ms: int = int(_default("history_max_age_hours") * HOUR_MS)
    history_trim_secs: float = 60.0
    # Usage counters are written to the database this often (and at shutdown).
    meter_flush_secs: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveLimits:
        return cls(
            max_send_buffer=settings.ws_max_send_buffer,
            max_channels_per_connection=settings.ws_max_channels,
            heartbeat_interval_secs=settings.ws_heartbeat_secs,
            idle_timeout_secs=settings.ws_idle_timeout_secs,
            max_connections_per_address=settings.ws_max_connections_per_ip,
            client_messages_burst=message_burst_for(settings.ws_max_channels),
            history_max_events=settings.history_max_events,
            history_max_age_ms=int(settings.history_max_age_hours * HOUR_MS),
        )

    @property
    def client_message_rate(self) -> Rate:
        return Rate(self.client_messages_burst,
                    self.client_messages_burst / self.client_messages_per_sec)
