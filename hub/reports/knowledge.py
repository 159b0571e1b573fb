"""The knowledge base of fixes: how calls like this one were resolved before.

Every resolved call keeps its reason code and note with its station, call type, part
and, for a call raised for an SPC anomaly, its characteristic (the calls table is the
record). For a call, the suggestions are the most frequent reason codes and the most
recent fixes of resolved calls at the same station and of the same call type, so a
responder sees at the moment of need what worked last time; for a call on a
characteristic, also those of earlier calls on the same characteristic at any station
(the same bore drifts on every machine that cuts it). A fix of a recurrence carries its
root cause and countermeasure, where the responder gave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from hub.calls.lifecycle import CallState
from hub.calls.records import Call
from hub.calls.repository import Store
from hub.db.tables import UtcDateTime, call_events, calls

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
    line: str
    station: str
    call_type: str
    # What the responder found and did when the problem came back (hub/calls/recurrence.py).
    recurrence_of: int | None
    root_cause: str | None
    countermeasure: str | None


@dataclass(frozen=True)
class Fixes:
    most_frequent: list[FrequentFix]
    most_recent: list[RecentFix]


@dataclass(frozen=True)
class Suggestions:
    """Fixes at the call's station of its call type; for a call raised for an SPC
    anomaly, also the fixes of earlier calls on its characteristic, at any station."""

    most_frequent: list[FrequentFix]
    most_recent: list[RecentFix]
    characteristic: str | None
    same_characteristic: Fixes | None


def suggestions(store: Store, call: Call, *, lines: Sequence[str] = ()) -> Suggestions:
    """Fixes of earlier calls like ``call`` (never ``call`` itself); those on its
    characteristic only from ``lines`` (empty: every line), as the reader may see."""
    fixed: list[ColumnElement[bool]] = [
        calls.c.site == call.site,
        calls.c.state.in_([str(state) for state in FIXED]),
        calls.c.reason_code.is_not(None),
        calls.c.id != call.id,
    ]
    here = [
        calls.c.area == call.area,
        calls.c.line == call.line,
        calls.c.station == call.station,
        calls.c.call_type == call.call_type,
    ]
    with store.read() as conn:
        at_station = _fixes(conn, [*fixed, *here])
        on_characteristic = None
        if call.characteristic is not None:
            alike = [*fixed, calls.c.characteristic == call.characteristic]
            if lines:
                alike.append(calls.c.line.in_(lines))
            on_characteristic = _fixes(conn, alike)
    return Suggestions(
        most_frequent=at_station.most_frequent,
        most_recent=at_station.most_recent,
        characteristic=call.characteristic,
        same_characteristic=on_characteristic,
    )


def _fixes(conn: Connection, alike: Sequence[ColumnElement[bool]]) -> Fixes:
    """The most frequent reason codes and the most recent fixes of the calls ``alike``."""
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
    return Fixes(
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
                line=row["line"],
                station=row["station"],
                call_type=row["call_type"],
                recurrence_of=row["recurrence_of"],
                root_cause=row["root_cause"],
                countermeasure=row["countermeasure"],
            )
            for row in recent_rows
        ],
    )
