"""Which production shift a moment falls in, and where a site's day starts: pure.

A shift runs every day from its start to its end on its zone's wall clock (into the next
day when it ends before it starts); its boundaries follow the rosters' rule across
daylight-saving changes (hub/shifts/rosters.py). The first shift that covers a moment wins.
"""

from __future__ import annotations

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
