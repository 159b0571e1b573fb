"""A report's stops as OEE needs them: the database sums the seconds of the stops that lie
wholly inside one window of the report (almost all of them), per station, row group (a
shift, or the whole period) and kind; only the few that cross a window's edge, and
those still open, are read one by one.

A machine's periods never overlap (each ends where the next begins), so a stop inside a
window adds its whole seconds to that window's downtime, planned stops or micro-stops,
and no other stop's arithmetic changes by it.

To find both without looking at a stop twice, the time after the windows' first edge
is cut at every edge into intervals; each ended stop belongs to the interval that holds
its end. It lies inside a window when that interval is a window and the stop began in
it; it crosses an edge when it began before the interval (that edge lies inside it);
otherwise it lies wholly between two windows and counts for nothing. A stop ending
before the first edge lies before every window. The database finds each interval's
stops by the index on their end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Join, Select, Subquery, and_, case, func, literal, select

from hub.db.tables import machine_periods
from hub.db.transactions import Database
from hub.machines.periods import (
    MAX_ROWS,
    WINDOWS_PER_QUERY,
    Stop,
    TooManyRows,
    Window,
    scoped,
    window_rows,
)

Kind = Literal["planned", "down", "micro"]

# The end of the last interval: after every stop's end.
LAST = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StopSums:
    """``inside``: (seconds, stops longer than 0 s) of the stops wholly inside a window, by
    line, station, the window's group and kind (``planned`` stops, ``down``: lasting at
    least ``micro_stop_s``, ``micro``: shorter); ``crossing``: the stops that cross a
    window's edge, and those still open that began before the period's end."""

    inside: dict[tuple[str, str, int, Kind], tuple[float, int]]
    crossing: list[Stop]


def _intervals(windows: Sequence[Window]) -> list[Window]:
    """(after, up to, the window's group or -1 between windows): the time from the
    windows' first edge on cut at every edge, in time order."""
    edges = sorted({moment for begin, end, _ in windows for moment in (begin, end)})
    if not edges:
        return []
    index = {(begin, end): group for begin, end, group in windows}
    ends = [*edges[1:], LAST]
    return [(lo, hi, index.get((lo, hi), -1)) for lo, hi in zip(edges, ends, strict=True)]


def _stops_ending_in(cut: Subquery) -> Join:
    table = machine_periods
    ends_in = and_(
        table.c.ended_at > cut.c.lo, table.c.ended_at <= cut.c.hi, table.c.state != "running"
    )
    return cut.join(table, ends_in)


def _scope(query: Select[Any], lines: Sequence[str], station: str | None) -> Select[Any]:
    return scoped(query, machine_periods.c.line, machine_periods.c.station, lines, station)


_STOP = (
    machine_periods.c.line, machine_periods.c.station, machine_periods.c.state,
    machine_periods.c.started_at, machine_periods.c.ended_at,
)  # fmt: skip


def _inside(intervals: Sequence[Window], micro_stop_s: float) -> Select[Any]:
    """Seconds and stops longer than 0 s, by line, station, group and kind, of the
    stops wholly inside the windows among ``intervals``."""
    table = machine_periods
    cut = window_rows(intervals, "interval")
    kind = case(
        (table.c.state == "planned_stop", literal("planned")),
        (table.c.seconds >= micro_stop_s, literal("down")),
        else_=literal("micro"),
    ).label("kind")
    query: Select[Any] = select(
        table.c.line, table.c.station, cut.c.g, kind, func.sum(table.c.seconds),
        func.sum(case((table.c.seconds > 0, 1), else_=0)),
    ).select_from(_stops_ending_in(cut))  # fmt: skip
    query = query.where(table.c.started_at >= cut.c.lo)
    return query.group_by(table.c.line, table.c.station, cut.c.g, kind)


def _across(intervals: Sequence[Window]) -> Select[Any]:
    """The stops that end in one of ``intervals`` and began before it."""
    cut = window_rows(intervals, "interval")
    query = select(*_STOP).select_from(_stops_ending_in(cut))
    return query.where(machine_periods.c.started_at < cut.c.lo)


def stop_sums(
    db: Database,
    windows: Sequence[Window],
    *,
    until: datetime,
    lines: Sequence[str],
    station: str | None,
    micro_stop_s: float,
) -> StopSums:
    """The stops of ``windows`` (that do not overlap, the last ending by ``until``), summed
    by the windows' groups, on ``lines`` (empty: all) at ``station`` (None: any).
    TooManyRows when more stops cross an edge than a report reads."""
    table = machine_periods
    intervals = _intervals(windows)
    inside: dict[tuple[str, str, int, Kind], tuple[float, int]] = {}
    crossing: list[Stop] = []
    with db.read() as conn:
        for first in range(0, len(intervals), WINDOWS_PER_QUERY):
            chunk = intervals[first : first + WINDOWS_PER_QUERY]
            in_windows = [interval for interval in chunk if interval[2] >= 0]
            if in_windows:
                for row in conn.execute(_scope(_inside(in_windows, micro_stop_s), lines, station)):
                    line, at, group, kind, seconds, stops = tuple[Any, ...](row)
                    key = (line, at, group, kind)
                    before_s, before = inside.get(key, (0.0, 0))
                    inside[key] = (before_s + float(seconds), before + int(stops))
            # No LIMIT on the query (PostgreSQL would plan for the first rows): fetched so.
            across = conn.execute(_scope(_across(chunk), lines, station))
            crossing += [Stop._make(row) for row in across.fetchmany(MAX_ROWS + 1)]
        still_open = select(*_STOP).where(
            table.c.ended_at.is_(None), table.c.started_at < until, table.c.state != "running"
        )
        crossing += [Stop._make(row) for row in conn.execute(_scope(still_open, lines, station))]
    if len(crossing) > MAX_ROWS:
        raise TooManyRows(f"more than {MAX_ROWS} machine periods; ask for a shorter period")
    return StopSums(inside=inside, crossing=crossing)
