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
from typing import Any, NamedTuple

from sqlalchemy import (
    Integer,
    Select,
    Subquery,
    and_,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from hub.db.tables import UtcDateTime, machine_counts, machine_periods, machines
from hub.db.transactions import Database

# A report reads at most this many periods or counts; a longer period is refused.
MAX_ROWS = 2_000_000

# Windows a query joins at a time (SQLite joins at most 500 selects in one union).
WINDOWS_PER_QUERY = 200

# A window of a report: [start, end) and the number of the row group its sums go to.
Window = tuple[datetime, datetime, int]


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


class Stop(NamedTuple):
    """A stretch of a state other than ``running``, as a report reads it (``end`` None
    while it lasts)."""

    line: str
    station: str
    state: str
    start: datetime
    end: datetime | None


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


def scoped(
    query: Select[Any], line: ColumnElement[str], station: ColumnElement[str],
    lines: Sequence[str], only: str | None,
) -> Select[Any]:  # fmt: skip
    """``query`` kept to ``lines`` (empty: all) and station ``only`` (None: any)."""
    if lines:
        query = query.where(line.in_(lines))
    if only is not None:
        query = query.where(station == only)
    return query


def counts_per_group(
    db: Database,
    windows: Sequence[Window],
    *,
    lines: Sequence[str],
    station: str | None,
) -> dict[tuple[str, str, int], tuple[int, int]]:
    """The parts counted in ``windows`` ([start, end) stretches that do not overlap, each
    with the number of its group), summed by the database: (total, rejects) by line,
    station and group; a station and group without a count is left out."""
    sums: dict[tuple[str, str, int], tuple[int, int]] = {}
    with db.read() as conn:
        for first in range(0, len(windows), WINDOWS_PER_QUERY):
            chunk = windows[first : first + WINDOWS_PER_QUERY]
            for line, at_station, group, total, rejects in conn.execute(
                _group_sums(chunk, lines, station)
            ):
                before = sums.get((line, at_station, group), (0, 0))
                sums[(line, at_station, group)] = (before[0] + int(total), before[1] + int(rejects))
    return sums


def window_rows(windows: Sequence[Window], name: str) -> Subquery:
    """``windows`` as a table to join with: a literal row each (``g``: the group, ``lo``
    and ``hi``: the window's edges), their ``UNION ALL``."""
    parts = [
        select(
            literal(group, Integer).label("g"),
            literal(lo, UtcDateTime).label("lo"),
            literal(hi, UtcDateTime).label("hi"),
        )
        for lo, hi, group in windows
    ]
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery(name)


def _group_sums(
    windows: Sequence[Window], lines: Sequence[str], station: str | None
) -> Select[Any]:
    """Counts summed by line, station and group of ``windows``."""
    table = machine_counts
    window = window_rows(windows, "shift_window")
    inside = and_(table.c.at >= window.c.lo, table.c.at < window.c.hi)
    query: Select[Any] = select(
        table.c.line, table.c.station, window.c.g, func.sum(table.c.total),
        func.sum(table.c.rejects),
    ).select_from(window.join(table, inside))  # fmt: skip
    query = scoped(query, table.c.line, table.c.station, lines, station)
    return query.group_by(table.c.line, table.c.station, window.c.g)


def counts_in_planned_stops(
    db: Database,
    *,
    since: datetime,
    until: datetime,
    lines: Sequence[str],
    station: str | None,
    now: datetime,
) -> list[Count]:
    """The counts of [since, until) that fall in their station's ``planned_stop`` stretch
    (one still open lasts until ``now``), each once (a station's stretches do not
    overlap).

    Both databases must be driven by the planned stops (a few a day per station), each
    looking up its station's counts by time. SQLite does that with a plain join (given a
    bound on the counts' time as well, it walked every count of the month and looked
    for a planned stop around each: minutes for a site's month). PostgreSQL merges the
    month's counts with the stops (0.17 s for a site's month) unless each stop's counts
    are a LATERAL subquery that its LIMIT keeps from being merged (0.04 s). Counts
    outside [since, until) of a stop that reaches past it are dropped here."""
    query = _in_planned_stops(db.engine.dialect.name, since=since, until=until, now=now)
    query = scoped(query, machine_periods.c.line, machine_periods.c.station, lines, station)
    with db.read() as conn:
        # No LIMIT on the query: PostgreSQL then planned for the first rows (a scan of
        # every period, 0.2 s) though the limit was far above what it expected.
        rows = conn.execute(query).fetchmany(MAX_ROWS + 1)
    if len(rows) > MAX_ROWS:
        raise TooManyRows(f"more than {MAX_ROWS} part counts; ask for a shorter period")
    return [Count(*row) for row in rows if since <= row.at < until]


def _in_planned_stops(
    dialect: str, *, since: datetime, until: datetime, now: datetime
) -> Select[Any]:
    counts, periods = machine_counts, machine_periods
    stop_end = func.coalesce(periods.c.ended_at, literal(now, UtcDateTime))
    columns = (counts.c.line, counts.c.station, counts.c.at, counts.c.total, counts.c.rejects)
    during = and_(
        counts.c.line == periods.c.line,
        counts.c.station == periods.c.station,
        counts.c.at >= periods.c.started_at,
        counts.c.at < stop_end,
    )
    stops = and_(periods.c.state == "planned_stop", _overlapping(since, until))
    if dialect == "sqlite":
        return select(*columns).select_from(periods.join(counts, during)).where(stops)
    in_stop = (
        select(*columns)
        .where(during, counts.c.at >= since, counts.c.at < until)
        .limit(MAX_ROWS + 1)
        .lateral("in_stop")
    )
    return select(*in_stop.c).select_from(periods.join(in_stop, true())).where(stops)


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
