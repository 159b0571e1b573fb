"""Response figures over a period: times to acknowledge, arrive and resolve, unattended
time, and calls counted by reason code (a Pareto), line, station, call type or shift.

The figures are computed from the calls themselves (the database is the truth), read
a page at a time; the arithmetic is pure and takes ``now`` for calls still open.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.calls.lifecycle import OPEN_STATES, CallState
from hub.calls.records import Call, CallFilter
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.db.paging import MAX_PAGE
from hub.shifts.production import shift_of

DIMENSIONS = ("reason_code", "line", "station", "call_type", "shift")
TIMES = ("to_acknowledge_s", "to_arrive_s", "to_resolve_s", "unattended_s")
# A report reads at most this many calls; a longer period is refused, not cut short.
MAX_CALLS = 200_000


class PeriodTooLong(ValueError):
    """The period holds more calls than one report reads."""


@dataclass(frozen=True)
class TimeFigures:
    """Seconds, over the calls in which the step happened (None: in none of them)."""

    median: float | None
    mean: float | None
    total: float

    @classmethod
    def of(cls, values: Sequence[float]) -> TimeFigures:
        if not values:
            return cls(None, None, 0.0)
        return cls(statistics.median(values), statistics.fmean(values), sum(values))


@dataclass(frozen=True)
class Figures:
    """The response figures of a set of calls."""

    calls: int
    open: int
    resolved: int
    cancelled: int
    times: dict[str, TimeFigures]

    @classmethod
    def of(cls, calls: Sequence[Call], now: datetime) -> Figures:
        durations = [call.durations(now) for call in calls]
        times = {
            name: TimeFigures.of([v for d in durations if (v := getattr(d, name)) is not None])
            for name in TIMES
        }
        states = [call.state for call in calls]
        return cls(
            calls=len(calls),
            open=sum(state in OPEN_STATES for state in states),
            resolved=sum(state in (CallState.RESOLVED, CallState.VERIFIED) for state in states),
            cancelled=states.count(CallState.CANCELLED),
            times=times,
        )


@dataclass(frozen=True)
class Row:
    """One group of a breakdown: its key (None: calls outside every shift), its name."""

    key: str | None
    label: str
    share: float  # of the breakdown's calls
    cumulative_share: float  # this row and every larger one: the Pareto line
    figures: Figures


def read_period(
    store: Store, *, since: datetime, until: datetime, lines: Sequence[str] = ()
) -> list[Call]:
    """Every call raised in [since, until) on ``lines`` (empty: all), oldest first."""
    found: list[Call] = []
    after: int | None = None
    while True:
        page = store.list_calls(
            CallFilter(since=since, until=until, lines=lines, after=after, limit=MAX_PAGE)
        )
        found += page[:MAX_PAGE]
        if len(found) > MAX_CALLS:
            raise PeriodTooLong(
                f"more than {MAX_CALLS} calls in this period; ask for a shorter one"
            )
        if len(page) <= MAX_PAGE:
            return found
        after = page[MAX_PAGE - 1].id


def key_of(dimension: str, config: HubConfig) -> Callable[[Call], str | None]:
    """How a call is grouped for ``dimension`` (one of DIMENSIONS)."""
    if dimension == "shift":
        return lambda call: shift_of(config.shifts, config.timezone, call.raised_at)
    if dimension == "station":
        return lambda call: f"{call.line}/{call.station}"
    if dimension == "reason_code":
        return lambda call: call.reason_code
    return lambda call: str(getattr(call, dimension))


def breakdown(
    calls: Iterable[Call],
    *,
    key: Callable[[Call], str | None],
    label: Callable[[str | None], str],
    now: datetime,
    skip_none: bool = False,
) -> list[Row]:
    """Calls grouped by ``key``, the largest group first (ties by key): a Pareto table."""
    groups: dict[str | None, list[Call]] = {}
    for call in calls:
        groups.setdefault(key(call), []).append(call)
    if skip_none:
        groups.pop(None, None)
    total = sum(len(group) for group in groups.values())
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0] is None, item[0]))
    rows: list[Row] = []
    running = 0
    for group_key, group in ordered:
        running += len(group)
        rows.append(
            Row(
                key=group_key,
                label=label(group_key),
                share=len(group) / total,
                cumulative_share=running / total,
                figures=Figures.of(group, now),
            )
        )
    return rows


CSV_COLUMNS = [
    "key", "label", "calls", "share", "cumulative_share", "open", "resolved", "cancelled",
    *(f"{stat}_{name}" for name in TIMES for stat in ("median", "mean", "total")),
]  # fmt: skip


def rows_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV, one line per group, times in seconds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        figures = row.figures
        times = [
            _csv_number(getattr(figures.times[name], stat))
            for name in TIMES
            for stat in ("median", "mean", "total")
        ]
        writer.writerow(
            [
                row.key or "", row.label, figures.calls, f"{row.share:.4f}",
                f"{row.cumulative_share:.4f}", figures.open, figures.resolved,
                figures.cancelled, *times,
            ]
        )  # fmt: skip
    return out.getvalue()


def _csv_number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"
