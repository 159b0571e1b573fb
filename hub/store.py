"""The hub's call state: ingest of station events, the lifecycle, queries, edge liveness.

Every write is one transaction; ingest applies a whole batch of messages in one, so the
cost of a commit is shared by every message that arrived together.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, text, update
from sqlalchemy.engine import Connection

from contract.wire import ArrivalEvent, Event
from hub.audit import audit_row, record_audit
from hub.lifecycle import OPEN_STATES, TRANSITIONS, CallState, Source
from hub.queries import Call, CallFilter, TimelineEntry, call_from_row
from hub.tables import call_events, calls, edges, processed_events


class IngestOutcome(StrEnum):
    NEW_CALL = "new_call"
    JOINED = "joined"
    ARRIVED = "arrived"
    NO_OPEN_CALL = "no_open_call"  # an arrival at a station with nothing to arrive at
    DUPLICATE = "duplicate"


class CallNotFound(LookupError):
    """No call has that id (or none the caller may see)."""


class TransitionRefused(ValueError):
    """The call is not in a state that allows the action."""

    def __init__(self, message: str, state: CallState) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class Actor:
    """Who did something, and from where: a token's name, or a station."""

    name: str
    source: Source


@dataclass
class _Batch:
    """What one ingest transaction writes besides new calls, gathered to write at once."""

    processed: list[dict[str, Any]] = field(default_factory=list)
    presses: Counter[int] = field(default_factory=Counter)
    arrivals: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)


class Store:
    """Calls, their timelines and edge liveness in one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it holds the write lock from its start)."""
        with self.engine.connect().execution_options(writes=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> None:
        """Raise if the database cannot answer."""
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    # -- ingest ------------------------------------------------------------------------

    def ingest(
        self,
        events: Sequence[Event | ArrivalEvent],
        received_at: datetime,
        *,
        verified_types: frozenset[str] = frozenset(),
    ) -> list[tuple[IngestOutcome, int | None]]:
        """Apply events exactly once, in order, in one transaction: (outcome, call id) each.

        A call of a type in ``verified_types`` waits for the operator's verification
        after it is resolved."""
        if not events:
            return []
        with self.write() as conn:
            ids = list({e.event_id for e in events})
            seen: dict[str, int | None] = dict(
                conn.execute(
                    select(processed_events.c.event_id, processed_events.c.call_id).where(
                        processed_events.c.event_id.in_(ids)
                    )
                ).all()
            )
            open_calls = _open_calls(conn, {(e.area, e.line, e.station) for e in events})
            batch = _Batch()
            results: list[tuple[IngestOutcome, int | None]] = []
            for event in events:
                if event.event_id in seen:
                    results.append((IngestOutcome.DUPLICATE, seen[event.event_id]))
                    continue
                call_id: int | None
                if isinstance(event, Event):
                    verify = event.payload.call_type in verified_types
                    outcome, call_id = _apply_call(
                        conn, event, received_at, open_calls, batch, verify=verify
                    )
                else:
                    outcome, call_id = _apply_arrival(event, received_at, open_calls, batch)
                seen[event.event_id] = call_id
                batch.processed.append(
                    {"event_id": event.event_id, "call_id": call_id, "received_at": received_at}
                )
                results.append((outcome, call_id))
            _write_batch(conn, batch)
        return results

    # -- lifecycle ---------------------------------------------------------------------

    def raise_call(
        self,
        *,
        site: str,
        area: str,
        line: str,
        station: str,
        call_type: str,
        needs_verification: bool,
        actor: Actor,
        now: datetime,
    ) -> tuple[Call, bool]:
        """Raise a call from a panel; a call already open there is joined. (call, created)."""
        with self.write() as conn:
            open_calls = _open_calls(conn, {(area, line, station)})
            existing = open_calls.get((site, area, line, station, call_type))
            if existing is not None:
                conn.execute(
                    update(calls)
                    .where(calls.c.id == existing.id)
                    .values(presses=calls.c.presses + 1)
                )
                return _get(conn, existing.id), False
            call_id = _insert_call(
                conn,
                values={
                    "site": site,
                    "area": area,
                    "line": line,
                    "station": station,
                    "call_type": call_type,
                    "first_event_id": f"api:{uuid.uuid4().hex}",
                    "raised_at": now,
                    "received_at": now,
                    "needs_verification": needs_verification,
                },
            )
            entry = _timeline_row(
                call_id, at=now, action="raised", state=CallState.RAISED, actor=actor, detail={}
            )
            conn.execute(insert(call_events), [entry])
            record_audit(conn, audit_row(now, actor.name, "call.raised", f"call:{call_id}", {}))
            return _get(conn, call_id), True

    def transition(
        self,
        call_id: int,
        action: str,
        now: datetime,
        *,
        actor: Actor,
        lines: Sequence[str] = (),
        details: dict[str, str | None] | None = None,
    ) -> Call:
        """Move a call along its lifecycle; CallNotFound or TransitionRefused otherwise.

        ``lines``, when given, are the only lines the actor may touch; ``details`` go to
        the call's columns of the same name (reason_code, note, cancel_reason)."""
        step = TRANSITIONS[action]
        details = {k: v for k, v in (details or {}).items() if v is not None}
        with self.write() as conn:
            current = _get(conn, call_id)
            if lines and current.line not in lines:
                raise CallNotFound(call_id)
            if current.state not in step.allowed_from:
                raise TransitionRefused(_refusal(current, action), current.state)
            if action == "verify" and not current.needs_verification:
                raise TransitionRefused(
                    f"call {call_id} is {current.state} and its call type "
                    f"{current.call_type!r} needs no verification",
                    current.state,
                )
            values: dict[str, Any] = {"state": step.target, step.stamp: now, **details}
            if action == "acknowledge":
                values["acknowledged_by"] = actor.name
            if action == "arrive" and current.acknowledged_at is None:
                values["acknowledged_by"] = actor.name
            changed = conn.execute(
                update(calls)
                .where(calls.c.id == call_id, calls.c.state.in_(step.allowed_from))
                .values(values)
            ).rowcount
            if changed != 1:  # another writer moved it between our read and our write
                fresh = _get(conn, call_id)
                raise TransitionRefused(_refusal(fresh, action), fresh.state)
            entry = _timeline_row(
                call_id,
                at=now,
                action=action_name(action),
                state=step.target,
                actor=actor,
                detail=details,
            )
            conn.execute(insert(call_events), [entry])
            record_audit(
                conn, audit_row(now, actor.name, f"call.{action}", f"call:{call_id}", details)
            )
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

    # -- edges -------------------------------------------------------------------------

    def set_edge_status(self, edge_id: str, status: str, now: datetime) -> None:
        with self.write() as conn:
            changed = conn.execute(
                update(edges)
                .where(edges.c.edge_id == edge_id)
                .values(status=status, changed_at=now)
            ).rowcount
            if not changed:
                conn.execute(insert(edges).values(edge_id=edge_id, status=status, changed_at=now))

    def list_edges(self, *, after: str | None, limit: int) -> list[dict[str, Any]]:
        query = select(edges).order_by(edges.c.edge_id).limit(limit)
        if after is not None:
            query = query.where(edges.c.edge_id > after)
        with self.read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]


def action_name(action: str) -> str:
    """The timeline's word for an action: acknowledge -> acknowledged."""
    return TRANSITIONS[action].target.value


def _refusal(call: Call, action: str) -> str:
    allowed = ", ".join(TRANSITIONS[action].allowed_from)
    return f"call {call.id} is {call.state}; {action} needs a call that is {allowed}"


@dataclass
class _OpenCall:
    id: int
    state: CallState
    acknowledged: bool
    new: bool = False


def _open_calls(
    conn: Connection, stations: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str, str, str], _OpenCall]:
    """The open call of each (site, area, line, station, call type) at ``stations``."""
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
) -> tuple[IngestOutcome, int]:
    key = (event.site, event.area, event.line, event.station, event.payload.call_type)
    existing = open_calls.get(key)
    if existing is not None:
        batch.presses[existing.id] += 1
        return IngestOutcome.JOINED, existing.id
    call_id = _insert_call(
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
        },
    )
    open_calls[key] = _OpenCall(call_id, CallState.RAISED, acknowledged=False, new=True)
    actor = Actor(event.station, Source.STATION)
    detail = {"event_id": event.event_id, "received_at": received_at.isoformat()}
    batch.timeline.append(
        _timeline_row(
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
) -> tuple[IngestOutcome, int | None]:
    """Arrival at the station's oldest call that is raised or acknowledged (of the type)."""
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
        arrival["acknowledged_by"] = event.station
    batch.arrivals.append(arrival)
    actor = Actor(event.station, Source.STATION)
    detail = {"event_id": event.event_id, "acknowledged": call.acknowledged}
    batch.timeline.append(
        _timeline_row(
            call_id, at=event.ts, action="arrived", state=call.state, actor=actor, detail=detail
        )
    )
    batch.audit.append(
        audit_row(received_at, event.station, "call.arrive", f"call:{call_id}", detail)
    )
    return IngestOutcome.ARRIVED, call_id


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
    if batch.processed:
        conn.execute(insert(processed_events), batch.processed)
    if batch.timeline:
        conn.execute(insert(call_events), batch.timeline)
    if batch.audit:
        record_audit(conn, *batch.audit)


def _insert_call(conn: Connection, *, values: dict[str, Any]) -> int:
    row = {"state": CallState.RAISED, "presses": 1, **values}
    call_id = conn.execute(insert(calls).values(row).returning(calls.c.id)).scalar_one()
    return int(call_id)


def _timeline_row(
    call_id: int,
    *,
    at: datetime,
    action: str,
    state: CallState,
    actor: Actor,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "at": at,
        "action": action,
        "state": state,
        "actor": actor.name,
        "source": actor.source,
        "detail": detail,
    }


def _get(conn: Connection, call_id: int) -> Call:
    row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
    if row is None:
        raise CallNotFound(call_id)
    return call_from_row(row)
