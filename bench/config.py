"""Sizes and durations of one benchmark run (full, or `--quick`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import quote

SCENARIOS = ("throughput", "latency", "memory", "wire", "batching")
PEERS = ("imagechat", "websockets", "socketio", "picows")


@dataclass
class Config:
    scenarios: tuple[str, ...] = SCENARIOS
    peers: tuple[str, ...] = PEERS
    client_processes: int = 2
    # 1. deliveries per second
    subscribers: int = 1000
    warmup_secs: float = 1.0
    throughput_secs: float = 5.0
    window_events: int = 20  # events in flight at most (per subscriber backlog)
    events_per_post: int = 2  # 2 = conversation + first comment per POST
    post_workers: int = 4  # concurrent POSTs when driving ImageChat as fast as it goes
    fanout_only: bool = True  # also ImageChat's hub alone, events injected through Redis
    posts: bool = True  # ImageChat's throughput with events from POSTs
    # Also the fan-out-only step with the app under plain uvicorn (the ASGI route of /sub).
    asgi: bool = False
    # 2. latency
    latency_rate: float = 20.0
    latency_secs: float = 10.0
    two_nodes: bool = True
    pg_control: bool = True  # also one node on PostgreSQL (what two nodes add, isolated)
    pg_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
    redis_url: str = "redis://127.0.0.1:6379/9"
    # 3. memory
    idle_connections: int = 5000
    settle_secs: float = 2.0
    # 5. batching
    batch_subscribers: int = 1000
    batch_rate: float = 1000.0  # events per second (two per POST)
    batch_secs: float = 3.0
    # Also run every ImageChat step with the package in this source tree (a checkout's
    # src/, e.g. the commit before a change), in the same run: results `<name>_baseline`.
    baseline_src: str = ""
    # Run an ImageChat step again while processes this run did not start used more than
    # this % of a core during it (at most `disturbed_attempts` in all; the quietest is
    # kept). 0: run each step once.
    disturbed_percent: float = 0.0
    disturbed_attempts: int = 4
    # Before each step, wait at most this long for other work on the machine to calm down.
    quiet_max_wait_secs: float = 45.0
    # Unique per run: Redis pub/sub topics are shared by every database of a server.
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    @classmethod
    def quick(cls) -> Config:
        return cls(subscribers=200, throughput_secs=3.0, latency_secs=4.0,
                   idle_connections=1000, settle_secs=1.0, batch_subscribers=100,
                   batch_secs=2.0, pg_control=False, quiet_max_wait_secs=0.0)

    def url_id(self, purpose: str) -> str:
        """A realistic urlId: what the widget derives from a page and an image."""
        return (f"https://www.example-news.com/2024/06/harbour-festival/{purpose}-"
                f"{self.run_id}/photos/DSC_0412.jpg")


def subscriber_target(url_id: str, *, batch: bool = False) -> str:
    target = f"/sub?urlId={quote(url_id, safe='')}&tenantIdWS=demo&userIdWS=bench-{{i}}"
    return target + "&batch=1" if batch else target


REFERENCE_TARGETS = {
    "websockets": "/sub",
    "picows": "/sub",
    "socketio": "/socket.io/?EIO=4&transport=websocket",
}
