"""Prometheus metrics of one app: its own registry, the live hub's counters, HTTP latency.

Each app owns a `CollectorRegistry` (never prometheus_client's global one), so several apps
in one process (tests, a multi-node lab) never mix or collide.

The live path is not instrumented through prometheus_client: the hub keeps plain integers
(`Hub.stats`, the usage meter's totals, `Hub.broker_lag`) that cost an addition where they
change, and `HubCollector` turns them into metric families only when /metrics is scraped.
Gauges (connections, subscriptions) are read from the hub's own sets at that moment.
The process (CPU, memory, file descriptors), platform (Python version) and garbage
collector figures are prometheus_client's standard collectors, in the same registry.

The outbox's figures come from the delivery worker, which reports each attempt it settles
(`observe_delivery`); its depth (pending deliveries, over all nodes: the same figure on
every node) is counted in the database when /metrics is scraped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from imagechat.live.hub import Hub
    from imagechat.services.outbox import Settled

PREFIX = "imagechat_"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Request latency buckets, in seconds: REST calls are expected in tens of milliseconds.
HTTP_BUCKETS_SECS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# One attempt of a delivery: a webhook answers within 10 s, an SMTP exchange within 30 s.
ATTEMPT_BUCKETS_SECS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# From a delivery being made to its success: at once, or after retries over up to a day.
DELIVERY_BUCKETS_SECS = (0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0,
                         86400.0)


class PublishCounter(Protocol):
    """Whatever hands committed events to the broker, counting them (app.BrokerSink)."""

    published: int


# Counters kept in `Hub.stats`: (key, which is also the metric name, help text).
_HUB_COUNTERS = (
    ("events_delivered",
     "Events handed to live sockets, once per subscriber (written now or batched)."),
    ("events_replayed", "Events sent from the event log to clients resuming with `since`."),
    ("resyncs_served", "Resumes completed from the event log (missed events replayed)."),
    ("resyncs_refused",
     "Resumes answered with resync-required (history trimmed, other epoch, bad seq)."),
    ("slow_consumer_disconnects",
     "Live connections closed with 4001 because their send buffer overflowed."),
)


class HubCollector(Collector):
    """Reads the live hub's state and counters when the registry is collected."""

    def __init__(self) -> None:
        self.hub: Hub | None = None
        self.sink: PublishCounter | None = None

    def collect(self) -> Iterable[Metric]:
        hub, sink = self.hub, self.sink
        if sink is not None:
            yield _counter("events_published",
                           "Events this node published to the broker after their commit.",
                           sink.published)
        if hub is None:
            return
        yield _gauge("live_connections", "Admitted live WebSocket connections on this node.",
                     len(hub.connections))
        yield _gauge("live_channels", "Images with at least one subscriber on this node.",
                     len(hub.channels))
        yield _gauge("channel_subscriptions",
                     "Subscriptions of this node's connections, summed over images.",
                     sum(len(channel.subscribers) for channel in hub.channels.values()))
        for key, help_text in _HUB_COUNTERS:
            yield _counter(key, help_text, hub.stats[key])
        yield _counter("frames_sent", "Event and presence frames written to live sockets "
                       "(what usage metering counts).", hub.meter.frames_total)
        yield _counter("bytes_sent", "Bytes of those frames.", hub.meter.bytes_total)
        lag = hub.broker_lag
        family = HistogramMetricFamily(
            PREFIX + "broker_lag_seconds",
            "Seconds from an event's creation to its arrival at this node from the broker.")
        family.add_metric([], [(_le(bound), n) for bound, n in lag.cumulative()],
                          lag.sum)
        yield family


class OutboxDepthCollector(Collector):
    def __init__(self) -> None:
        # Pending deliveries by kind, as last counted (`Metrics.outbox_depth`).
        self.depth: dict[str, int] = {}

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            PREFIX + "outbox_depth",
            "Deliveries waiting in the outbox (all nodes'), by kind.", labels=["kind"])
        for kind, count in sorted(self.depth.items()):
            family.add_metric([kind], count)
        yield family


class Metrics:
    """One app's metrics: the registry /metrics renders and what feeds it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.hub_collector = HubCollector()
        self.registry.register(self.hub_collector)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.outbox_collector = OutboxDepthCollector()
        self.registry.register(self.outbox_collector)
        self.outbox_attempts = Counter(
            PREFIX + "outbox_attempts", "Delivery attempts (webhooks, emails) by kind and "
            "result: delivered, retry (failed, tried again later) or failed (given up).",
            ["kind", "result"], registry=self.registry)
        self.outbox_failures = Counter(
            PREFIX + "outbox_failures", "Deliveries given up (marked failed), by kind.",
            ["kind"], registry=self.registry)
        self.outbox_attempt_duration = Histogram(
            PREFIX + "outbox_attempt_duration_seconds",
            "Time one delivery attempt took, by kind.", ["kind"],
            buckets=ATTEMPT_BUCKETS_SECS, registry=self.registry)
        self.outbox_delivery_latency = Histogram(
            PREFIX + "outbox_delivery_latency_seconds",
            "Time from a delivery being made to its success, by kind.", ["kind"],
            buckets=DELIVERY_BUCKETS_SECS, registry=self.registry)
        self.http_latency = Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time to answer HTTP requests, by method, route template and status code.",
            ["method", "route", "status"], buckets=HTTP_BUCKETS_SECS, registry=self.registry,
        )

    def watch(self, hub: Hub, sink: PublishCounter) -> None:
        """Called once the lifespan has built the hub and the broker sink."""
        self.hub_collector.hub = hub
        self.hub_collector.sink = sink

    def observe_delivery(self, settled: Settled, now_ms: int) -> None:
        """The delivery worker settled one attempt."""
        kind = settled.delivery.kind
        result = settled.final_status or "retry"
        self.outbox_attempts.labels(kind, result).inc()
        self.outbox_attempt_duration.labels(kind).observe(settled.latency_secs)
        if result == "delivered":
            self.outbox_delivery_latency.labels(kind).observe(
                max(0.0, (now_ms - settled.delivery.created_at) / 1000))
        elif result == "failed":
            self.outbox_failures.labels(kind).inc()

    @property
    def outbox_depth(self) -> dict[str, int]:
        return self.outbox_collector.depth

    @outbox_depth.setter
    def outbox_depth(self, depth: dict[str, int]) -> None:
        self.outbox_collector.depth = depth

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


def _counter(name: str, help_text: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, help_text, value=value)


def _gauge(name: str, help_text: str, value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, help_text, value=value)


def _le(bound: float) -> str:
    """A bucket's `le` label as Prometheus writes it."""
    return "+Inf" if math.isinf(bound) else str(bound)
