"""A call's resolution gives its stop a reason: a worker at a stopped machine calls
maintenance, and the reason the call is resolved with is why the machine stood still.

The stop is the station's downtime period in progress when the call was raised; failing
that, the first that began while the call was open (the line stop the call itself set
off, say). Only a period without a reason takes it, and only that one: a call left
open through later stops does not name their reasons. The period is linked to the call
unless it has a call already (its fault's).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from hub.db.tables import calls, machine_periods

NOT_DOWNTIME = ("running", "planned_stop")


def reason_from_call(
    conn: Connection, call_id: int, reason: str, *, by: str, now: datetime
) -> int | None:
    """Give the stop of call ``call_id`` (resolved ``now`` with ``reason``) that reason;
    the period's id, or None when it had no stop without a reason."""
    call = conn.execute(
        select(calls.c.line, calls.c.station, calls.c.raised_at).where(calls.c.id == call_id)
    ).one()
    table = machine_periods
    stops = select(table.c.id).where(
        table.c.line == call.line,
        table.c.station == call.station,
        table.c.state.not_in(NOT_DOWNTIME),
        table.c.started_at <= now,
        or_(table.c.ended_at.is_(None), table.c.ended_at > call.raised_at),
    )
    in_progress = stops.where(table.c.started_at <= call.raised_at)
    later = stops.where(table.c.started_at > call.raised_at)
    period_id = conn.execute(in_progress.order_by(table.c.started_at.desc()).limit(1)).scalar()
    if period_id is None:
        period_id = conn.execute(later.order_by(table.c.started_at).limit(1)).scalar()
    if period_id is None:
        return None
    changed = conn.execute(
        update(table)
        .where(table.c.id == period_id, table.c.reason.is_(None))
        .values(reason=reason, reason_by=by, note=f"call {call_id}")
    ).rowcount
    conn.execute(
        update(table)
        .where(table.c.id == period_id, table.c.call_id.is_(None))
        .values(call_id=call_id)
    )
    return period_id if changed == 1 else None
