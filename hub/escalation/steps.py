"""Claiming the escalation steps that are due and advancing their rows, in one transaction.

On PostgreSQL the due rows are taken with ``FOR UPDATE SKIP LOCKED``: two hubs running
the engine on one database split the work and never take the same step. SQLite's
writers take turns (``BEGIN IMMEDIATE``), which gives the same guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from hub.calls.escalation_rows import ACK_WAIT, ACTIVE, STOPPED
from hub.calls.lifecycle import OPEN_STATES, Actor, CallState, Source
from hub.calls.news import CallChange
from hub.calls.rows import timeline_row
from hub.config.escalation import LevelConfig
from hub.db.tables import call_events, calls, escalations
from hub.escalation import deliveries, pipeline
from hub.escalation.notices import Notice
from hub.escalation.schedule import levels_at, next_offset
from hub.escalation.snapshot import Snapshot

BATCH = 200  # due rows taken per transaction; the rest wait for the next pass
HUB = Actor("hub", Source.HUB)


@dataclass(frozen=True)
class Plan:
    """What to do with one due row: the step to fire (if any) and the row's new values."""

    values: dict[str, Any]
    fire: int | None = None  # the offset of the step to send now
    resumed: bool = False


def plan(row: dict[str, Any], levels: list[LevelConfig], now: datetime) -> Plan:
    """Decide a due row from its call's state; pure."""
    state, last = CallState(row["state"]), row["last_offset_s"]
    if state not in OPEN_STATES or state is CallState.ARRIVED:
        return Plan({"status": STOPPED, "due_at": None, "stop_reason": str(state)})
    base: datetime = row["base_at"]
    if state is CallState.ACKNOWLEDGED and not row["resumed"]:
        if row["status"] == ACTIVE:  # acknowledged without the row hearing of it
            due = row["acknowledged_at"] + timedelta(seconds=row["ack_timeout_s"])
            return Plan({"status": ACK_WAIT, "due_at": due})
        # No arrival within ack_timeout_s: resume at the next level (the last, if none).
        offset = next_offset(levels, last)
        offset = offset if offset is not None else (last or 0)
        base = now - timedelta(seconds=offset)
        return _fire(levels, base, offset, now, resumed=True)
    offset = next_offset(levels, last)
    if offset is None:
        return Plan({"due_at": None})
    return _fire(levels, base, offset, now, resumed=False)


def _fire(
    levels: list[LevelConfig], base: datetime, offset: int, now: datetime, *, resumed: bool
) -> Plan:
    # After a long stop, missed repeats of one level are sent once, not once per repeat.
    following = next_offset(levels, offset)
    while (
        following is not None
        and base + timedelta(seconds=following) <= now
        and levels_at(levels, following) == levels_at(levels, offset)
    ):
        offset, following = following, next_offset(levels, following)
    due = base + timedelta(seconds=following) if following is not None else None
    values = {"status": ACTIVE, "base_at": base, "last_offset_s": offset, "due_at": due}
    if resumed:
        values["resumed"] = True
    return Plan(values, fire=offset, resumed=resumed)


@dataclass
class Pass:
    """What one pass wrote: the changes to announce, the number of messages queued."""

    changes: list[CallChange] = field(default_factory=list)
    queued: int = 0
    full: bool = False  # as many rows as one pass takes: more may be due


def take_due_steps(conn: Connection, ctx: pipeline.Context) -> Pass:
    """Send (queue) every due step, advance its row, and note it on the call's timeline."""
    now = ctx.now
    rows = [
        dict(r)
        for r in conn.execute(
            select(
                escalations,
                calls.c.state,
                calls.c.acknowledged_at,
                calls.c.acknowledged_by,
                calls.c.raised_at,
                calls.c.area,
                calls.c.line,
                calls.c.station,
            )
            .join(calls, calls.c.id == escalations.c.call_id)
            .where(escalations.c.due_at <= now, escalations.c.status != STOPPED)
            .order_by(escalations.c.due_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=escalations)
        ).mappings()
    ]
    done = Pass(full=len(rows) == BATCH)
    if not rows:
        return done
    ids = [int(r["call_id"]) for r in rows]
    told = deliveries.told_people(conn, ids)
    ctx = pipeline.Context(
        now=now,
        queued_keys=frozenset(deliveries.queued_keys(conn, ids)),
        ack_link=ctx.ack_link,
        retry=ctx.retry,
        covers=ctx.covers,
        stand_ins=ctx.stand_ins,
    )
    notices: list[Notice] = []
    for row in rows:
        snapshot = Snapshot.load(row["snapshot"])
        decided = plan(row, list(snapshot.policy.levels), now)
        conn.execute(
            update(escalations)
            .where(escalations.c.call_id == row["call_id"])
            .values(decided.values)
        )
        if decided.fire is not None:
            step = _notices(row, snapshot, decided, told.get(int(row["call_id"]), []))
            notices += step
            done.changes.append(_escalated(conn, row, step, decided, now))
    sent = pipeline.run(pipeline.SEND_PIPELINE, notices, ctx)
    done.queued = deliveries.queue(conn, sent, now)
    return done


def _notices(
    row: dict[str, Any], snapshot: Snapshot, decided: Plan, told: list[str]
) -> list[Notice]:
    assert decided.fire is not None
    levels = snapshot.policy.levels
    told_names = [snapshot.people[p].name or p for p in told if p in snapshot.people]
    facts = {
        "raised_at": row["raised_at"],
        "resumed": decided.resumed,
        "acknowledged_by": row["acknowledged_by"],
        "told_before": tuple(told_names),
    }
    return [
        Notice(
            key=f"c{row['call_id']}:o{decided.fire}:l{index}" + (":r" if decided.resumed else ""),
            call_id=int(row["call_id"]),
            alarm_group=None,
            line=str(row["line"]),
            level=index,
            step_s=decided.fire,
            targets=tuple(levels[index].notify),
            snapshot=snapshot,
            facts=facts,
        )
        for index in levels_at(levels, decided.fire)
    ]


def _escalated(
    conn: Connection,
    row: dict[str, Any],
    step: list[Notice],
    decided: Plan,
    now: datetime,
) -> CallChange:
    detail = {
        "levels": [n.level for n in step],
        "step_s": decided.fire,
        "resumed": decided.resumed,
    }
    entry = timeline_row(
        int(row["call_id"]), at=now, action="escalated", state=CallState(row["state"]),
        actor=HUB, detail=detail,
    )  # fmt: skip
    conn.execute(insert(call_events), [entry])
    return CallChange(int(row["call_id"]), row["area"], row["line"], row["station"], "escalated")


def take_due_line_stops(conn: Connection, now: datetime) -> list[CallChange]:
    """Command the line-stop output of every call still open at its policy's deadline."""
    rows = (
        conn.execute(
            select(escalations.c.call_id, calls)
            .join(calls, calls.c.id == escalations.c.call_id)
            .where(escalations.c.line_stop_due_at <= now)
            .with_for_update(skip_locked=True, of=escalations)
        )
        .mappings()
        .all()
    )
    changes = []
    for row in rows:
        call_id = int(row["call_id"])
        conn.execute(
            update(escalations)
            .where(escalations.c.call_id == call_id)
            .values(line_stop_due_at=None)
        )
        if row["state"] not in OPEN_STATES or row["line_stop_at"] is not None:
            continue
        conn.execute(update(calls).where(calls.c.id == call_id).values(line_stop_at=now))
        entry = timeline_row(
            call_id, at=now, action="line_stop", state=CallState(row["state"]), actor=HUB,
            detail={"commanded_at": now.isoformat()},
        )  # fmt: skip
        conn.execute(insert(call_events), [entry])
        changes.append(CallChange(call_id, row["area"], row["line"], row["station"], "line_stop"))
    return changes
