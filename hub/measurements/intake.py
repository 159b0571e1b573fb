"""Measurement messages checked before they are stored, and the metrics of their path.

Each message is checked against the wire contract and the site's configuration as call
events are (the same rejection reasons, counted in ``andon_hub_messages_rejected``): its
topic proves the edge, which must be the envelope's and serve the envelope's line;
what passes is applied in batches by ``MeasurementStore``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError

from contract.wire import MAX_PAYLOAD_BYTES, MEASUREMENT_EVENT, MeasurementEvent, Topics
from hub.config.file import HubConfig
from hub.edges.ingest import LineEdges, Rejection, not_served

log = logging.getLogger(__name__)


class MeasurementMetrics:
    """The measurement path's own metrics, in the hub's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.received = Counter(
            "andon_hub_measurement_messages",
            "Measurement messages, by what became of them.",
            ["outcome"],  # stored, duplicate, dropped (queue full), rejected
            registry=r,
        )
        self.points = Counter(
            "andon_hub_spc_points_stored", "SPC points stored from the edges.", registry=r
        )
        self.pruned = Counter(
            "andon_hub_spc_points_pruned", "SPC points removed by the retention.", registry=r
        )
        self.counter_steps = Counter(
            "andon_hub_quality_counter_readings",
            "Quality counter readings, by how they were counted.",
            ["how"],  # first, counted, reset, wrapped, jump
            registry=r,
        )
        self.waiting = Gauge(
            "andon_hub_measurement_queue", "Measurement messages waiting to be stored.", registry=r
        )


class MeasurementCheck:
    """Validates one measurement message against the contract and the configuration."""

    def __init__(self, config: Callable[[], HubConfig]) -> None:
        self.config = config
        self.topics = Topics(config().broker.topic_prefix)
        self._known: tuple[object, dict[tuple[str, str], set[str]]] = (None, {})
        self._edges: tuple[object, LineEdges] = (None, {})

    def __call__(self, topic: str, payload: bytes) -> MeasurementEvent | Rejection:
        """The valid event in a message, or why not (logged once)."""
        edge_of = self.topics.parse_measurement(topic)
        if edge_of is None:
            return _reject(Rejection.UNKNOWN_TOPIC, topic, "not a measurement topic")
        if len(payload) > MAX_PAYLOAD_BYTES:
            return _reject(
                Rejection.TOO_LARGE, topic, f"{len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}"
            )
        try:
            event = MEASUREMENT_EVENT.validate_json(payload)
        except ValidationError as exc:
            malformed = any(error["type"] == "json_invalid" for error in exc.errors())
            reason = Rejection.MALFORMED if malformed else Rejection.INVALID
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "payload"
            return _reject(reason, topic, f"{where}: {error['msg']}")
        # The topic proves the edge (the broker lets each login write its own only).
        if (event.site, event.edge_id) != edge_of:
            return _reject(
                Rejection.EDGE_MISMATCH, topic, f"envelope names edge {event.site}/{event.edge_id}"
            )
        unserved = not_served(self._line_edges(), sender=event.edge_id, event=event)
        if unserved is not None:
            return _reject(unserved[0], topic, unserved[1])
        return self.check_places(event, topic)

    def check_places(self, event: MeasurementEvent, topic: str) -> MeasurementEvent | Rejection:
        """The event if its site, line and stations are configured, or why not: the
        check of every measurement message, and all of it for one the hub built itself
        from what a Sparkplug node sent (``hub/sparkplug/``), whose sender is its topic."""
        stations = self._stations().get((event.area, event.line))
        if event.site != self.config().site or stations is None:
            where = f"{event.site}/{event.area}/{event.line}"
            return _reject(Rejection.UNKNOWN_STATION, topic, f"{where} is not configured")
        named = {r.station for r in event.payload.readings}
        named |= {p.station for p in event.payload.points}
        if not named <= stations:
            unknown = ", ".join(sorted(named - stations))
            return _reject(
                Rejection.UNKNOWN_STATION, topic, f"no station {unknown} on {event.line}"
            )
        return event

    def _line_edges(self) -> LineEdges:
        """The edges of each line that lists them, built once per configuration."""
        config = self.config()
        if self._edges[0] is not config:
            self._edges = (config, config.line_edges())
        return self._edges[1]

    def _stations(self) -> dict[tuple[str, str], set[str]]:
        """(area, line) -> its stations, built once per configuration."""
        config = self.config()
        if self._known[0] is not config:
            lines: dict[tuple[str, str], set[str]] = {}
            for area, line, station in config.station_keys():
                lines.setdefault((area, line), set()).add(station)
            self._known = (config, lines)
        return self._known[1]


def _reject(reason: Rejection, topic: str, detail: str) -> Rejection:
    log.warning("rejected message on %s: %s: %s", topic, reason, detail)
    return reason
