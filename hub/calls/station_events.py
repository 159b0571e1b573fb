"""Applying a batch of station events inside one transaction: the group commit's core.

The batch is read in three queries (processed ids, open calls at its stations) and
written in a handful of multi-row statements, whatever its size; only new calls are
inserted one by one, since each needs its id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from contract.wire import (
    AnomalyEvent,
    ArrivalEvent,
    DeviceStatusEvent,
    Event,
    FaultEvent,
    OutputEvent,
)
from hub.access.accounts import badge_holders
from hub.access.audit import audit_row, record_audit
from hub.calls.escalation_rows import escalation_row, insert_escalations, stop_paging
from hub.calls.lifecycle import OPEN_STATES, TRANSITIONS, Actor, CallState, Source
from hub.calls.line_stop import line_stop_action, line_stop_calls
from hub.calls.rows import insert_call, timeline_row
from hub.db.tables import anomalies, call_events, calls, devices, processed_events


class IngestOutcome(StrEnum):
    NEW_CALL = "new_call"
    JOINED = "joined"
    ARRIVED = "arrived"
    NO_OPEN_CALL = "no_open_call"  # an arrival at a station with nothing to arrive at
    UNKNOWN_BADGE = "unknown_badge"  # a badge no enabled account holds: nobody arrived
    ANOMALY = "anomaly"  # an SPC anomaly from an edge, kept
    DEVICE_STATUS = "device_status"  # a device of an edge went offline or came back
    FAULT = "fault"  # a fault at a station (a light that reads back wrong, chatter), kept
    OUTPUT = "output"  # the line-stop output set or released as commanded
    MACHINE = "machine"  # a machine's state and counters, kept (hub/machines/)
    DUPLICATE = "duplicate"


@dataclass
class _Batch:
    """What one ingest transaction writes besides new calls, gathered to write at once."""

    processed: list[dict[str, Any]] = field(default_factory=list)
    presses: Counter[int] = field(default_factory=Counter)
    arrivals: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    devices: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    escalations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenCall:
    id: int
    state: CallState
    acknowledged: bool
    new: bool = False


def find_open_calls(
    conn: Connection, stations: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str, str, str], _OpenCall]:
    """The open call of each (site, area, line, station, call type) at ``stations``.

    The rows stay locked until the transaction ends (PostgreSQL; SQLite's writers take
    turns anyway), so an API transition cannot close a call that a press in this batch
    is joining, or cancel one it marks arrived."""
    names = {station for _, _, station in stations}
    rows = conn.execute(
        select(
            calls.c.id,
            calls.c.site,
            calls.c.area,
            calls.c.line,
            calls.c.station,
            calls.c.call_type,
            calls.c.state,
            calls.c.acknowledged_at,
        )
        .where(calls.c.state.in_(OPEN_STATES), calls.c.station.in_(names))
        .order_by(calls.c.id.desc())
        .with_for_update()
    ).all()
    found: dict[tuple[str, str, str, str, str], _OpenCall] = {}
    for row in rows:  # newest first, so the oldest open call of a key wins
        if (row.area, row.line, row.station) in stations:
            key = (row.site, row.area, row.line, row.station, row.call_type)
            found[key] = _OpenCall(row.id, CallState(row.state), row.acknowledged_at is not None)
    return found


def _apply_call(
    conn: Connection,
    event: Event,
    received_at: datetime,
    open_calls: dict[tuple[str, str, str, str, str], _OpenCall],
    batch: _Batch,
    *,
    verify: bool,
    snapshot_for: SnapshotFor | None,
) -> tuple[IngestOutcome, int]:
    key = (event.site, event.area, event.line, event.station, event.payload.call_type)
    existing = open_calls.get(key)
    if existing is not None:
        batch.presses[existing.id] += 1
        return IngestOutcome.JOINED, existing.id
    call_id = insert_call(
        conn,
        values={
            "site": event.site,
            "area": event.area,
            "line": event.line,
            "station": event.station,
            "call_type": event.payload.call_type,
            "first_event_id": event.event_id,
            "raised_at": event.ts,
            "received_at": received_at,
            "needs_verification": verify,
            "part_serial": event.part.serial if event.part else None,
            "part_lot": event.part.lot if event.part else None,
        },
    )
    open_calls[key] = _OpenCall(call_id, CallState.RAISED, acknowledged=False, new=True)
    snapshot = snapshot_for(*key[4:], *key[1:4]) if snapshot_for is not None else None
    if snapshot is not None:
        batch.escalations.append(escalation_row(call_id, snapshot, received_at))
    actor = Actor(event.station, Source.STATION)
    detail = {"event_id": event.event_id, "received_at": received_at.isoformat()}
    batch.timeline.append(
        timeline_row(
            call_id,
            at=event.ts,
            action="raised",
            state=CallState.RAISED,
            actor=actor,
            detail=detail,
        )
    )
    batch.audit.append(
        audit_row(received_at, event.station, "call.raised", f"call:{call_id}", detail)
    )
    return IngestOutcome.NEW_CALL, call_id


def _apply_arrival(
    event: ArrivalEvent,
    received_at: datetime,
    open_calls: dict[tuple[str, str, str, str, str], _OpenCall],
    batch: _Batch,
    holders: Mapping[str, str],
) -> tuple[IngestOutcome, int | None]:
    """Arrival at the station's oldest call that is raised or acknowledged (of the type),
    by the station's button or by the person whose badge was scanned there."""
    actor = _arriving(event, received_at, batch, holders)
    if actor is None:
        return IngestOutcome.UNKNOWN_BADGE, None
    allowed = TRANSITIONS["arrive"].allowed_from
    candidates = [
        (call.id, key, call)
        for key, call in open_calls.items()
        if key[:4] == (event.site, event.area, event.line, event.station)
        and call.state in allowed
        and event.payload.call_type in (None, key[4])
    ]
    if not candidates:
        return IngestOutcome.NO_OPEN_CALL, None
    call_id, _, call = min(candidates, key=lambda candidate: candidate[0])
    call.state = CallState.ARRIVED
    arrival: dict[str, Any] = {"call_id": call_id, "state": call.state, "arrived_at": event.ts}
    if not call.acknowledged:
        arrival["acknowledged_by"] = actor.name
    batch.arrivals.append(arrival)
    detail = {"event_id": event.event_id, "acknowledged": call.acknowledged}
    batch.timeline.append(
        timeline_row(
            call_id, at=event.ts, action="arrived", state=call.state, actor=actor, detail=detail
        )
    )
    batch.audit.append(audit_row(received_at, actor.name, "call.arrive", f"call:{call_id}", detail))
    return IngestOutcome.ARRIVED, call_id


def _arriving(
    event: ArrivalEvent, received_at: datetime, batch: _Batch, holders: Mapping[str, str]
) -> Actor | None:
    """Who arrives: the station (its button), the badge's holder, or None for a badge
    nobody holds (written to the audit log, so IT sees a badge the map lacks)."""
    badge = event.payload.badge
    if badge is None:
        return Actor(event.station, Source.STATION)
    holder = holders.get(badge)
    if holder is None:
        refused = {"event_id": event.event_id, "station": event.station}
        batch.audit.append(
            audit_row(received_at, event.station, "badge.unknown", f"badge:{badge}", refused)
        )
        return None
    return Actor(holder, Source.BADGE)


def _write_batch(conn: Connection, batch: _Batch) -> None:
    if batch.presses:
        conn.execute(
            update(calls)
            .where(calls.c.id == bindparam("call_id"))
            .values(presses=calls.c.presses + bindparam("more")),
            [{"call_id": call_id, "more": n} for call_id, n in batch.presses.items()],
        )
    for arrival in batch.arrivals:
        call_id = arrival.pop("call_id")
        conn.execute(update(calls).where(calls.c.id == call_id).values(arrival))
        stop_paging(conn, [call_id], reason="arrived")
    insert_escalations(conn, batch.escalations)
    if batch.processed:
        conn.execute(insert(processed_events), batch.processed)
    if batch.timeline:
        conn.execute(insert(call_events), batch.timeline)
    if batch.audit:
        record_audit(conn, *batch.audit)
    if batch.anomalies:
        conn.execute(insert(anomalies), batch.anomalies)
    for (edge_id, device), values in batch.devices.items():
        where = (devices.c.edge_id == edge_id, devices.c.device == device)
        if not conn.execute(update(devices).where(*where).values(values)).rowcount:
            conn.execute(insert(devices).values(edge_id=edge_id, device=device, **values))


def _anomaly_row(event: AnomalyEvent, received_at: datetime) -> dict[str, Any]:
    return {
        **event.payload.model_dump(),
        "event_id": event.event_id,
        "site": event.site,
        "area": event.area,
        "line": event.line,
        "station": event.station,
        "part_serial": event.part.serial if event.part else None,
        "part_lot": event.part.lot if event.part else None,
        "detected_at": event.ts,
        "received_at": received_at,
    }


def _line_stop_rows(conn: Connection, event: FaultEvent | OutputEvent) -> list[dict[str, Any]]:
    """Timeline rows for what the edge says of a line stop the hub commanded."""
    action = line_stop_action(event)
    if action is None:
        return []
    actor = Actor(event.station, Source.STATION)
    detail = {"event_id": event.event_id, "device": event.payload.device}
    return [
        timeline_row(call_id, at=event.ts, action=action, state=CallState(state), actor=actor,
                     detail=detail)
        for call_id, state in line_stop_calls(conn, event, action)
    ]  # fmt: skip


def _fault_row(event: FaultEvent | OutputEvent, received_at: datetime) -> dict[str, Any]:
    """A station's fault or line-stop outcome, kept in the audit log
    (``station.<fault>``, ``station.line_stop``) and shown there."""
    name = event.payload.fault if isinstance(event, FaultEvent) else event.payload.output
    detail = {
        **event.payload.model_dump(exclude_none=True),
        "event_id": event.event_id,
        "edge_id": event.edge_id,
        "at": event.ts.isoformat(),
    }
    target = f"station:{event.area}/{event.line}/{event.station}"
    return audit_row(received_at, event.edge_id, f"station.{name}", target, detail)


SnapshotFor = Callable[[str, str, str, str], dict[str, Any] | None]
"""(call type, area, line, station) -> the escalation snapshot of a new call, or None."""

HubEvent = Event | ArrivalEvent | AnomalyEvent | FaultEvent | OutputEvent | DeviceStatusEvent
"""Every kind of event the hub applies (measurements go to a time-series database)."""


def apply_events(
    conn: Connection,
    events: Sequence[HubEvent],
    received_at: datetime,
    *,
    verified_types: frozenset[str],
    snapshot_for: SnapshotFor | None = None,
    badges: Mapping[str, str] | None = None,
) -> list[tuple[IngestOutcome, int | None]]:
    """Apply ``events`` in ``conn``'s transaction: (outcome, call id) for each, in order.

    Each new call gets its escalation row (``snapshot_for``) in the same transaction; an
    arrival with a badge is recorded under the person of ``badges`` (badge -> account)."""
    ids = list({e.event_id for e in events})
    seen: dict[str, int | None] = dict(
        conn.execute(
            select(processed_events.c.event_id, processed_events.c.call_id).where(
                processed_events.c.event_id.in_(ids)
            )
        ).all()
    )
    stations = {(e.area, e.line, e.station) for e in events if isinstance(e, Event | ArrivalEvent)}
    open_calls = find_open_calls(conn, stations) if stations else {}
    scanned = {e.payload.badge for e in events if isinstance(e, ArrivalEvent) and e.payload.badge}
    holders = badge_holders(conn, badges or {}, scanned)
    batch = _Batch()
    results: list[tuple[IngestOutcome, int | None]] = []
    for event in events:
        if event.event_id in seen:
            results.append((IngestOutcome.DUPLICATE, seen[event.event_id]))
            continue
        call_id: int | None = None
        if isinstance(event, Event):
            verify = event.payload.call_type in verified_types
            outcome, call_id = _apply_call(
                conn, event, received_at, open_calls, batch, verify=verify,
                snapshot_for=snapshot_for,
            )  # fmt: skip
        elif isinstance(event, ArrivalEvent):
            outcome, call_id = _apply_arrival(event, received_at, open_calls, batch, holders)
        elif isinstance(event, AnomalyEvent):
            batch.anomalies.append(_anomaly_row(event, received_at))
            outcome = IngestOutcome.ANOMALY
        elif isinstance(event, FaultEvent | OutputEvent):
            batch.audit.append(_fault_row(event, received_at))
            batch.timeline += _line_stop_rows(conn, event)
            outcome = (
                IngestOutcome.OUTPUT if isinstance(event, OutputEvent) else IngestOutcome.FAULT
            )
        else:
            device = event.payload
            batch.devices[(event.edge_id, device.device)] = {
                "status": device.status, "reason": device.reason, "changed_at": event.ts,
                "line": event.line,
            }  # fmt: skip
            outcome = IngestOutcome.DEVICE_STATUS
        seen[event.event_id] = call_id
        batch.processed.append(
            {"event_id": event.event_id, "call_id": call_id, "received_at": received_at}
        )
        results.append((outcome, call_id))
    _write_batch(conn, batch)
    return results
