"""Machine periods and part counts read back, and a downtime period given its reason.

A downtime period is a stretch of one state other than ``running`` and ``planned_stop``
that lasts at least the hub's ``micro_stop_s``; a shorter one is a micro-stop. The
downtime list shows those and the ``planned_stop`` stretches, each whole (not clipped
to the period asked for); one still open is listed once it has lasted ``micro_stop_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from hub.db.tables import machine_counts, machine_periods, machines
from hub.db.transactions import Database

# A report reads at most this many periods or counts; a longer period is refused.
MAX_ROWS = 2_000_000


class PeriodNotFound(LookupError):
    """No downtime period has that id (on the lines the caller may see)."""


class ReasonRefused(ValueError):
    """The period is not downtime, or has its reason already."""


class TooManyRows(ValueError):
    """The period holds more machine rows than one report reads."""


@dataclass(frozen=True)
class Period:
    """One stretch of a machine's state (``end`` None while it lasts)."""

    id: int
    line: str
    station: str
    state: str
    start: datetime
    end: datetime | None
    seconds: float | None
    reason: str | None
    fault_code: int | None
    call_id: int | None


@dataclass(frozen=True)
class Count:
    line: str
    station: str
    at: datetime
    total: int
    rejects: int


@dataclass(frozen=True)
class Machine:
    line: str
    station: str
    ideal_cycle_s: float | None


_COLUMNS = (
    machine_periods.c.id, machine_periods.c.line, machine_periods.c.station,
    machine_periods.c.state, machine_periods.c.started_at, machine_periods.c.ended_at,
    machine_periods.c.seconds, machine_periods.c.reason, machine_periods.c.fault_code,
    machine_periods.c.call_id,
)  # fmt: skip


def _period(row: Any) -> Period:
    # By position (``_COLUMNS``' order): a row's attribute lookup by name costs more than
    # the rest of a month's OEE report per period.
    values: tuple[Any, ...] = tuple(row)
    return Period(*values)


def _overlapping(since: datetime, until: datetime) -> ColumnElement[bool]:
    table = machine_periods
    return and_(
        table.c.started_at < until, or_(table.c.ended_at.is_(None), table.c.ended_at > since)
    )


def _downtime(micro_stop_s: float, now: datetime) -> ColumnElement[bool]:
    table = machine_periods
    return and_(
        table.c.state != "running",
        or_(
            table.c.state == "planned_stop",
            table.c.seconds >= micro_stop_s,
            and_(
                table.c.ended_at.is_(None),
                table.c.started_at <= now - timedelta(seconds=micro_stop_s),
            ),
        ),
    )


def downtime_page(
    db: Database,
    *,
    since: datetime,
    until: datetime,
    lines: Sequence[str],
    station: str | None,
    micro_stop_s: float,
    now: datetime,
    after: int | None,
    limit: int,
) -> list[Period]:
    """Downtime and planned stops overlapping [since, until), by id, ``limit`` + 1 of them
    (so the caller knows whether there is a next page)."""
    table = machine_periods
    query = select(*_COLUMNS).where(_overlapping(since, until), _downtime(micro_stop_s, now))
    if lines:
        query = query.where(table.c.line.in_(lines))
    if station is not None:
        query = query.where(table.c.station == station)
    if after is not None:
        query = query.where(table.c.id > after)
    with db.read() as conn:
        rows = conn.execute(query.order_by(table.c.id).limit(limit + 1)).all()
    return [_period(row) for row in rows]


def stops_overlapping(
    db: Database, *, since: datetime, until: datetime, lines: Sequence[str]
) -> list[Period]:
    """Every stretch other than ``running`` overlapping [since, until), by station and time."""
    table = machine_periods
    query = select(*_COLUMNS).where(_overlapping(since, until), table.c.state != "running")
    if lines:
        query = query.where(table.c.line.in_(lines))
    query = query.order_by(table.c.line, table.c.station, table.c.started_at)
    with db.read() as conn:
        rows = conn.execute(query.limit(MAX_ROWS + 1)).all()
    if len(rows) > MAX_ROWS:
        raise TooManyRows(f"more than {MAX_ROWS} machine periods; ask for a shorter period")
    return [_period(row) for row in rows]


def counts_between(
    db: Database, *, since: datetime, until: datetime, lines: Sequence[str]
) -> list[Count]:
    """The parts counted in [since, until), by station and time."""
    table = machine_counts
    query = select(table.c.line, table.c.station, table.c.at, table.c.total, table.c.rejects)
    query = query.where(table.c.at >= since, table.c.at < until)
    if lines:
        query = query.where(table.c.line.in_(lines))
    with db.read() as conn:
        rows = conn.execute(query.limit(MAX_ROWS + 1)).all()
    if len(rows) > MAX_ROWS:
        raise TooManyRows(f"more than {MAX_ROWS} part counts; ask for a shorter period")
    return [Count(*row) for row in rows]


def known_machines(db: Database, lines: Sequence[str]) -> list[Machine]:
    """Every machine an edge reported, on ``lines`` (empty: all)."""
    query = select(machines.c.line, machines.c.station, machines.c.ideal_cycle_s)
    if lines:
        query = query.where(machines.c.line.in_(lines))
    with db.read() as conn:
        rows = conn.execute(query.order_by(machines.c.line, machines.c.station)).all()
    return [Machine(*row) for row in rows]


def current_states(db: Database, lines: Sequence[str]) -> list[Period]:
    """The open period of each machine on ``lines`` (empty: all)."""
    table = machine_periods
    query = select(*_COLUMNS).where(table.c.ended_at.is_(None))
    if lines:
        query = query.where(table.c.line.in_(lines))
    with db.read() as conn:
        rows = conn.execute(query.order_by(table.c.id)).all()
    return [_period(row) for row in rows]


def give_reason(
    db: Database,
    period_id: int,
    *,
    reason: str,
    note: str | None,
    by: str,
    lines: Sequence[str],
    micro_stop_s: float,
    now: datetime,
) -> Period:
    """Give downtime period ``period_id`` its ``reason``: PeriodNotFound when there is no
    such downtime period on ``lines`` (empty: any), ReasonRefused when it has one."""
    table = machine_periods
    with db.write() as conn:
        query = select(*_COLUMNS).where(table.c.id == period_id, _downtime(micro_stop_s, now))
        row = conn.execute(query.with_for_update()).first()
        if row is None or (lines and row.line not in lines):
            raise PeriodNotFound(f"no downtime period {period_id}")
        if row.reason is not None:
            raise ReasonRefused(f"period {period_id} has its reason already ({row.reason})")
        changed = conn.execute(
            update(table)
            .where(table.c.id == period_id, table.c.reason.is_(None))
            .values(reason=reason, note=note, reason_by=by)
        ).rowcount
        if changed != 1:
            raise ReasonRefused(f"period {period_id} got its reason meanwhile")
        fresh = conn.execute(select(*_COLUMNS).where(table.c.id == period_id)).one()
    return _period(fresh)
