"""OEE per station, line or shift from the machines' state periods and part counts.

Definitions (docs/machines.md states them for people, and the reports page too):

- planned time (``planned_s``): the time in [since, until) inside the site's shifts (all
  of it without shifts) minus the machine's ``planned_stop`` stretches;
- a downtime period is a stretch of one state other than ``running`` and
  ``planned_stop`` that lasts at least ``micro_stop_s``; a shorter one is a micro-stop
  (counted in ``micro_stops`` where it overlaps planned time, its time there in
  ``micro_stop_total_s``), which counts as run time;
- ``down_s``: the time of downtime periods inside planned time; ``run_s`` = planned_s -
  down_s; a period still open lasts until ``now``;
- availability = run_s / planned_s, performance = ideal_cycle_s x total / run_s,
  quality = good / total, oee = their product; null where a denominator is 0;
- total and good: the parts counted at moments inside planned time; good = total -
  rejects.

The database sums the parts counted inside the shift windows per station and row group
(a shift, or the whole period): a month of a site's counts never crosses into Python
one by one; the few counts that fall in a planned stop are read and taken off their
group's sums. It sums the seconds of the stops wholly inside a window the same way
(``hub.machines.stop_sums``); the few that cross a window's edge, and those still open,
are read and their time worked out here.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from hub.config.file import HubConfig
from hub.db.transactions import Database
from hub.machines.periods import (
    Count,
    Machine,
    Stop,
    Window,
    counts_in_planned_stops,
    counts_per_group,
    known_machines,
)
from hub.machines.stop_sums import StopSums, stop_sums
from hub.shifts.production import (
    Stretch,
    overlap,
    overlap_one,
    shift_windows,
    subtract,
    union,
)

OeeBy = Literal["station", "line", "shift"]
# What the reports group by inside the hub: the API's choices, and ``site``, one row over
# every machine asked for (summed like a line's; its ``line`` is ``SITE``).
Grouping = OeeBy | Literal["site"]
SITE = "*"


@dataclass(frozen=True)
class Counted:
    """The parts of a report's period: (total, rejects) summed per line, station and
    group of ``Windows`` (by the group's index), and the counts among them that fall in
    a planned stop."""

    per_group: dict[tuple[str, str, int], tuple[int, int]]
    in_planned_stops: Sequence[Count]


@dataclass(frozen=True)
class Windows:
    """Where a report counts: the stretches of its period inside the site's shifts, in
    time order, each with the index of the group of rows it adds to (``groups``: each
    shift's id ``by`` shift, else one group, None)."""

    groups: list[str | None]
    windows: list[Window]

    @classmethod
    def of(cls, config: HubConfig, since: datetime, until: datetime, by: Grouping) -> Windows:
        if by != "shift":
            whole = report_windows(config, since, until)
            return cls([None], [(begin, finish, 0) for begin, finish, _ in whole])
        groups: list[str | None] = [s.id for s in config.shifts]
        windows = [  # without shifts, the one window has none: no rows by shift
            (begin, finish, groups.index(shift))
            for begin, finish, shift in report_windows(config, since, until)
            if shift in groups
        ]
        return cls(groups, windows)


@dataclass(frozen=True)
class OeeRow:
    line: str
    station: str | None
    shift: str | None
    planned_s: float
    run_s: float
    down_s: float
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    total: int
    good: int
    ideal_cycle_s: float | None
    micro_stops: int
    micro_stop_total_s: float


@dataclass
class _Sums:
    planned_s: float = 0.0
    down_s: float = 0.0
    total: int = 0
    rejects: int = 0
    micro_stops: int = 0
    micro_stop_total_s: float = 0.0
    ideal_parts_s: float | None = 0.0  # sum of ideal_cycle_s x total; None: a cycle unknown

    def add(self, other: _Sums) -> None:
        self.planned_s += other.planned_s
        self.down_s += other.down_s
        self.total += other.total
        self.rejects += other.rejects
        self.micro_stops += other.micro_stops
        self.micro_stop_total_s += other.micro_stop_total_s
        if self.ideal_parts_s is None or other.ideal_parts_s is None:
            self.ideal_parts_s = None
        else:
            self.ideal_parts_s += other.ideal_parts_s


def _ratio(top: float | None, bottom: float) -> float | None:
    return None if top is None or bottom == 0 else top / bottom


def _row(
    line: str, station: str | None, shift: str | None, sums: _Sums, ideal: float | None
) -> OeeRow:
    run_s = sums.planned_s - sums.down_s
    good = sums.total - sums.rejects
    availability = _ratio(run_s, sums.planned_s)
    performance = _ratio(sums.ideal_parts_s, run_s)
    quality = _ratio(good, sums.total)
    factors = (availability, performance, quality)
    oee = None if None in factors else availability * performance * quality  # type: ignore[operator]
    return OeeRow(
        line=line, station=station, shift=shift, planned_s=sums.planned_s, run_s=run_s,
        down_s=sums.down_s, availability=availability, performance=performance,
        quality=quality, oee=oee, total=sums.total, good=good, ideal_cycle_s=ideal,
        micro_stops=sums.micro_stops, micro_stop_total_s=sums.micro_stop_total_s,
    )  # fmt: skip


def _stretches(
    stops: Sequence[Stop], *, micro_stop_s: float, now: datetime
) -> tuple[list[Stretch], list[Stretch], list[Stretch]]:
    """One station's planned stops, downtime periods and micro-stops (ended ones), of its
    stops in any order."""
    planned_stops: list[Stretch] = []
    downtime: list[Stretch] = []
    micro: list[Stretch] = []
    for stop in stops:
        end = stop.end or max(now, stop.start)
        if stop.state == "planned_stop":
            planned_stops.append((stop.start, end))
        elif (end - stop.start).total_seconds() >= micro_stop_s:
            downtime.append((stop.start, end))
        elif stop.end is not None:
            micro.append((stop.start, end))
    micro.sort()  # in time order, so that their seconds add up the same way every time
    return planned_stops, downtime, micro


def _time_sums(
    windows: Sequence[Stretch],
    planned_stops: Sequence[Stretch],
    downtime: Sequence[Stretch],
    micro: Sequence[Stretch],
) -> _Sums:
    """One station's times over ``windows`` (merged stretches of the period's shifts)."""
    planned = subtract(windows, planned_stops)
    sums = _Sums(planned_s=sum((b - a).total_seconds() for a, b in planned))
    sums.down_s = overlap(downtime, planned)
    for stretch in micro:
        seconds = overlap_one(stretch, planned)
        if seconds > 0:
            sums.micro_stops += 1
            sums.micro_stop_total_s += seconds
    return sums


def _add_inside(sums: _Sums, inside: dict[str, tuple[float, int]]) -> None:
    """Add the stops wholly inside the windows (by kind: their seconds and stops longer
    than 0 s) to one station's times over those windows."""
    sums.planned_s -= inside.get("planned", (0.0, 0))[0]
    sums.down_s += inside.get("down", (0.0, 0))[0]
    micro_s, micro_stops = inside.get("micro", (0.0, 0))
    sums.micro_stops += micro_stops
    sums.micro_stop_total_s += micro_s


def _window_of(opens: Sequence[datetime], windows: Sequence[Stretch], at: datetime) -> int | None:
    """The index of the window (of ``windows``, in time order) that holds ``at``."""
    index = bisect.bisect_right(opens, at) - 1
    return index if index >= 0 and at < windows[index][1] else None


def oee_rows(
    config: HubConfig,
    machines: Sequence[Machine],
    stops: StopSums,
    counted: Counted,
    cut: Windows,
    *,
    by: Grouping,
    now: datetime,
) -> list[OeeRow]:
    """The OEE rows of a report's period ``by`` station, line, shift or site. ``stops``
    and ``counted`` hold the stops and the parts by group of ``cut``, the report's
    windows; among the counts, those that fall in a planned stop (not planned time)."""
    merged = [
        union([(begin, finish) for begin, finish, g in cut.windows if g == group])
        for group in range(len(cut.groups))
    ]
    stops_of: dict[tuple[str, str], list[Stop]] = defaultdict(list)
    for stop in stops.crossing:
        stops_of[(stop.line, stop.station)].append(stop)
    inside: dict[tuple[str, str, int], dict[str, tuple[float, int]]] = defaultdict(dict)
    for (line, station, group, kind), figures in stops.inside.items():
        inside[(line, station, group)][kind] = figures
    parts = {key: list(figures) for key, figures in counted.per_group.items()}
    opens = [begin for begin, _, _ in cut.windows]
    spans = [(begin, finish) for begin, finish, _ in cut.windows]
    for count in counted.in_planned_stops:
        index = _window_of(opens, spans, count.at)
        if index is not None:
            tally = parts.setdefault((count.line, count.station, cut.windows[index][2]), [0, 0])
            tally[0] -= count.total
            tally[1] -= count.rejects
    rows: list[OeeRow] = []
    lines: dict[str, _Sums] = {}
    for machine in machines:
        key = (machine.line, machine.station)
        planned_stops, downtime, micro = _stretches(
            stops_of[key], micro_stop_s=config.micro_stop_s, now=now
        )
        for group, shift in enumerate(cut.groups):
            sums = _time_sums(merged[group], planned_stops, downtime, micro)
            _add_inside(sums, inside.get((*key, group), {}))
            sums.total, sums.rejects = parts.get((*key, group), [0, 0])
            ideal = machine.ideal_cycle_s
            sums.ideal_parts_s = None if ideal is None else ideal * sums.total
            if by in ("line", "site"):
                lines.setdefault(machine.line if by == "line" else SITE, _Sums()).add(sums)
            else:
                rows.append(_row(machine.line, machine.station, shift, sums, ideal))
    rows += [_row(line, None, None, sums, None) for line, sums in lines.items()]
    return rows


def report_windows(
    config: HubConfig, since: datetime, until: datetime
) -> list[tuple[datetime, datetime, str | None]]:
    """The stretches of [since, until) inside the site's shifts (one stretch without
    shifts), in time order: where a report's parts are counted."""
    return shift_windows(config.shifts, config.timezone, since, until)


def oee_report(
    db: Database,
    config: HubConfig,
    *,
    lines: Sequence[str],
    station: str | None,
    since: datetime,
    until: datetime,
    by: Grouping,
    now: datetime,
) -> list[OeeRow]:
    """The OEE rows of [since, until) on ``lines`` (empty: all), at ``station`` (None:
    every station), read from the database: the stops and parts it sums per shift
    window, and the stops that cross a window's edge. TooManyRows when the period holds
    too many of those."""
    machines = [m for m in known_machines(db, lines) if station in (None, m.station)]
    cut = Windows.of(config, since, until, by)
    stops = stop_sums(
        db, cut.windows, until=until, lines=lines, station=station,
        micro_stop_s=config.micro_stop_s,
    )  # fmt: skip
    counted = Counted(
        per_group=counts_per_group(db, cut.windows, lines=lines, station=station),
        in_planned_stops=counts_in_planned_stops(
            db, since=since, until=until, lines=lines, station=station, now=now
        ),
    )
    return oee_rows(config, machines, stops, counted, cut, by=by, now=now)


CSV_COLUMNS = tuple(OeeRow.__dataclass_fields__)


def oee_csv(rows: Sequence[OeeRow]) -> str:
    """The rows as CSV, one line each, the JSON's keys as its header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = asdict(row)
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return out.getvalue()
