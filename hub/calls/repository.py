"""The calls repository: station events applied, calls raised and moved, calls read back."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub.access.audit import audit_row, record_audit
from hub.calls.escalation_rows import escalation_row, insert_escalations, on_transition
from hub.calls.lifecycle import OPEN_STATES, TRANSITIONS, Actor, CallState
from hub.calls.records import Call, CallFilter, TimelineEntry, call_from_row
from hub.calls.recurrence import Fix, RecurrenceRule, link_on_raise, on_resolve
from hub.calls.rows import insert_call, timeline_row
from hub.calls.station_events import (
    HubEvent,
    IngestOutcome,
    SnapshotFor,
    apply_events,
    find_open_calls,
)
from hub.db.tables import call_events, calls
from hub.db.transactions import Database


class CallNotFound(LookupError):
    """No call has that id (or none the caller may see)."""


class TransitionRefused(ValueError):
    """The call is not in a state that allows the action."""

    def __init__(self, message: str, state: CallState) -> None:
        super().__init__(message)
        self.state = state


class Store(Database):
    """Calls and their timelines in the hub's database."""

    # -- ingest ------------------------------------------------------------------------

    def ingest(
        self,
        events: Sequence[HubEvent],
        received_at: datetime,
        *,
        verified_types: frozenset[str] = frozenset(),
        snapshot_for: SnapshotFor | None = None,
        badges: Mapping[str, str] | None = None,
    ) -> list[tuple[IngestOutcome, int | None]]:
        """Apply events exactly once, in order, in one transaction: (outcome, call id) each.

        A call of a type in ``verified_types`` waits for the operator's verification
        after it is resolved; ``snapshot_for`` freezes a new call's escalation policy."""
        if not events:
            return []
        with self.write() as conn:
            return apply_events(
                conn, events, received_at, verified_types=verified_types,
                snapshot_for=snapshot_for, badges=badges,
            )  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------

    def raise_call(
        self,
        *,
        call: NewCall,
        actor: Actor,
        now: datetime,
        snapshot_for: SnapshotFor | None = None,
        recurrence_window: timedelta | None = None,
    ) -> tuple[Call, bool]:
        """Raise a call from a panel; a call already open there is joined. (call, created).

        A new call's escalation row (``snapshot_for``) is written in the same transaction,
        and, with ``recurrence_window``, its link to the call it recurs.

        Two writers that both found no open call cannot both open one (a unique index on
        the open calls refuses the second): the loser tries once more, and joins."""
        for attempt in (1, 2):
            try:
                with self.write() as conn:
                    return _raise_in(
                        conn,
                        call,
                        actor,
                        now,
                        snapshot_for=snapshot_for,
                        recurrence_window=recurrence_window,
                    )
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def transition(
        self,
        call_id: int,
        action: str,
        now: datetime,
        *,
        actor: Actor,
        details: dict[str, str | None] | None = None,
        also: Callable[[Connection], None] | None = None,
        recurrence: RecurrenceRule | None = None,
    ) -> Call:
        """Move a call along its lifecycle; CallNotFound or TransitionRefused otherwise.

        ``details`` go to the call's columns of the same name (reason_code, note,
        cancel_reason, root_cause, countermeasure) and to its timeline; ``also`` runs in
        the same transaction (an acknowledgement link records its one use), and a refusal
        undoes it. A resolution with ``recurrence`` links the call to the one it recurs
        (RootCauseMissing where the rule asks for what the details lack)."""
        step = TRANSITIONS[action]
        details = {k: v for k, v in (details or {}).items() if v is not None}
        with self.write() as conn:
            current = _get(conn, call_id)
            _check_allowed(current, action)
            if also is not None:
                also(conn)
            values: dict[str, Any] = {"state": step.target, step.stamp: now, **details}
            if action == "resolve" and recurrence is not None and "reason_code" in details:
                fix = Fix(
                    str(details["reason_code"]),
                    details.get("root_cause"),
                    details.get("countermeasure"),
                )
                values["recurrence_of"] = on_resolve(conn, current, fix, recurrence)
            if action == "acknowledge" or (action == "arrive" and not current.acknowledged_at):
                values["acknowledged_by"] = actor.name
            changed = conn.execute(
                update(calls)
                .where(calls.c.id == call_id, calls.c.state.in_(step.allowed_from))
                .values(values)
            ).rowcount
            if changed != 1:  # another writer moved it between our read and our write
                fresh = _get(conn, call_id)
                _check_allowed(fresh, action)
                raise TransitionRefused(f"call {call_id} changed meanwhile; try again", fresh.state)
            entry = timeline_row(
                call_id, at=now, action=step.target, state=step.target, actor=actor,
                detail=details,
            )  # fmt: skip
            conn.execute(insert(call_events), [entry])
            on_transition(conn, call_id, action, now)
            audit = audit_row(now, actor.name, f"call.{action}", f"call:{call_id}", details)
            record_audit(conn, audit)
            return _get(conn, call_id)

    # -- queries -----------------------------------------------------------------------

    def list_calls(self, query: CallFilter) -> list[Call]:
        with self.read() as conn:
            rows = conn.execute(query.select()).mappings().all()
        return [call_from_row(row) for row in rows]

    def get_call(self, call_id: int) -> Call:
        with self.read() as conn:
            return _get(conn, call_id)

    def timeline(self, call_id: int) -> list[TimelineEntry]:
        with self.read() as conn:
            rows = conn.execute(
                select(call_events)
                .where(call_events.c.call_id == call_id)
                .order_by(call_events.c.id)
            ).mappings()
            return [TimelineEntry.from_row(row) for row in rows]

    def open_call_counts(self) -> list[tuple[str, str, int]]:
        """(line, call type, number of open calls)."""
        with self.read() as conn:
            rows = conn.execute(
                select(calls.c.line, calls.c.call_type, func.count())
                .where(calls.c.state.in_(OPEN_STATES))
                .group_by(calls.c.line, calls.c.call_type)
            ).all()
        return [(str(line), str(call_type), int(n)) for line, call_type, n in rows]


@dataclass(frozen=True)
class NewCall:
    """Where a call raised through the API is, and what it needs."""

    site: str
    area: str
    line: str
    station: str
    call_type: str
    needs_verification: bool
    # A call raised for an SPC anomaly: its characteristic and the part it was found on.
    characteristic: str | None = None
    part_serial: str | None = None
    part_lot: str | None = None


def _raise_in(
    conn: Connection,
    call: NewCall,
    actor: Actor,
    now: datetime,
    *,
    snapshot_for: SnapshotFor | None = None,
    recurrence_window: timedelta | None = None,
) -> tuple[Call, bool]:
    key = (call.site, call.area, call.line, call.station, call.call_type)
    existing = find_open_calls(conn, {(call.area, call.line, call.station)}).get(key)
    if existing is not None:
        conn.execute(
            update(calls).where(calls.c.id == existing.id).values(presses=calls.c.presses + 1)
        )
        return _get(conn, existing.id), False
    values = {**call.__dict__, "first_event_id": f"api:{uuid.uuid4().hex}"}
    call_id = insert_call(conn, values={**values, "raised_at": now, "received_at": now})
    entry = timeline_row(
        call_id, at=now, action="raised", state=CallState.RAISED, actor=actor, detail={}
    )
    conn.execute(insert(call_events), [entry])
    snapshot = snapshot_for and snapshot_for(call.call_type, call.area, call.line, call.station)
    if snapshot:
        insert_escalations(conn, [escalation_row(call_id, snapshot, now)])
    record_audit(conn, audit_row(now, actor.name, "call.raised", f"call:{call_id}", {}))
    if recurrence_window is not None:
        link_on_raise(conn, _get(conn, call_id), recurrence_window)
    return _get(conn, call_id), True


def _check_allowed(call: Call, action: str) -> None:
    """TransitionRefused, naming the call's state, unless ``action`` may happen now."""
    allowed = TRANSITIONS[action].allowed_from
    if call.state not in allowed:
        raise TransitionRefused(
            f"call {call.id} is {call.state}; {action} needs a call that is {', '.join(allowed)}",
            call.state,
        )
    if action == "verify" and not call.needs_verification:
        raise TransitionRefused(
            f"call {call.id} is {call.state} and its call type {call.call_type!r} "
            "needs no verification",
            call.state,
        )


def _get(conn: Connection, call_id: int) -> Call:
    row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
    if row is None:
        raise CallNotFound(call_id)
    return call_from_row(row)
