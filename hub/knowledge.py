"""The knowledge base of fixes: how calls like this one were resolved before.

Every resolved call keeps its reason code and note with its station, call type and part
(the calls table is the record). For a call, the suggestions are the most frequent
reason codes and the most recent fixes of resolved calls at the same station and of the
same call type, so a responder sees at the moment of need what worked last time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement

from hub.lifecycle import CallState
from hub.queries import Call
from hub.store import Store
from hub.tables import UtcDateTime, call_events, calls

MOST_FREQUENT = 5
MOST_RECENT = 5
FIXED = (CallState.RESOLVED, CallState.VERIFIED)


@dataclass(frozen=True)
class FrequentFix:
    reason_code: str
    calls: int
    last_resolved_at: datetime


@dataclass(frozen=True)
class RecentFix:
    call_id: int
    resolved_at: datetime
    reason_code: str
    note: str | None
    resolved_by: str | None  # the token or station that resolved it
    part_serial: str | None
    part_lot: str | None


@dataclass(frozen=True)
class Suggestions:
    most_frequent: list[FrequentFix]
    most_recent: list[RecentFix]


def suggestions(store: Store, call: Call) -> Suggestions:
    """Fixes of earlier calls at ``call``'s station of its call type (never ``call`` itself)."""
    alike: list[ColumnElement[bool]] = [
        calls.c.site == call.site,
        calls.c.area == call.area,
        calls.c.line == call.line,
        calls.c.station == call.station,
        calls.c.call_type == call.call_type,
        calls.c.state.in_([str(state) for state in FIXED]),
        calls.c.reason_code.is_not(None),
        calls.c.id != call.id,
    ]
    count = func.count().label("calls")
    last = func.max(calls.c.resolved_at, type_=UtcDateTime()).label("last_resolved_at")
    frequent = (
        select(calls.c.reason_code, count, last)
        .where(*alike)
        .group_by(calls.c.reason_code)
        .order_by(count.desc(), last.desc())
        .limit(MOST_FREQUENT)
    )
    recent = (
        select(calls)
        .where(*alike)
        .order_by(calls.c.resolved_at.desc(), calls.c.id.desc())
        .limit(MOST_RECENT)
    )
    with store.read() as conn:
        frequent_rows = conn.execute(frequent).all()
        recent_rows = conn.execute(recent).mappings().all()
        resolvers = dict(
            conn.execute(
                select(call_events.c.call_id, call_events.c.actor).where(
                    call_events.c.call_id.in_([row["id"] for row in recent_rows]),
                    call_events.c.action == str(CallState.RESOLVED),
                )
            ).all()
        )
    return Suggestions(
        most_frequent=[FrequentFix(str(code), int(n), at) for code, n, at in frequent_rows],
        most_recent=[
            RecentFix(
                call_id=row["id"],
                resolved_at=row["resolved_at"],
                reason_code=row["reason_code"],
                note=row["note"],
                resolved_by=resolvers.get(row["id"]),
                part_serial=row["part_serial"],
                part_lot=row["part_lot"],
            )
            for row in recent_rows
        ],
    )
