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
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from hub.config.file import HubConfig
from hub.machines.periods import Count, Machine, Period
from hub.shifts.production import (
    Stretch,
    inside,
    overlap,
    overlap_one,
    shift_windows,
    subtract,
    union,
)

OeeBy = Literal["station", "line", "shift"]


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


def _station_sums(
    windows: Sequence[Stretch],
    stops: Sequence[Period],
    counts: Sequence[Count],
    machine: Machine,
    *,
    micro_stop_s: float,
    now: datetime,
) -> _Sums:
    """One station's sums over ``windows`` (merged stretches of the period's shifts)."""
    planned_stops: list[Stretch] = []
    downtime: list[Stretch] = []
    micro: list[Stretch] = []
    for period in stops:
        end = period.end or max(now, period.start)
        if period.state == "planned_stop":
            planned_stops.append((period.start, end))
        elif (end - period.start).total_seconds() >= micro_stop_s:
            downtime.append((period.start, end))
        elif period.end is not None:
            micro.append((period.start, end))
    planned = subtract(windows, planned_stops)
    sums = _Sums(planned_s=sum((b - a).total_seconds() for a, b in planned))
    sums.down_s = overlap(downtime, planned)
    for stretch in micro:
        seconds = overlap_one(stretch, planned)
        if seconds > 0:
            sums.micro_stops += 1
            sums.micro_stop_total_s += seconds
    for count in counts:
        if inside(count.at, planned):
            sums.total += count.total
            sums.rejects += count.rejects
    ideal = machine.ideal_cycle_s
    sums.ideal_parts_s = None if ideal is None else ideal * sums.total
    return sums


def oee_rows(
    config: HubConfig,
    machines: Sequence[Machine],
    stops: Sequence[Period],
    counts: Sequence[Count],
    *,
    since: datetime,
    until: datetime,
    by: OeeBy,
    now: datetime,
) -> list[OeeRow]:
    """The OEE rows of [since, until) ``by`` station, line or shift."""
    windows = shift_windows(config.shifts, config.timezone, since, until)
    groups: dict[str | None, list[Stretch]] = defaultdict(list)
    for begin, finish, shift in windows:
        groups[shift if by == "shift" else None].append((begin, finish))
    stops_of: dict[tuple[str, str], list[Period]] = defaultdict(list)
    for period in stops:
        stops_of[(period.line, period.station)].append(period)
    counts_of: dict[tuple[str, str], list[Count]] = defaultdict(list)
    for count in counts:
        counts_of[(count.line, count.station)].append(count)
    rows: list[OeeRow] = []
    lines: dict[str, _Sums] = {}
    shift_ids = [s.id for s in config.shifts] if by == "shift" else [None]
    for machine in machines:
        key = (machine.line, machine.station)
        for shift in shift_ids:
            sums = _station_sums(
                union(groups.get(shift, [])), stops_of[key], counts_of[key], machine,
                micro_stop_s=config.micro_stop_s, now=now,
            )  # fmt: skip
            if by == "line":
                lines.setdefault(machine.line, _Sums()).add(sums)
            else:
                rows.append(_row(machine.line, machine.station, shift, sums, machine.ideal_cycle_s))
    rows += [_row(line, None, None, sums, None) for line, sums in lines.items()]
    return rows


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
