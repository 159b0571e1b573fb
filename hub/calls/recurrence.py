"""Recurrences: a problem that comes back at the same station soon after it was fixed.

When a call is resolved with a reason code, the hub watches its station for the hub's
``recurrence_days``: a later call at the same station (same site, area, line, station)
raised within that many days of the earlier call's resolution, with the same reason
code, or (a call raised for an SPC anomaly) on the same characteristic, recurs the
earlier one. The link (``calls.recurrence_of``) names the most recently resolved such
call and is written once: when a call on a characteristic is raised, or when a call is
resolved with its reason code, whichever finds it first.

Where the engineer set ``root_cause_required`` on the call type, a recurrence is resolved
only with a root cause and a countermeasure, kept on the call (``root_cause``,
``countermeasure``) and offered by the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from hub.calls.lifecycle import CallState
from hub.calls.records import Call
from hub.db.tables import calls

FIXED = (CallState.RESOLVED, CallState.VERIFIED)


@dataclass(frozen=True)
class RecurrenceRule:
    """How long a fixed call's station is watched, and whether this call's type asks
    for a root cause and a countermeasure when it recurs."""

    window: timedelta
    root_cause_required: bool = False


@dataclass(frozen=True)
class Fix:
    """What a responder gives beside the reason code when resolving."""

    reason_code: str
    root_cause: str | None = None
    countermeasure: str | None = None


class RootCauseMissing(ValueError):
    """A recurrence of a call type that asks for a root cause was resolved without one."""


def earlier_call(
    conn: Connection, call: Call, window: timedelta, *, reason_code: str | None = None
) -> int | None:
    """The id of the call ``call`` recurs (the most recently resolved), or None; matched
    on ``reason_code`` (default: the call's own) and on the call's characteristic."""
    reason = reason_code or call.reason_code
    alike: list[ColumnElement[bool]] = []
    if reason is not None:
        alike.append(calls.c.reason_code == reason)
    if call.characteristic is not None:
        alike.append(calls.c.characteristic == call.characteristic)
    if not alike:
        return None
    query = (
        select(calls.c.id)
        .where(
            calls.c.site == call.site,
            calls.c.area == call.area,
            calls.c.line == call.line,
            calls.c.station == call.station,
            calls.c.id != call.id,
            calls.c.state.in_([str(state) for state in FIXED]),
            calls.c.reason_code.is_not(None),
            calls.c.resolved_at <= call.raised_at,
            calls.c.resolved_at > call.raised_at - window,
            or_(*alike),
        )
        .order_by(calls.c.resolved_at.desc(), calls.c.id.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def link_on_raise(conn: Connection, call: Call, window: timedelta) -> int | None:
    """At a new call's raise: link it to the call it recurs, if it carries what to match
    on (a characteristic, or a reason code given at the raise)."""
    earlier = earlier_call(conn, call, window)
    if earlier is not None:
        conn.execute(update(calls).where(calls.c.id == call.id).values(recurrence_of=earlier))
    return earlier


def on_resolve(conn: Connection, call: Call, fix: Fix, rule: RecurrenceRule) -> int | None:
    """The call this one recurs (found at its raise, or now with the reason code), or
    None; RootCauseMissing where the rule asks for a root cause and a countermeasure
    and ``fix`` lacks one."""
    earlier = call.recurrence_of or earlier_call(
        conn, call, rule.window, reason_code=fix.reason_code
    )
    if (
        earlier is not None
        and rule.root_cause_required
        and not (fix.root_cause and fix.countermeasure)
    ):
        days = rule.window / timedelta(days=1)
        raise RootCauseMissing(
            f"call {call.id} recurs call {earlier} (the same problem at "
            f"{call.line}/{call.station} within {days:g} days of its fix): its call type "
            f"{call.call_type!r} needs a root_cause and a countermeasure to resolve it"
        )
    return earlier
