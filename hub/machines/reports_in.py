"""A batch of machine reports applied in the caller's transaction: state periods opened
and closed, the parts the counters added, fault calls raised and resolved.

A state lasts until its edge reports another: a report of the state (and fault code)
already open changes nothing, so an edge or hub restart that finds the same state keeps
its period. A report older than the machine's last one (a replay overtaken by newer
news) is kept as processed and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from contract.wire import MachineEvent
from hub.calls.station_events import SnapshotFor
from hub.db.tables import machine_counts, machine_periods, machines, processed_events
from hub.machines.fault_calls import raise_fault_call, resolve_cleared
from rules.machine_states import part_increment

# A larger step between two readings is a counter replaced or preset: a new base.
MAX_INCREMENT = 100_000


@dataclass(frozen=True)
class _Batch:
    conn: Connection
    received_at: datetime
    snapshot_for: SnapshotFor | None
    reasons: frozenset[str]


@dataclass
class MachineNews:
    """What a batch of reports did to calls: (call id, area, line, station, action)."""

    calls: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0


def apply_machine_events(
    conn: Connection,
    events: Sequence[MachineEvent],
    received_at: datetime,
    *,
    snapshot_for: SnapshotFor | None = None,
    reasons: frozenset[str] = frozenset(),
) -> MachineNews:
    """Apply ``events`` (in order) exactly once; fault reasons outside ``reasons`` are
    dropped from their calls (when ``reasons`` is given)."""
    news = MachineNews()
    if not events:
        return news
    ids = list({e.event_id for e in events})
    seen = set(
        conn.execute(
            select(processed_events.c.event_id).where(processed_events.c.event_id.in_(ids))
        ).scalars()
    )
    for event in events:
        if event.event_id in seen:
            news.duplicates += 1
            continue
        seen.add(event.event_id)
        _apply(_Batch(conn, received_at, snapshot_for, reasons), event, news)
        conn.execute(
            insert(processed_events).values(
                event_id=event.event_id, call_id=None, received_at=received_at
            )
        )
        news.applied += 1
    return news


def _apply(batch: _Batch, event: MachineEvent, news: MachineNews) -> None:
    conn = batch.conn
    where = (machines.c.line == event.line, machines.c.station == event.station)
    machine = conn.execute(select(machines).where(*where).with_for_update()).first()
    if machine is not None and event.ts < machine.seen_at:
        return  # overtaken by a newer report
    report = event.payload
    parts = _step(machine.parts_last if machine else None, report.parts, report.wraps_at)
    rejects = _step(machine.rejects_last if machine else None, report.rejects, report.wraps_at)
    if parts or rejects:
        conn.execute(
            insert(machine_counts).values(
                area=event.area, line=event.line, station=event.station, at=event.ts,
                total=parts, rejects=rejects,
            )
        )  # fmt: skip
    values = {
        "area": event.area, "ideal_cycle_s": report.ideal_cycle_s, "parts_last": report.parts,
        "rejects_last": report.rejects, "seen_at": event.ts,
    }  # fmt: skip
    if machine is None:
        conn.execute(insert(machines).values(line=event.line, station=event.station, **values))
    else:
        conn.execute(update(machines).where(*where).values(values))
    _state(batch, event, news)


def _step(last: int | None, value: int | None, wraps_at: int | None) -> int:
    if value is None:
        return 0
    step = part_increment(last, value, wraps_at)
    return 0 if step > MAX_INCREMENT else step


def _state(batch: _Batch, event: MachineEvent, news: MachineNews) -> None:
    conn = batch.conn
    report = event.payload
    code = report.fault.code if report.fault is not None else None
    open_period = conn.execute(
        select(machine_periods)
        .where(
            machine_periods.c.line == event.line,
            machine_periods.c.station == event.station,
            machine_periods.c.ended_at.is_(None),
        )
        .order_by(machine_periods.c.id.desc())
        .with_for_update()
    ).first()
    if open_period is not None:
        if (open_period.state, open_period.fault_code) == (report.state, code):
            return
        if event.ts < open_period.started_at:
            return
        seconds = (event.ts - open_period.started_at).total_seconds()
        conn.execute(
            update(machine_periods)
            .where(machine_periods.c.id == open_period.id)
            .values(ended_at=event.ts, seconds=seconds)
        )
    before = open_period.fault_code if open_period is not None else None
    place = (event.area, event.line, event.station)
    # A fault that goes on in another state keeps its call; a stop without a fault code
    # passes nothing on (a button call resolved in it named it, not what follows).
    same_fault = open_period is not None and code is not None and before == code
    call_id = open_period.call_id if same_fault and open_period is not None else None
    clears = open_period.fault_clears if same_fault and open_period is not None else None
    reason = open_period.reason if same_fault and open_period is not None else None
    cleared = (
        open_period is not None and before is not None and code is None
        and open_period.fault_clears and open_period.call_id is not None
    )  # fmt: skip
    if cleared and open_period is not None and resolve_cleared(conn, open_period.call_id, event):
        news.calls.append((open_period.call_id, *place, "resolved"))
    if report.fault is not None and code != before:
        fault = report.fault
        reason = fault.reason if not batch.reasons or fault.reason in batch.reasons else None
        call_id, new = raise_fault_call(
            conn, event, fault, reason=reason, received_at=batch.received_at,
            snapshot_for=batch.snapshot_for,
        )  # fmt: skip
        clears = report.fault.resolve == "cleared"
        news.calls.append((call_id, *place, "raised" if new else "joined"))
    conn.execute(
        insert(machine_periods).values(
            area=event.area, line=event.line, station=event.station, state=report.state,
            started_at=event.ts, fault_code=code, call_id=call_id, fault_clears=clears,
            reason=reason,
        )
    )  # fmt: skip
