"""Quality figures per station and shift from the parts the edges' counters counted:
defect rate, rework rate and first-pass yield, and their trend week over week.

The hub keeps parts counted per station and UTC hour (hub/measurements/quality_counts.py turns each
counter reading into an increment, so a counter reset never shows as a negative or a
huge count). Over a set of hours:

- defect rate = defective / inspected
- rework rate = reworked / inspected
- first-pass yield = good the first time / inspected, where good the first time is
  inspected - defective - reworked (parts neither rejected nor sent to rework; with the
  station's ``defective_includes_reworked``, inspected - defective), never below 0.

A rate is ``None`` when nothing was inspected or when its station has no counter of that
kind (a station that counts no rework has no rework rate, not a rework rate of 0). An
hour counts in the shift its start falls in; the trend compares the ISO week (Monday to
Sunday on the plant's wall clock) that holds the period's end with the week before.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hub.calls.repository import Store
from hub.config.file import HubConfig
from hub.config.measurements import COUNTERS, QualityCounters
from hub.db.tables import quality_counts
from hub.shifts.production import shift_of
from hub.shifts.rosters import boundary

# A report reads at most this many station-hours; a longer period is refused, not cut.
MAX_BUCKETS = 200_000
RATES = ("defect_rate", "rework_rate", "first_pass_yield")
K = TypeVar("K", bound=Hashable | None)


class TooManyBuckets(ValueError):
    """The period holds more station-hours than one report reads."""


@dataclass(frozen=True)
class Bucket:
    """Parts counted at one station in one UTC hour."""

    line: str
    station: str
    hour: datetime
    inspected: int
    defective: int
    reworked: int


@dataclass(frozen=True)
class Counting:
    """Which counters a station has, and whether its rejects include its reworked parts."""

    kinds: tuple[str, ...] = COUNTERS
    defective_includes_reworked: bool = False

    @classmethod
    def of(cls, entry: QualityCounters | None) -> Counting:
        if entry is None:  # a station no longer in the file: read what it counted
            return cls()
        return cls(tuple(entry.counters().values()), entry.defective_includes_reworked)


@dataclass(frozen=True)
class QualityFigures:
    """Parts and rates of one station over some hours (rates from 0 to 1, or None)."""

    inspected: int
    defective: int
    reworked: int
    good_first_pass: int | None
    defect_rate: float | None
    rework_rate: float | None
    first_pass_yield: float | None

    @classmethod
    def of(cls, buckets: Iterable[Bucket], counting: Counting) -> QualityFigures:
        rows = list(buckets)
        inspected = sum(b.inspected for b in rows)
        defective = sum(b.defective for b in rows)
        reworked = sum(b.reworked for b in rows)
        kinds = counting.kinds
        good: int | None = None
        if "inspected" in kinds and ("defective" in kinds or "reworked" in kinds):
            lost = defective + (0 if counting.defective_includes_reworked else reworked)
            good = max(inspected - lost, 0)

        def rate(count: int | None, kind: str) -> float | None:
            if count is None or kind not in kinds or "inspected" not in kinds or not inspected:
                return None
            return count / inspected

        return cls(
            inspected=inspected,
            defective=defective,
            reworked=reworked,
            good_first_pass=good,
            defect_rate=rate(defective, "defective"),
            rework_rate=rate(reworked, "reworked"),
            first_pass_yield=rate(good, "inspected"),
        )


@dataclass(frozen=True)
class ShiftFigures:
    shift: str | None  # None: hours outside every shift
    figures: QualityFigures


@dataclass(frozen=True)
class Trend:
    """This ISO week against the one before; ``delta`` is this minus last, per rate."""

    this_week: QualityFigures
    last_week: QualityFigures
    delta: dict[str, float | None]

    @classmethod
    def of(cls, this_week: QualityFigures, last_week: QualityFigures) -> Trend:
        delta: dict[str, float | None] = {}
        for name in RATES:
            now, before = getattr(this_week, name), getattr(last_week, name)
            delta[name] = None if now is None or before is None else now - before
        return cls(this_week, last_week, delta)


@dataclass(frozen=True)
class StationQuality:
    line: str
    station: str
    counters: tuple[str, ...]
    figures: QualityFigures  # the whole period
    shifts: list[ShiftFigures]
    trend: Trend


@dataclass(frozen=True)
class Weeks:
    """The ISO week holding the period's end (up to that end) and the whole week before."""

    this_start: datetime
    this_end: datetime
    last_start: datetime
    this_week: str  # ISO 8601: 2026-W49
    last_week: str

    @classmethod
    def ending(cls, until: datetime, site_zone: str) -> Weeks:
        zone = ZoneInfo(site_zone)
        last_moment = until - timedelta(microseconds=1)
        day = last_moment.astimezone(zone).date()
        monday = day - timedelta(days=day.weekday())
        this_start = boundary(monday, time(0, 0), zone)
        next_start = boundary(monday + timedelta(days=7), time(0, 0), zone)
        last_monday = monday - timedelta(days=7)
        last_start = boundary(last_monday, time(0, 0), zone)
        return cls(
            this_start,
            min(until, next_start),
            last_start,
            _iso_week(monday),
            _iso_week(last_monday),
        )


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def read_buckets(
    store: Store, *, start: datetime, end: datetime, lines: Sequence[str] = ()
) -> list[Bucket]:
    """Every station-hour that starts in [start, end) on ``lines`` (empty: all)."""
    table = quality_counts
    query = select(
        table.c.line, table.c.station, table.c.hour,
        table.c.inspected, table.c.defective, table.c.reworked,
    ).where(table.c.hour >= start, table.c.hour < end)  # fmt: skip
    if lines:
        query = query.where(table.c.line.in_(lines))
    query = query.order_by(table.c.line, table.c.station, table.c.hour).limit(MAX_BUCKETS + 1)
    with store.read() as conn:
        rows = conn.execute(query).all()
    if len(rows) > MAX_BUCKETS:
        raise TooManyBuckets(
            f"more than {MAX_BUCKETS} station-hours in this period; ask for a shorter one"
        )
    return [Bucket(*row) for row in rows]


def station_quality(
    period: Sequence[Bucket], weeks: Sequence[Bucket], *, config: HubConfig, week: Weeks
) -> list[StationQuality]:
    """Figures per station (in the file's order, then any others): the period's, by
    shift, and the trend from ``weeks`` (the buckets of the two weeks)."""
    entries = {(q.line, q.station): q for q in config.measurements.quality}
    by_station = _group(period, lambda b: (b.line, b.station))
    week_buckets = _group(weeks, lambda b: (b.line, b.station))
    order = [key for key in entries if key in by_station or key in week_buckets]
    order += sorted((set(by_station) | set(week_buckets)) - set(order))
    found: list[StationQuality] = []
    for key in order:
        counting = Counting.of(entries.get(key))
        buckets = by_station.get(key, [])
        in_weeks = week_buckets.get(key, [])
        found.append(
            StationQuality(
                line=key[0],
                station=key[1],
                counters=counting.kinds,
                figures=QualityFigures.of(buckets, counting),
                shifts=_by_shift(buckets, counting, config),
                trend=Trend.of(
                    QualityFigures.of((b for b in in_weeks if b.hour >= week.this_start), counting),
                    QualityFigures.of((b for b in in_weeks if b.hour < week.this_start), counting),
                ),
            )
        )
    return found


def _by_shift(
    buckets: Sequence[Bucket], counting: Counting, config: HubConfig
) -> list[ShiftFigures]:
    """A row per shift that counted parts, in the file's order; hours outside every shift
    last."""
    groups = _group(buckets, lambda b: shift_of(config.shifts, config.timezone, b.hour))
    order: list[str | None] = [s.id for s in config.shifts if s.id in groups]
    order += [None] if None in groups else []
    return [ShiftFigures(key, QualityFigures.of(groups[key], counting)) for key in order]


def _group(buckets: Iterable[Bucket], key: Callable[[Bucket], K]) -> dict[K, list[Bucket]]:
    groups: dict[K, list[Bucket]] = {}
    for bucket in buckets:
        groups.setdefault(key(bucket), []).append(bucket)
    return groups


CSV_COLUMNS = [
    "line", "station", "station_label", "shift", "shift_label",
    "inspected", "defective", "reworked", "good_first_pass", *RATES,
    *(f"{name}_{week}" for name in RATES for week in ("this_week", "last_week", "delta")),
]  # fmt: skip


def quality_csv(stations: Sequence[StationQuality], label: Callable[[str, str | None], str]) -> str:
    """A line per station and shift, and one per station with shift ``all``; the week's
    trend on each of a station's lines. ``label(dimension, key)`` names a key."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in stations:
        trend = [
            _csv_rate(value)
            for name in RATES
            for value in (
                getattr(item.trend.this_week, name),
                getattr(item.trend.last_week, name),
                item.trend.delta[name],
            )
        ]
        station_key = f"{item.line}/{item.station}"
        rows = [("all", "all", item.figures)]
        rows += [(s.shift or "", label("shift", s.shift), s.figures) for s in item.shifts]
        for shift, shift_label, figures in rows:
            writer.writerow(
                [
                    item.line, item.station, label("station", station_key), shift, shift_label,
                    figures.inspected, figures.defective, figures.reworked,
                    "" if figures.good_first_pass is None else figures.good_first_pass,
                    *(_csv_rate(getattr(figures, name)) for name in RATES), *trend,
                ]
            )  # fmt: skip
    return out.getvalue()


def _csv_rate(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"
