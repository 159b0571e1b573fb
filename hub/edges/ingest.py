"""Ingest: every MQTT message is checked against the wire contract before it touches state.

Messages that arrive together are validated one by one and the valid ones applied in a
single transaction (group commit). A rejected message is logged once with its reason
and counted; it never stops the hub and never holds back the messages beside it.

Who sent a message is what its topic proves (the broker's ACL lets each edge's login
write only topics with its own edge id, and its own line's), never what its envelope
says: an envelope that names another edge, or a line its edge does not serve, is
refused before anything else, and its edge is not told (it may be another edge's).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from contract.wire import (
    DEVICE_STATUS_EVENT,
    EDGE_OFFLINE,
    MAX_PAYLOAD_BYTES,
    STATION_EVENT,
    AnomalyEvent,
    ArrivalEvent,
    DeviceStatusEvent,
    EdgeEnvelope,
    Event,
    FaultEvent,
    MachineEvent,
    OutputEvent,
    SeqRange,
    SessionStatus,
    Topics,
    parse_session_status,
    seq_ranges,
    utc_now,
)
from hub.calls.news import CallChange
from hub.calls.repository import Store
from hub.calls.station_events import HubEvent, IngestOutcome, apply_events
from hub.config.file import HubConfig
from hub.edges.dead_letters import DeadLetter, describe, keep, refused_by_database
from hub.edges.liveness import set_edge_status
from hub.escalation.snapshot import SnapshotFor, snapshots_from
from hub.escalation.system_calls import edge_status_changed
from hub.machines.reports_in import MachineNews, apply_machine_events
from hub.process.metrics import HubMetrics

log = logging.getLogger(__name__)


class Rejection(StrEnum):
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    INVALID = "invalid"
    TOPIC_MISMATCH = "topic_mismatch"
    UNKNOWN_STATION = "unknown_station"
    UNKNOWN_CALL_TYPE = "unknown_call_type"
    UNKNOWN_TOPIC = "unknown_topic"
    EDGE_MISMATCH = "edge_mismatch"  # the envelope names another edge than the topic
    LINE_NOT_SERVED = "line_not_served"  # the hub's file does not give the edge that line
    EDGE_UNPROVEN = "edge_unproven"  # an old-layout topic of a line that several edges serve
    INTERNAL = "internal"  # valid as far as we can tell, but the hub failed on it
    SET_ASIDE = "set_aside"  # valid, but the database refused its content


_CHANGE_ACTIONS = {
    IngestOutcome.NEW_CALL: "raised",
    IngestOutcome.JOINED: "joined",
    IngestOutcome.ARRIVED: "arrived",
}

Result = IngestOutcome | Rejection | None  # None: an edge status update
LineEdges = Mapping[tuple[str, str], frozenset[str]]  # (area, line) -> the edges serving it


@dataclass(frozen=True)
class Refused:
    """A message ingest will not apply, and the event in it when it had a valid envelope
    (so that its edge can be told to stop sending it)."""

    reason: Rejection
    event: EdgeEnvelope | None = None


# What each edge is told after the commit: (confirmed ranges, rejected ranges) of seq.
Acks = dict[str, tuple[list[SeqRange], list[SeqRange]]]


@dataclass
class BatchReport:
    """What one batch did: a result per message, and the figures the metrics need."""

    results: list[Result]
    lags_s: list[float] = field(default_factory=list)  # receipt minus press, live events
    changes: list[CallChange] = field(default_factory=list)  # calls this batch changed
    acks: Acks = field(default_factory=dict)  # per edge, for its confirmation topic

    def extend(self, other: BatchReport) -> None:
        """Add ``other``'s results after this report's (a batch applied in parts)."""
        self.results += other.results
        self.lags_s += other.lags_s
        self.changes += other.changes
        for edge_id, (confirmed, rejected) in other.acks.items():
            mine = self.acks.setdefault(edge_id, ([], []))
            mine[0].extend(confirmed)
            mine[1].extend(rejected)

    def count_in(self, metrics: HubMetrics) -> None:
        """Count this batch: its size, each message's result, each event's lag."""
        metrics.messages_received.inc(len(self.results))
        metrics.batch_size.observe(len(self.results))
        for result, count in collections.Counter(r for r in self.results if r).items():
            family = metrics.rejected if isinstance(result, Rejection) else metrics.ingested
            family.labels(result).inc(count)
        for lag in self.lags_s:
            metrics.ingest_lag.observe(lag)


class Ingest:
    """Turns batches of (topic, payload) into state changes in the store."""

    def __init__(self, *, config: Callable[[], HubConfig], store: Store) -> None:
        self.config = config
        self.store = store
        self.topics = Topics(config().broker.topic_prefix)
        self._known: tuple[object, set[tuple[str, str, str]], set[str]] = (None, set(), set())
        self._snapshots: tuple[object, SnapshotFor | None] = (None, None)
        self._edges: tuple[object, LineEdges] = (None, {})

    def handle_batch(self, messages: Sequence[tuple[str, bytes]]) -> BatchReport:
        """Apply messages in one transaction; one result per message, in order.

        Raises the database's error when the transaction fails: then nothing of the
        batch was applied, and the caller must not acknowledge any of it."""
        report = BatchReport(results=[None] * len(messages))
        events: list[tuple[int, HubEvent]] = []
        machine_events: list[tuple[int, MachineEvent]] = []
        statuses: list[tuple[str, SessionStatus]] = []
        rejected: dict[str, list[int]] = {}
        for index, (topic, payload) in enumerate(messages):
            checked = self._check(topic, payload)
            if isinstance(checked, Refused):
                report.results[index] = checked.reason
                if checked.event is not None:
                    rejected.setdefault(checked.event.edge_id, []).append(checked.event.seq)
            elif isinstance(checked, tuple):
                statuses.append(checked)
            elif isinstance(checked, MachineEvent):
                machine_events.append((index, checked))
            else:
                events.append((index, checked))
        received_at = utc_now()
        applied, machine_news = self._apply(events, machine_events, received_at)
        confirmed = _machine_results(report, machine_events, machine_news)
        for (index, event), (outcome, call_id) in zip(events, applied, strict=True):
            report.results[index] = outcome
            confirmed.setdefault(event.edge_id, []).append(event.seq)
            if outcome is not IngestOutcome.DUPLICATE and not event.historical:
                report.lags_s.append(max(0.0, (received_at - event.ts).total_seconds()))
            action = _CHANGE_ACTIONS.get(outcome)
            if action and call_id is not None and isinstance(event, Event | ArrivalEvent):
                report.changes.append(
                    CallChange(call_id, event.area, event.line, event.station, action)
                )
            log.debug("event %s: %s (call %s)", event.event_id, outcome, call_id)
        for edge_id in confirmed.keys() | rejected.keys():
            report.acks[edge_id] = (
                seq_ranges(confirmed.get(edge_id, [])),
                seq_ranges(rejected.get(edge_id, [])),
            )
        for edge_id, status in statuses:
            if self._apply_status(edge_id, status, received_at):
                report.changes += self.edge_call(edge_id, status.status, received_at)
        return report

    def _apply(
        self,
        events: list[tuple[int, HubEvent]],
        machine_events: list[tuple[int, MachineEvent]],
        received_at: datetime,
    ) -> tuple[list[tuple[IngestOutcome, int | None]], MachineNews]:
        """Apply the station events and the machine reports in one transaction."""
        config = self.config()
        verified = frozenset(c.id for c in config.call_types if c.verify)
        snapshot_for = self._snapshot_for()
        with self.store.write() as conn:
            applied = apply_events(
                conn, [event for _, event in events], received_at,
                verified_types=verified, snapshot_for=snapshot_for, badges=config.auth.badges,
            ) if events else []  # fmt: skip
            news = apply_machine_events(
                conn, [event for _, event in machine_events], received_at,
                snapshot_for=snapshot_for, reasons=frozenset(config.reason_code_ids),
            )  # fmt: skip
        return applied, news

    def set_aside(self, topic: str, payload: bytes, exc: Exception) -> BatchReport:
        """Keep a message aside that the database refused alone (or the hub failed on),
        and reject it to its edge: a redelivery would fail the same way."""
        checked = self._check(topic, payload)
        event = checked if isinstance(checked, EdgeEnvelope) else None
        reason = Rejection.SET_ASIDE if refused_by_database(exc) else Rejection.INTERNAL
        letter = DeadLetter(
            path="event", topic=topic, payload=payload, reason=reason, detail=describe(exc),
            at=utc_now(), edge_id=event.edge_id if event else None,
            seq=event.seq if event else None,
        )  # fmt: skip
        keep(self.store.engine, letter)
        report = BatchReport(results=[reason])
        if event is not None:
            report.acks[event.edge_id] = ([], [(event.seq, event.seq)])
        return report

    def edge_call(self, edge_id: str, status: str, now: datetime) -> list[CallChange]:
        """The edge's own call: raised when it goes offline, resolved when it is back."""
        with self.store.write() as conn:
            change = edge_status_changed(conn, self.config(), edge_id, status, now)
        return [change] if change is not None else []

    def _apply_status(self, edge_id: str, status: SessionStatus, now: datetime) -> bool:
        """Apply an edge's status; whether it changed what the hub knows of the edge."""
        if set_edge_status(self.store, edge_id, status.status, status.session, now):
            log_at = logging.WARNING if status.status == EDGE_OFFLINE else logging.INFO
            log.log(log_at, "edge %s is %s (session %d)", edge_id, status.status, status.session)
            return True
        log.info(
            "edge %s: status %s of session %d ignored (not newer than what is known)",
            edge_id,
            status.status,
            status.session,
        )
        return False

    def _check(
        self, topic: str, payload: bytes
    ) -> HubEvent | MachineEvent | Refused | tuple[str, SessionStatus]:
        """The valid event in a message, an edge status (edge id, status), or why not."""
        status_of = self.topics.parse_edge_status(topic)
        if status_of is not None:
            try:
                return status_of[1], parse_session_status(payload)
            except ValueError as exc:
                return self._reject(Rejection.INVALID, topic, f"edge {exc}")
        edge_of = self.topics.parse_edge_event(topic)
        place, sender = _station_topic(self.topics, topic)
        if place is None and edge_of is None:
            return self._reject(Rejection.UNKNOWN_TOPIC, topic, "no such topic in the contract")
        if len(payload) > MAX_PAYLOAD_BYTES:
            return self._reject(
                Rejection.TOO_LARGE, topic, f"{len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}"
            )
        adapter: TypeAdapter[Any] = STATION_EVENT if place is not None else DEVICE_STATUS_EVENT
        try:
            event: HubEvent | MachineEvent = adapter.validate_json(payload)
        except ValidationError as exc:
            kind = Rejection.MALFORMED if _is_json_error(exc) else Rejection.INVALID
            if edge_of is not None:
                sender = edge_of[1]
            told = self._edge_to_tell(_envelope_of(payload), place, sender)
            return self._reject(kind, topic, _first_error(exc), told)
        if edge_of is not None:
            sender = edge_of[1]
        if sender is not None and event.edge_id != sender:
            detail = f"envelope names edge {event.edge_id}, the topic {sender}"
            return self._reject(Rejection.EDGE_MISMATCH, topic, detail)
        if isinstance(event, DeviceStatusEvent):
            return self._check_device_status(topic, event)
        return self._check_station_event(topic, event, place, sender)

    def _check_device_status(self, topic: str, event: DeviceStatusEvent) -> HubEvent | Refused:
        if event.site != self.config().site:
            return self._reject(Rejection.UNKNOWN_STATION, topic, f"site {event.site}", event)
        unserved = not_served(self._line_edges(), sender=event.edge_id, event=event)
        if unserved is not None:
            return self._reject(unserved[0], topic, unserved[1])
        return event

    def _check_station_event(
        self,
        topic: str,
        event: Event | ArrivalEvent | AnomalyEvent | FaultEvent | OutputEvent | MachineEvent,
        where: object,
        sender: str | None,
    ) -> HubEvent | MachineEvent | Refused:
        # Neither refusal names the event to its edge: the envelope's edge is not proven.
        if (event.site, event.area, event.line, event.station) != where:
            return self._reject(Rejection.TOPIC_MISMATCH, topic, "envelope names another station")
        unserved = not_served(self._line_edges(), sender=sender, event=event)
        if unserved is not None:
            return self._reject(unserved[0], topic, unserved[1])
        stations, call_types = self._known_names()
        if event.site != self.config().site or (
            (event.area, event.line, event.station) not in stations
        ):
            return self._reject(
                Rejection.UNKNOWN_STATION,
                topic,
                f"{event.site}/{event.area}/{event.line}/{event.station} is not configured",
                event,
            )
        call_type = getattr(event.payload, "call_type", None)
        if call_type is not None and call_type not in call_types:
            return self._reject(
                Rejection.UNKNOWN_CALL_TYPE, topic, f"call type {call_type!r}", event
            )
        return event

    def _edge_to_tell(
        self, envelope: EdgeEnvelope | None, place: object, sender: str | None
    ) -> EdgeEnvelope | None:
        """The envelope of a message refused for its payload, when its edge may be told to
        stop sending it: only the edge the topic proves, for a line it serves, as an event
        would be taken. A forged envelope must not make another edge drop its events."""
        if envelope is None or (sender is not None and envelope.edge_id != sender):
            return None
        if isinstance(place, tuple) and place[:3] != (envelope.site, envelope.area, envelope.line):
            return None
        if not_served(self._line_edges(), sender=sender, event=envelope) is not None:
            return None
        return envelope

    def _known_names(self) -> tuple[set[tuple[str, str, str]], set[str]]:
        """Stations and call types of the running configuration, built once per reload."""
        config = self.config()
        if self._known[0] is not config:
            self._known = (config, config.station_keys(), set(config.call_type_ids))
        return self._known[1], self._known[2]

    def _line_edges(self) -> LineEdges:
        """The edges of each line that lists them, built once per reload."""
        config = self.config()
        if self._edges[0] is not config:
            self._edges = (config, config.line_edges())
        return self._edges[1]

    def _snapshot_for(self) -> SnapshotFor:
        """Escalation snapshots under the running configuration (it follows reloads)."""
        config = self.config()
        if self._snapshots[0] is not config:
            self._snapshots = (config, snapshots_from(config))
        snapshot_for = self._snapshots[1]
        assert snapshot_for is not None
        return snapshot_for

    def _reject(
        self, reason: Rejection, topic: str, detail: str, event: EdgeEnvelope | None = None
    ) -> Refused:
        log.warning("rejected message on %s: %s: %s", topic, reason, detail)
        return Refused(reason, event)


def _machine_results(
    report: BatchReport, machine_events: list[tuple[int, MachineEvent]], news: MachineNews
) -> dict[str, list[int]]:
    """Note the machine reports' results and the calls they changed in ``report``; the
    seqs each edge is to be told were kept."""
    confirmed: dict[str, list[int]] = {}
    for index, event in machine_events:
        report.results[index] = IngestOutcome.MACHINE
        confirmed.setdefault(event.edge_id, []).append(event.seq)
    for call_id, area, line, station, action in news.calls:
        report.changes.append(CallChange(call_id, area, line, station, action))
    return confirmed


def _station_topic(topics: Topics, topic: str) -> tuple[object, str | None]:
    """(site, area, line, station) of a station event topic and the edge it names (None
    on the old layout, which names none), or (None, None) for another topic."""
    named = topics.parse_station_event(topic)
    if named is not None:
        return named[:4], named[4]
    return topics.parse_event(topic), None


def not_served(
    line_edges: LineEdges, *, sender: str | None, event: EdgeEnvelope
) -> tuple[Rejection, str] | None:
    """Why the edge may not speak for the event's line, or None when it may.

    ``sender`` is the edge the topic proves, None for an old-layout station topic, which
    proves no edge: that one is taken only where the line lists a single edge and the
    envelope names it (the generated ACL lets no edge write the old layout; on a broker
    without an ACL any client may write anything anyway). A line that lists no edges
    takes any edge's word, as hubs before the list did."""
    edges = line_edges.get((event.area, event.line))
    if edges is None:
        return None
    claimed = sender if sender is not None else event.edge_id
    line = f"{event.area}/{event.line}"
    if claimed not in edges:
        return Rejection.LINE_NOT_SERVED, f"edge {claimed} does not serve line {line}"
    if sender is None and len(edges) > 1:
        detail = f"line {line} has {len(edges)} edges and the topic names none of them"
        return Rejection.EDGE_UNPROVEN, detail
    return None


class _Envelope(EdgeEnvelope):
    """An event's envelope alone, whatever the rest of the message holds."""

    model_config = ConfigDict(extra="ignore", frozen=True)


_ENVELOPE: TypeAdapter[_Envelope] = TypeAdapter(_Envelope)


def _envelope_of(payload: bytes) -> EdgeEnvelope | None:
    """The valid envelope of an event whose payload breaks the contract (a NaN, a NUL),
    so that its edge is told to stop sending it; None if the envelope is broken too."""
    try:
        return _ENVELOPE.validate_json(payload)
    except ValidationError:
        return None


def _is_json_error(exc: ValidationError) -> bool:
    return any(error["type"] == "json_invalid" for error in exc.errors())


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "payload"
    return f"{where}: {error['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )
