"""Which production shift a moment falls in, and where a site's day starts: pure.

A shift runs every day from its start to its end on its zone's wall clock (into the next
day when it ends before it starts); its boundaries follow the rosters' rule across
daylight-saving changes (hub/shifts/rosters.py). The first shift that covers a moment wins.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.config.file import ProductionShiftConfig
from hub.shifts.rosters import boundary


def shift_of(shifts: Sequence[ProductionShiftConfig], site_zone: str, at: datetime) -> str | None:
    """The id of the first shift covering ``at`` (aware), or None outside every shift."""
    moment = at.astimezone(UTC)
    for shift in shifts:
        zone = ZoneInfo(shift.timezone or site_zone)
        start, end = time.fromisoformat(shift.start), time.fromisoformat(shift.end)
        if start == end:
            continue
        today = moment.astimezone(zone).date()
        for day in (today - timedelta(days=1), today):
            end_day = day + timedelta(days=1) if end < start else day
            if boundary(day, start, zone) <= moment < boundary(end_day, end, zone):
                return shift.id
    return None


def start_of_day(site_zone: str, at: datetime) -> datetime:
    """The UTC instant the site's day containing ``at`` began (its local midnight)."""
    zone = ZoneInfo(site_zone)
    return boundary(at.astimezone(zone).date(), time(0, 0), zone)


def shift_windows(
    shifts: Sequence[ProductionShiftConfig], site_zone: str, since: datetime, until: datetime
) -> list[tuple[datetime, datetime, str | None]]:
    """The stretches of [since, until) inside each shift: (start, end, shift id), in time
    order; where shifts overlap, the first that covers a moment has it (as ``shift_of``).
    Without shifts, the whole period is one stretch of shift None."""
    if not shifts:
        return [(since, until, None)] if since < until else []
    taken: list[tuple[datetime, datetime]] = []
    found: list[tuple[datetime, datetime, str | None]] = []
    for shift in shifts:
        zone = ZoneInfo(shift.timezone or site_zone)
        start, end = time.fromisoformat(shift.start), time.fromisoformat(shift.end)
        if start == end:
            continue
        day = since.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date()
        mine: list[tuple[datetime, datetime]] = []
        while day <= last:
            end_day = day + timedelta(days=1) if end < start else day
            begin, finish = boundary(day, start, zone), boundary(end_day, end, zone)
            begin, finish = max(begin, since), min(finish, until)
            if begin < finish:
                mine.append((begin, finish))
            day += timedelta(days=1)
        for begin, finish in subtract(mine, taken):
            found.append((begin, finish, shift.id))
        taken = union(taken + mine)
    return sorted(found, key=lambda window: window[0])


Stretch = tuple[datetime, datetime]


def union(stretches: Sequence[Stretch]) -> list[Stretch]:
    """``stretches`` merged where they overlap or touch, in time order."""
    merged: list[Stretch] = []
    for begin, finish in sorted(stretches):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def subtract(stretches: Sequence[Stretch], minus: Sequence[Stretch]) -> list[Stretch]:
    """The parts of ``stretches`` (merged) outside every stretch of ``minus``."""
    holes = union(minus)
    left: list[Stretch] = []
    first = 0
    for begin, finish in union(stretches):
        while first < len(holes) and holes[first][1] <= begin:
            first += 1  # holes that end before this stretch end before the next ones too
        cursor, index = begin, first
        while index < len(holes) and holes[index][0] < finish:
            hole_begin, hole_end = holes[index]
            if hole_begin > cursor:
                left.append((cursor, hole_begin))
            cursor = max(cursor, hole_end)
            index += 1
        if cursor < finish:
            left.append((cursor, finish))
    return left


def overlap(stretches: Sequence[Stretch], within: Sequence[Stretch]) -> float:
    """Seconds of ``stretches`` (merged) that lie inside ``within`` (merged)."""
    outer, inner = union(stretches), union(within)
    total, i, j = 0.0, 0, 0
    while i < len(outer) and j < len(inner):
        low, high = max(outer[i][0], inner[j][0]), min(outer[i][1], inner[j][1])
        if low < high:
            total += (high - low).total_seconds()
        if outer[i][1] < inner[j][1]:
            i += 1
        else:
            j += 1
    return total


def overlap_one(stretch: Stretch, merged: Sequence[Stretch]) -> float:
    """Seconds of one ``stretch`` inside ``merged`` (stretches merged, in time order)."""
    begin, finish = stretch
    total = 0.0
    index = max(bisect.bisect_right(merged, (begin, begin)) - 1, 0)
    while index < len(merged) and merged[index][0] < finish:
        low, high = max(begin, merged[index][0]), min(finish, merged[index][1])
        if low < high:
            total += (high - low).total_seconds()
        index += 1
    return total


def inside(moment: datetime, stretches: Sequence[Stretch]) -> bool:
    """Whether ``moment`` lies in one of ``stretches`` (merged, in time order)."""
    index = bisect.bisect_right(stretches, (moment, moment)) - 1
    for candidate in (index, index + 1):
        if 0 <= candidate < len(stretches):
            begin, finish = stretches[candidate]
            if begin <= moment < finish:
                return True
    return False
