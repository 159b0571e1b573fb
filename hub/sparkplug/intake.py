"""Mapped metrics of Sparkplug nodes taken in as our edges' measurements.

The metrics the hub's ``sparkplug.measurements`` names become one ``MeasurementEvent``
per message and line, with the points of the characteristics ``sparkplug.spc`` charts
from them (``hub/sparkplug/charts.py``), checked by the measurement path's own check (its
stations must be configured) and stored by the same repository, then announced as every
stored measurement is (time series export, the pages). The event's edge id is
``spb-<group>-<node>`` (an edge id is a plain name); its seq a number that rises with
each event, so that the store's per-edge order holds across restarts.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from contract.sparkplug.payloads import Metric, SkippedValue
from contract.wire import MeasuredValue, MeasurementEvent, make_event_id, utc_now
from hub.config.file import HubConfig
from hub.config.sparkplug import SparkplugMeasurement
from hub.edges.ingest import Rejection
from hub.measurements.intake import MeasurementCheck
from hub.measurements.news import MeasurementNews
from hub.measurements.repository import MeasurementStore
from hub.sparkplug.charts import SparkplugCharts, StationAnomaly
from hub.sparkplug.sessions import NodeKey

log = logging.getLogger(__name__)

MAX_EDGE_ID = 64


@dataclass
class Taken:
    """What a node's message becomes: measurement events, and anomalies to raise (at
    the message's moment ``ts``)."""

    events: list[MeasurementEvent]
    anomalies: list[StationAnomaly]
    ts: datetime


def measurement_edge_id(node: NodeKey) -> str:
    """The edge id a node's measurements are stored under."""
    readable = f"spb-{node[0]}-{node[1]}"
    if len(readable) <= MAX_EDGE_ID:
        return readable
    return "spb-" + hashlib.sha256(f"{node[0]}/{node[1]}".encode()).hexdigest()[:32]


class SparkplugMeasurements:
    """Turns a node's message into a stored measurement event, when it maps any metric."""

    def __init__(
        self,
        *,
        config: Callable[[], HubConfig],
        store: MeasurementStore,
        news: MeasurementNews | None,
    ) -> None:
        self.config = config
        self.store = store
        self.news = news
        self.check = MeasurementCheck(config)
        self.stored = 0
        self.rejected = 0
        self.charts = SparkplugCharts()
        self._last_seq: dict[str, int] = {}

    def _mapped(self) -> dict[tuple[str, str, str | None, str], SparkplugMeasurement]:
        section = self.config().sparkplug
        return {} if section is None else {m.key(): m for m in section.measurements}

    def message(
        self,
        node: NodeKey,
        device: str | None,
        metrics: tuple[Metric, ...],
        timestamp: int | None,
        *,
        data: bool = True,
    ) -> Taken:
        """The measurement events (one per line) of the mapped metrics among ``metrics``,
        with the points and anomalies of the characteristics they feed when the message
        is a data message (``data``: NDATA, DDATA); a line's event out of bounds is left
        out, its reason logged."""
        mapped = self._mapped()
        found = [
            (where, m.value)
            for m in metrics
            if (where := mapped.get((*node, device, m.name))) is not None
            and m.value is not None
            and not isinstance(m.value, SkippedValue)
        ]
        taken = Taken(events=[], anomalies=[], ts=_moment(timestamp))
        if not found:
            return taken
        config = self.config()
        readings: dict[str, list[dict[str, object]]] = {}
        fresh: dict[tuple[str, str], dict[str, MeasuredValue]] = {}
        for where, value in found:
            readings.setdefault(where.line, []).append(
                {"station": where.station, "name": where.measurement, "value": value,
                 "unit": where.unit}
            )  # fmt: skip
            fresh.setdefault((where.line, where.station), {})[where.measurement] = value
        points: dict[str, list[dict[str, object]]] = {}
        if data:
            charted = self.charts.chart(config, fresh, self._units())
            points, taken.anomalies = charted.points, charted.anomalies
        edge_id = measurement_edge_id(node)
        for line, line_readings in readings.items():
            area = next(a.id for a in config.areas for each in a.lines if each.id == line)
            seq = self.next_seq(edge_id)
            try:
                taken.events.append(
                    MeasurementEvent.model_validate(
                        {
                            "event_id": make_event_id(edge_id, seq), "edge_id": edge_id,
                            "seq": seq, "ts": taken.ts, "site": config.site, "area": area,
                            "line": line, "kind": "measurement",
                            "payload": {"readings": line_readings,
                                        "points": points.get(line, [])},
                        }
                    )
                )  # fmt: skip
            except ValidationError as exc:
                self.rejected += 1
                log.warning("Sparkplug metrics of %s/%s refused: %s", *node, exc.errors()[0]["msg"])
        return taken

    def next_seq(self, edge_id: str) -> int:
        """A sequence number of ``edge_id`` above every one before, and above those of
        the hub's runs before (microseconds since 1970)."""
        seq = max(self._last_seq.get(edge_id, 0) + 1, time.time_ns() // 1000)
        self._last_seq[edge_id] = seq
        return seq

    def _units(self) -> dict[tuple[str, str, str], str]:
        section = self.config().sparkplug
        return {
            (m.line, m.station, m.measurement): m.unit
            for m in (section.measurements if section is not None else [])
            if m.unit is not None
        }

    def take(self, events: list[MeasurementEvent], topic: str) -> list[MeasurementEvent]:
        """Check and store ``events`` (in a worker thread); those stored."""
        checked = []
        for event in events:
            verdict = self.check.check_places(event, topic)
            if isinstance(verdict, Rejection):
                self.rejected += 1
            else:
                checked.append(verdict)
        if not checked:
            return []
        applied = self.store.apply(checked, utc_now(), config=self.config().measurements)
        self.stored += len(applied.applied)
        return applied.applied


def _moment(timestamp: int | None) -> datetime:
    """The payload's time, when it is a plausible one (ms since 1970); else now."""
    if timestamp is None or not 0 < timestamp < 2**53:
        return utc_now()
    try:
        return datetime.fromtimestamp(timestamp / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return utc_now()
