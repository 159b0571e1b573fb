"""The calls machines raise: a fault code other than 0 raises a call of its type at the
station, with the code's reason; with ``resolve: cleared`` the machine's return to 0
resolves it, at the edge's sighting of 0, noted "cleared by the machine"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from contract.wire import MachineEvent, MachineFault
from hub.access.audit import audit_row, record_audit
from hub.calls.escalation_rows import escalation_row, insert_escalations, on_transition
from hub.calls.lifecycle import OPEN_STATES, Actor, CallState, Source
from hub.calls.rows import insert_call, timeline_row
from hub.calls.station_events import SnapshotFor, find_open_calls
from hub.db.tables import call_events, calls

CLEARED_NOTE = "cleared by the machine"


def raise_fault_call(
    conn: Connection,
    event: MachineEvent,
    fault: MachineFault,
    *,
    reason: str | None,
    received_at: datetime,
    snapshot_for: SnapshotFor | None,
) -> tuple[int, bool]:
    """The call of ``fault`` with ``reason``: a new one, or the station's open call of its
    type, joined. (call id, whether it is new)"""
    call_type = event.payload.call_type
    assert call_type is not None  # a fault comes with its call type (the contract)
    key = (event.site, event.area, event.line, event.station, call_type)
    existing = find_open_calls(conn, {(event.area, event.line, event.station)}).get(key)
    if existing is not None:
        conn.execute(
            update(calls).where(calls.c.id == existing.id).values(presses=calls.c.presses + 1)
        )
        return existing.id, False
    call_id = insert_call(
        conn,
        values={
            "site": event.site, "area": event.area, "line": event.line,
            "station": event.station, "call_type": call_type,
            "first_event_id": event.event_id, "raised_at": event.ts,
            "received_at": received_at, "reason_code": reason,
            "part_serial": event.part.serial if event.part else None,
            "part_lot": event.part.lot if event.part else None,
        },
    )  # fmt: skip
    snapshot = (
        snapshot_for(call_type, event.area, event.line, event.station) if snapshot_for else None
    )
    if snapshot is not None:
        insert_escalations(conn, [escalation_row(call_id, snapshot, received_at)])
    detail: dict[str, Any] = {
        "event_id": event.event_id, "received_at": received_at.isoformat(),
        "fault_code": fault.code, "reason_code": fault.reason, "fault": fault.name,
    }  # fmt: skip
    actor = Actor(event.station, Source.STATION)
    conn.execute(
        insert(call_events),
        [timeline_row(call_id, at=event.ts, action="raised", state=CallState.RAISED,
                      actor=actor, detail=detail)],
    )  # fmt: skip
    record_audit(
        conn, audit_row(received_at, event.station, "call.raised", f"call:{call_id}", detail)
    )
    return call_id, True


def resolve_cleared(conn: Connection, call_id: int, event: MachineEvent) -> bool:
    """Resolve ``call_id`` at ``event``'s time (the edge saw the code return to 0), if it
    is still open; whether it was."""
    row = conn.execute(select(calls.c.state).where(calls.c.id == call_id)).first()
    if row is None or row.state not in OPEN_STATES:
        return False
    conn.execute(
        update(calls)
        .where(calls.c.id == call_id, calls.c.state.in_(OPEN_STATES))
        .values(state=CallState.RESOLVED, resolved_at=event.ts, note=CLEARED_NOTE)
    )
    actor = Actor(event.station, Source.STATION)
    detail = {"event_id": event.event_id, "note": CLEARED_NOTE}
    conn.execute(
        insert(call_events),
        [timeline_row(call_id, at=event.ts, action=CallState.RESOLVED, state=CallState.RESOLVED,
                      actor=actor, detail=detail)],
    )  # fmt: skip
    on_transition(conn, call_id, "resolve", event.ts)
    record_audit(
        conn, audit_row(event.ts, event.station, "call.resolve", f"call:{call_id}", detail)
    )
    return True
