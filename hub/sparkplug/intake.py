"""Mapped metrics of Sparkplug nodes taken in as our edges' measurements.

The metrics the hub's ``sparkplug.measurements`` names become one ``MeasurementEvent``
per message, checked by the measurement path's own check (its stations must be
configured) and stored by the same repository, then announced as every stored
measurement is (time series export, the pages). The event's edge id is
``spb-<group>-<node>`` (an edge id is a plain name); its seq a number that rises with
each event, so that the store's per-edge order holds across restarts.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from contract.sparkplug.payloads import Metric, SkippedValue
from contract.wire import MeasurementEvent, make_event_id, utc_now
from hub.config.file import HubConfig
from hub.config.sparkplug import SparkplugMeasurement
from hub.edges.ingest import Rejection
from hub.measurements.intake import MeasurementCheck
from hub.measurements.news import MeasurementNews
from hub.measurements.repository import MeasurementStore
from hub.sparkplug.sessions import NodeKey

log = logging.getLogger(__name__)

MAX_EDGE_ID = 64


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
        self._last_seq: dict[str, int] = {}

    def _mapped(self) -> dict[tuple[str, str, str | None, str], SparkplugMeasurement]:
        section = self.config().sparkplug
        return {} if section is None else {m.key(): m for m in section.measurements}

    def event(
        self, node: NodeKey, device: str | None, metrics: tuple[Metric, ...], timestamp: int | None
    ) -> MeasurementEvent | None:
        """The measurement event of the mapped metrics among ``metrics`` (None: none), or
        None with the reason logged when it is out of bounds."""
        mapped = self._mapped()
        found = [(mapped.get((*node, device, m.name)), m) for m in metrics]
        readings = [
            {"station": where.station, "name": where.measurement, "value": m.value,
             "unit": where.unit}
            for where, m in found
            if where is not None and m.value is not None and not isinstance(m.value, SkippedValue)
        ]  # fmt: skip
        if not readings:
            return None
        first = next(where for where, _m in found if where is not None)
        config = self.config()
        area = next(a.id for a in config.areas for line in a.lines if line.id == first.line)
        edge_id = measurement_edge_id(node)
        seq = max(self._last_seq.get(edge_id, 0) + 1, time.time_ns() // 1000)
        self._last_seq[edge_id] = seq
        try:
            return MeasurementEvent.model_validate(
                {
                    "event_id": make_event_id(edge_id, seq), "edge_id": edge_id, "seq": seq,
                    "ts": _moment(timestamp), "site": config.site, "area": area,
                    "line": first.line, "kind": "measurement", "payload": {"readings": readings},
                }
            )  # fmt: skip
        except ValidationError as exc:
            self.rejected += 1
            log.warning("Sparkplug metrics of %s/%s refused: %s", *node, exc.errors()[0]["msg"])
            return None

    def take(self, event: MeasurementEvent, topic: str) -> bool:
        """Check and store ``event`` (in a worker thread); whether it was stored."""
        checked = self.check.check_places(event, topic)
        if isinstance(checked, Rejection):
            self.rejected += 1
            return False
        applied = self.store.apply([checked], utc_now(), config=self.config().measurements)
        self.stored += len(applied.applied)
        return bool(applied.applied)


def _moment(timestamp: int | None) -> datetime:
    """The payload's time, when it is a plausible one (ms since 1970); else now."""
    if timestamp is None or not 0 < timestamp < 2**53:
        return utc_now()
    try:
        return datetime.fromtimestamp(timestamp / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return utc_now()
