"""Weekly trends: one value per ISO week (Monday to Sunday on the site's wall clock) over
the last weeks, for each series of ``SERIES``.

A series is a row of the table: its name, its unit and how its weekly values are made
from a ``TrendSources`` (which reads each kind of data once for all weeks). A new figure
is one more row.

- Times (seconds): the median over the calls raised in the week in which the step
  happened (``hub/reports/calls.py``'s figures); None for a week with no such call.
- Quality rates (fractions 0 to 1): parts counted in the week at every station that has
  the counters a rate needs, summed, then divided (``hub/reports/quality.py``'s
  definitions per station): defect rate = sum(defective) / sum(inspected) over the
  stations that count defects, likewise rework rate and first-pass yield. None when
  those stations inspected nothing in the week. An hour counts in the week its start
  falls in.
- OEE (a fraction): the week's OEE over every machine on the lines asked for, summed as
  ``hub/reports/oee.py`` sums a line's stations (availability = sum(run) / sum(planned),
  performance = sum(ideal cycle x parts) / sum(run), quality = sum(good) / sum(parts)),
  up to now in the current week. None for a week without planned time or parts, or when
  a machine has no ideal cycle time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from hub.calls.records import Call
from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.reports.calls import TimeFigures, read_period
from hub.reports.oee import OeeRow, oee_report
from hub.reports.quality import Bucket, Counting, QualityFigures, read_buckets
from hub.shifts.rosters import boundary

WEEKS = 12  # the default span; a request may ask for 1 to MAX_WEEKS
MAX_WEEKS = 53
Unit = Literal["seconds", "ratio"]


@dataclass(frozen=True)
class Week:
    """One ISO week on the site's wall clock: [start, end) in UTC."""

    week: str  # ISO 8601: 2026-W49
    start: datetime
    end: datetime


def weeks_ending(until: datetime, site_zone: str, count: int = WEEKS) -> list[Week]:
    """The ``count`` ISO weeks up to the one holding ``until``'s last moment, oldest first
    (the last one whole: its end may lie after ``until``)."""
    zone = ZoneInfo(site_zone)
    day = (until - timedelta(microseconds=1)).astimezone(zone).date()
    monday = day - timedelta(days=day.weekday())
    found = []
    for back in range(count - 1, -1, -1):
        first = monday - timedelta(days=7 * back)
        found.append(
            Week(
                _iso_week(first),
                boundary(first, time(0, 0), zone),
                boundary(first + timedelta(days=7), time(0, 0), zone),
            )
        )
    return found


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class TrendSources:
    """What the series read, each kind read once over all the weeks, on ``lines``."""

    store: Store
    config: HubConfig
    lines: Sequence[str]
    weeks: Sequence[Week]
    now: datetime

    @cached_property
    def calls(self) -> list[list[Call]]:
        """The calls raised in each week."""
        found = read_period(
            self.store, since=self.weeks[0].start, until=self.weeks[-1].end, lines=self.lines
        )
        return [[c for c in found if week.start <= c.raised_at < week.end] for week in self.weeks]

    @cached_property
    def quality(self) -> list[list[QualityFigures]]:
        """Each week's quality figures, one per station that counted parts in it."""
        buckets = read_buckets(
            self.store, start=self.weeks[0].start, end=self.weeks[-1].end, lines=self.lines
        )
        countings = {(q.line, q.station): q for q in self.config.measurements.quality}
        found = []
        for week in self.weeks:
            stations: dict[tuple[str, str], list[Bucket]] = {}
            for bucket in buckets:
                if week.start <= bucket.hour < week.end:
                    stations.setdefault((bucket.line, bucket.station), []).append(bucket)
            found.append(
                [
                    QualityFigures.of(rows, Counting.of(countings.get(key)))
                    for key, rows in sorted(stations.items())
                ]
            )
        return found

    @cached_property
    def oee(self) -> list[OeeRow | None]:
        """Each week's OEE row over every machine on ``lines`` (None: no machine, or a
        week that has not begun), up to ``now``."""
        found: list[OeeRow | None] = []
        for week in self.weeks:
            end = min(week.end, self.now)
            rows = []
            if end > week.start:
                rows = oee_report(
                    self.store, self.config, lines=self.lines, station=None,
                    since=week.start, until=end, by="site", now=self.now,
                )  # fmt: skip
            found.append(rows[0] if rows else None)
        return found


def _median_time(name: str) -> Callable[[TrendSources], list[float | None]]:
    def weekly(sources: TrendSources) -> list[float | None]:
        # Only steps that happened count (``now`` moves the unattended time alone, which
        # no series uses): a call still open has no time to resolve, not one until now.
        values = []
        for calls in sources.calls:
            steps = [v for c in calls if (v := getattr(c.durations(c.raised_at), name)) is not None]
            values.append(TimeFigures.of(steps).median)
        return values

    return weekly


def _pooled_rate(
    name: str, count: Callable[[QualityFigures], int | None]
) -> Callable[[TrendSources], list[float | None]]:
    def weekly(sources: TrendSources) -> list[float | None]:
        values: list[float | None] = []
        for stations in sources.quality:
            counted = [s for s in stations if getattr(s, name) is not None]
            inspected = sum(s.inspected for s in counted)
            part = sum(count(s) or 0 for s in counted)
            values.append(part / inspected if inspected else None)
        return values

    return weekly


@dataclass(frozen=True)
class Series:
    """A row of the table: a figure's name, its unit, its weekly values."""

    name: str
    unit: Unit
    weekly: Callable[[TrendSources], list[float | None]] = field(repr=False)


SERIES: tuple[Series, ...] = (
    Series("to_acknowledge_s", "seconds", _median_time("to_acknowledge_s")),
    Series("to_arrive_s", "seconds", _median_time("to_arrive_s")),
    Series("to_resolve_s", "seconds", _median_time("to_resolve_s")),
    Series("defect_rate", "ratio", _pooled_rate("defect_rate", lambda q: q.defective)),
    Series("rework_rate", "ratio", _pooled_rate("rework_rate", lambda q: q.reworked)),
    Series(
        "first_pass_yield", "ratio", _pooled_rate("first_pass_yield", lambda q: q.good_first_pass)
    ),
    Series("oee", "ratio", lambda sources: [None if r is None else r.oee for r in sources.oee]),
)
SERIES_NAMES = tuple(series.name for series in SERIES)


@dataclass(frozen=True)
class SeriesValues:
    name: str
    unit: Unit
    values: list[float | None]  # one per week, oldest first


def weekly_trends(sources: TrendSources, names: Sequence[str] = SERIES_NAMES) -> list[SeriesValues]:
    """The chosen series (in the table's order), each with a value per week."""
    return [
        SeriesValues(series.name, series.unit, series.weekly(sources))
        for series in SERIES
        if series.name in names
    ]


def trends_csv(weeks: Sequence[Week], series: Sequence[SeriesValues]) -> str:
    """A line per week: its ISO name, start and end, and a column per series."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "start", "end", *(s.name for s in series)])
    for i, week in enumerate(weeks):
        cells = [_csv_value(s.values[i], s.unit) for s in series]
        writer.writerow([week.week, week.start.isoformat(), week.end.isoformat(), *cells])
    return out.getvalue()


def _csv_value(value: float | None, unit: Unit) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if unit == "seconds" else f"{value:.6f}"
