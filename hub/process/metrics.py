"""The hub's Prometheus metrics, through prometheus-client, in a registry per app."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Seconds, from a press to the step: a few seconds to an hour.
RESPONSE_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _OpenCalls(Collector):
    """Open calls by line and call type, counted in the database at each scrape."""

    def __init__(self, count: Callable[[], list[tuple[str, str, int]]]) -> None:
        self._count = count

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "andon_hub_open_calls", "Calls not yet resolved.", labels=["line", "call_type"]
        )
        for line, call_type, count in self._count():
            family.add_metric([line, call_type], count)
        yield family


class HubMetrics:
    """Every metric of one hub; ``render()`` is the /metrics body."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series add nothing here
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages_received = Counter(
            "andon_hub_messages_received", "MQTT messages received by the hub.", registry=r
        )
        self.rejected = Counter(
            "andon_hub_messages_rejected", "Messages rejected, by reason.", ["reason"], registry=r
        )
        self.ingested = Counter(
            "andon_hub_events_ingested",
            "Valid events applied, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.ingest_lag = Histogram(
            "andon_hub_ingest_lag_seconds",
            "Hub receipt time minus the edge's press time.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "andon_hub_ingest_batch_size",
            "Messages committed together in one transaction.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=r,
        )
        self.response = Histogram(
            "andon_hub_call_response_seconds",
            "Seconds from the press to acknowledge, arrive or resolve.",
            ["step", "line", "call_type"],
            buckets=RESPONSE_BUCKETS,
            registry=r,
        )
        self.broker_connected = Gauge(
            "andon_hub_broker_connected", "1 while the hub is subscribed at the broker.", registry=r
        )
        self.broker_sessions = Counter(
            "andon_hub_broker_sessions",
            "MQTT sessions the hub's call subscriber opened: one per connect, so a reconnect"
            " adds one.",
            registry=r,
        )
        self.config_reload_ok = Gauge(
            "andon_hub_config_last_reload_ok",
            "1 if the last configuration reload succeeded (or none was tried), else 0.",
            registry=r,
        )
        self.config_reload_ok.set(1)
        self.config_reloads = Counter(
            "andon_hub_config_reloads", "Configuration reloads, by result.", ["result"], registry=r
        )
        self.timeseries_dropped = Counter(
            "andon_hub_timeseries_dropped",
            "Time-series points dropped because the export queue was full, by source.",
            ["source"],
            registry=r,
        )
        self.timeseries_written = Counter(
            "andon_hub_timeseries_written", "Time-series points written.", registry=r
        )
        self.timeseries_refused = Counter(
            "andon_hub_timeseries_refused",
            "Time-series points the database refused as malformed (not retried).",
            registry=r,
        )
        self.timeseries_write_failures = Counter(
            "andon_hub_timeseries_write_failures",
            "Time-series batch writes that failed and were retried.",
            registry=r,
        )

        self.sign_in_failures = Counter(
            "andon_hub_sign_in_failures",
            "Sign-ins refused, by reason (password: a wrong name or password; directory:"
            " the directory could not be reached).",
            ["reason"],
            registry=r,
        )
        self.sign_ins = Counter(
            "andon_hub_sign_ins", "Sign-ins that started a session, by source.", ["source"],
            registry=r,
        )  # fmt: skip

    def count_open_calls(self, count: Callable[[], list[tuple[str, str, int]]]) -> None:
        self.registry.register(_OpenCalls(count))

    def render(self) -> bytes:
        return generate_latest(self.registry)
