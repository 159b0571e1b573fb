"""Ingest: every MQTT message is checked against the wire contract before it touches state.

A rejected message is logged once with its reason and counted; it never stops the hub.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from pydantic import ValidationError

from contract.wire import EDGE_OFFLINE, EDGE_ONLINE, MAX_PAYLOAD_BYTES, Event, Topics, utc_now
from hub.config import HubConfig
from hub.metrics import HubMetrics
from hub.store import IngestOutcome, Store

log = logging.getLogger(__name__)


class Rejection(StrEnum):
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    INVALID = "invalid"
    TOPIC_MISMATCH = "topic_mismatch"
    UNKNOWN_STATION = "unknown_station"
    UNKNOWN_CALL_TYPE = "unknown_call_type"
    UNKNOWN_TOPIC = "unknown_topic"


class Ingest:
    """Turns (topic, payload) pairs into state changes in the store."""

    def __init__(self, *, config: HubConfig, store: Store, metrics: HubMetrics) -> None:
        self.config = config
        self.store = store
        self.metrics = metrics
        self.topics = Topics(config.broker.topic_prefix)
        self._stations = config.station_keys()

    def handle(self, topic: str, payload: bytes) -> IngestOutcome | Rejection | None:
        """Apply one message; return what happened (None for a status update)."""
        self.metrics.messages_received += 1
        status_of = self.topics.parse_edge_status(topic)
        if status_of is not None:
            return self._edge_status(topic, status_of[1], payload)
        where = self.topics.parse_event(topic)
        if where is None:
            return self._reject(Rejection.UNKNOWN_TOPIC, topic, "no such topic in the contract")
        if len(payload) > MAX_PAYLOAD_BYTES:
            return self._reject(
                Rejection.TOO_LARGE, topic, f"{len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}"
            )
        try:
            event = Event.model_validate_json(payload)
        except ValidationError as exc:
            kind = Rejection.MALFORMED if _is_json_error(exc) else Rejection.INVALID
            return self._reject(kind, topic, _first_error(exc))
        if (event.site, event.area, event.line, event.station) != where:
            return self._reject(Rejection.TOPIC_MISMATCH, topic, "envelope names another station")
        if (event.area, event.line, event.station) not in self._stations or (
            event.site != self.config.site
        ):
            return self._reject(
                Rejection.UNKNOWN_STATION,
                topic,
                f"{event.site}/{event.area}/{event.line}/{event.station} is not configured",
            )
        if event.payload.call_type not in self.config.call_types:
            return self._reject(
                Rejection.UNKNOWN_CALL_TYPE, topic, f"call type {event.payload.call_type!r}"
            )
        outcome, call_id = self.store.ingest_call(event, utc_now())
        self.metrics.ingested[outcome] += 1
        log.info("event %s: %s (call %d)", event.event_id, outcome, call_id)
        return outcome

    def _edge_status(self, topic: str, edge_id: str, payload: bytes) -> Rejection | None:
        status = payload.decode("utf-8", errors="replace")
        if status not in (EDGE_ONLINE, EDGE_OFFLINE):
            return self._reject(Rejection.INVALID, topic, f"edge status {status[:40]!r}")
        self.store.set_edge_status(edge_id, status, utc_now())
        log_at = logging.WARNING if status == EDGE_OFFLINE else logging.INFO
        log.log(log_at, "edge %s is %s", edge_id, status)
        return None

    def _reject(self, reason: Rejection, topic: str, detail: str) -> Rejection:
        self.metrics.rejected[reason] += 1
        log.warning("rejected message on %s: %s: %s", topic, reason, detail)
        return reason


def _is_json_error(exc: ValidationError) -> bool:
    return any(error["type"] == "json_invalid" for error in exc.errors())


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "payload"
    return f"{where}: {error['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )
