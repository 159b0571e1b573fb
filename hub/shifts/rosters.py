"""Who is on shift at a moment: pure, the moment is a parameter and no clock is read.

A shift is a span of the roster's wall clock. Each boundary (start or end) takes effect
at the first instant at which the roster's clock reads that time or later on that date:
a boundary in the hour skipped when clocks go forward takes effect when they jump (a
shift from 02:30 starts at 03:00), and one in the hour repeated when clocks go back at
its first occurrence. So a night shift across a change lasts an hour less or more, and
two shifts that meet at a boundary never overlap or leave a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.config.escalation import WEEKDAYS, RosterConfig, ShiftConfig


@dataclass(frozen=True)
class OnShift:
    """Who answers for a roster at one moment, and why."""

    members: tuple[str, ...]
    shift: int | None  # index into the roster's shifts; None when the fallback answers
    starts_at: datetime | None = None  # the matched shift's span, in UTC
    ends_at: datetime | None = None

    @property
    def is_fallback(self) -> bool:
        return self.shift is None


def on_shift(roster: RosterConfig, at: datetime) -> OnShift:
    """The members of the first shift covering ``at`` (aware), else the roster's fallback."""
    if at.tzinfo is None:
        raise ValueError("on_shift needs an aware datetime")
    zone = ZoneInfo(roster.timezone)
    moment = at.astimezone(UTC)
    today = moment.astimezone(zone).date()
    for index, shift in enumerate(roster.shifts):
        for day in (today - timedelta(days=1), today):
            span = shift_span(shift, day, zone)
            if span is not None and span[0] <= moment < span[1]:
                return OnShift(tuple(shift.members), index, span[0], span[1])
    return OnShift(tuple(roster.fallback), None)


def shift_span(shift: ShiftConfig, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The UTC span of ``shift`` when it starts on ``day``, or None if it does not."""
    if WEEKDAYS[day.weekday()] not in shift.days or shift.start == shift.end:
        return None
    end_day = day + timedelta(days=1) if shift.crosses_midnight else day
    return boundary(day, shift.start_time, zone), boundary(end_day, shift.end_time, zone)


def boundary(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock of ``zone`` reads ``clock`` on ``day``.

    A time that exists once is that instant; a repeated time is its first occurrence
    (fold=0); a skipped time is the moment the clocks jump over it."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # Skipped: fold=1 maps it before the jump, fold=0 after; the jump lies between, on
    # a whole second, found by bisecting whole seconds.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
