"""Boolean metrics of Sparkplug nodes that raise calls on their rising edge, and the
anomalies of the characteristics charted from their measurements.

A rising edge (``CallEdges``) becomes a call event as our edges send them, on the station
event topic of the edge id ``spb-<group>-<node>``, and goes through the calls' own
intake (``hub.edges.ingest.Ingest``): the same checks (a line that lists its ``edges``
must list that id), the same dedup key (a press while the station's call of that type is
open joins it), the same transaction and news. An anomaly (``hub/sparkplug/charts.py``)
goes the same way as an edge's anomaly event: stored, grouped and sent as SPC alarms.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from contract.sparkplug.payloads import Metric
from contract.wire import (
    AnomalyEvent,
    CallPayload,
    Event,
    Topics,
    event_json,
    make_event_id,
    utc_now,
)
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.config.sparkplug import SparkplugCall
from hub.edges.ingest import BatchReport, Ingest
from hub.sparkplug.call_metrics import save_call_metrics
from hub.sparkplug.charts import StationAnomaly, anomaly_event
from hub.sparkplug.intake import measurement_edge_id
from hub.sparkplug.sessions import CallEdges, MetricKey, NodeKey

log = logging.getLogger(__name__)


class SparkplugCalls:
    """Raises the calls of mapped Boolean metrics, once per rising edge."""

    def __init__(
        self,
        *,
        config: Callable[[], HubConfig],
        store: Store,
        last: dict[MetricKey, bool] | None = None,
    ) -> None:
        self.config = config
        self.ingest = Ingest(config=config, store=store)
        self.edges = CallEdges(last)
        self.raised = 0
        self.anomalies = 0
        self._last_seq: dict[str, int] = {}

    def _mapped(self) -> dict[MetricKey, SparkplugCall]:
        section = self.config().sparkplug
        return {} if section is None else {c.key(): c for c in section.calls}

    def rising(
        self, node: NodeKey, device: str | None, metrics: tuple[Metric, ...], stamp: tuple[int, int]
    ) -> list[SparkplugCall]:
        """The mapped calls whose metric rose in this message (bdSeq, seq: ``stamp``)."""
        mapped = self._mapped()
        rose: list[SparkplugCall] = []
        for metric in metrics:
            key: MetricKey = (*node, device, metric.name)
            where = mapped.get(key)
            if where is None or not isinstance(metric.value, bool):
                continue
            if self.edges.rising(key, metric.value, stamp=stamp):
                rose.append(where)
        return rose

    def raise_calls(self, node: NodeKey, calls: list[SparkplugCall]) -> BatchReport:
        """Keep the metrics' new values, and take the calls in through the call intake
        (in a worker thread)."""
        changed = self.edges.take_changed()
        if changed:
            save_call_metrics(self.ingest.store, changed)
        if not calls:
            return BatchReport(results=[])
        config = self.config()
        edge_id = measurement_edge_id(node)
        events: list[Event | AnomalyEvent] = []
        for call in calls:
            seq = self._next_seq(edge_id)
            events.append(Event(
                event_id=make_event_id(edge_id, seq), edge_id=edge_id, seq=seq, ts=utc_now(),
                site=config.site, area=_area(config, call.line), line=call.line,
                station=call.station, kind="call", payload=CallPayload(call_type=call.call_type),
            ))  # fmt: skip
            log.info("Sparkplug %s/%s raises %s at %s", *node, call.call_type, call.station)
        report = self._take_in(config, events)
        self.raised += len(calls)
        return report

    def raise_anomalies(
        self, node: NodeKey, found: list[StationAnomaly], ts: datetime
    ) -> BatchReport:
        """Take the anomalies of the node's message (at ``ts``) in through the call intake,
        as our edges' anomaly events (in a worker thread)."""
        config = self.config()
        edge_id = measurement_edge_id(node)
        events: list[Event | AnomalyEvent] = []
        for each in found:
            events.append(anomaly_event(
                config, area=_area(config, each.line), edge_id=edge_id,
                seq=self._next_seq(edge_id), ts=ts, found=each,
            ))  # fmt: skip
            log.info(
                "Sparkplug %s/%s: anomaly of %s at %s (tests %s)", *node,
                each.anomaly.binding.characteristic, each.station, each.anomaly.signal.tests,
            )  # fmt: skip
        report = self._take_in(config, events)
        self.anomalies += len(found)
        return report

    def _take_in(self, config: HubConfig, events: list[Event | AnomalyEvent]) -> BatchReport:
        """``events`` through the call intake, each on the topic its edge would use."""
        topics = Topics(config.broker.topic_prefix)
        return self.ingest.handle_batch([
            (topics.station_event(e.site, e.area, e.line, e.station, e.edge_id),
             event_json(e).encode())
            for e in events
        ])  # fmt: skip

    def _next_seq(self, edge_id: str) -> int:
        """The node's next station event number: above every one before, and above those
        of the hub's runs before (microseconds since 1970)."""
        seq = max(self._last_seq.get(edge_id, 0) + 1, time.time_ns() // 1000)
        self._last_seq[edge_id] = seq
        return seq


def _area(config: HubConfig, line_id: str) -> str:
    return next(a.id for a in config.areas for line in a.lines if line.id == line_id)
