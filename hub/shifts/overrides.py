"""Roster overrides: one person answers for another for a while; pure, the moment is a
parameter.

"Chen covers Wang from 2026-12-08 22:00 to 06:00" is an override: from the first instant
the site's clock reads the start to the first instant it reads the end (the next day
when the end is a time of day before the start; hub/shifts/rosters.py's ``boundary``
rule, so a skipped hour starts when the clocks jump and a repeated one at its first
occurrence). While it lasts, the escalation tells Chen wherever it would have told
Wang: on a roster's shift, as its fallback, or named as a person.

One step only: the covering person is never looked up again, so two overrides over the
same hours that cover each other's person are a swap at the same time, not a loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.config.file import HubConfig
from hub.shifts.rosters import boundary

MAX_OVERRIDE = timedelta(days=31)
"""The longest override: longer absences belong in the roster itself."""

_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})")
_TIME = re.compile(r"\d{2}:\d{2}")


class OverrideRefused(ValueError):
    """An override that cannot be: the message says why."""


@dataclass(frozen=True)
class Cover:
    """``person`` answers instead of ``covers`` from ``starts_at`` to ``ends_at`` (UTC)."""

    id: int
    person: str
    covers: str
    starts_at: datetime
    ends_at: datetime

    def lasts_at(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def stand_in(person: str, covers: Sequence[Cover], at: datetime) -> Cover | None:
    """The override under which someone else answers for ``person`` at ``at``, if any."""
    return next((c for c in covers if c.covers == person and c.lasts_at(at)), None)


def with_stand_ins(people: Sequence[str], covers: Sequence[Cover], at: datetime) -> list[str]:
    """``people`` with each covered person replaced by who covers them, each once."""
    answering = []
    for person in people:
        cover = stand_in(person, covers, at)
        answering.append(cover.person if cover is not None else person)
    return list(dict.fromkeys(answering))


@dataclass(frozen=True)
class NewOverride:
    """An override checked against the hub's file, its span in UTC."""

    person: str
    covers: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    note: str = ""


def new_override(
    config: HubConfig, *, person: str, covers: str, starts: str, ends: str, note: str = ""
) -> NewOverride:
    """``person`` covers ``covers`` from ``starts`` to ``ends`` (the site's wall clock):
    both must be ``people:`` of the hub's file, and different."""
    known = [p.id for p in config.people]
    for key, value in (("person", person), ("covers", covers)):
        if value not in known:
            listed = ", ".join(known) if known else "(no person is declared)"
            raise OverrideRefused(f"{key}: unknown person {value!r}; expected one of: {listed}")
    if person == covers:
        raise OverrideRefused(f"a person cannot cover themselves; got {person!r} twice")
    begin, end = override_span(starts, ends, config.timezone)
    return NewOverride(person, covers, begin, end, config.timezone, note)


def override_span(starts: str, ends: str, timezone: str) -> tuple[datetime, datetime]:
    """The UTC span of an override written in the site's wall clock.

    ``starts`` is ``YYYY-MM-DD HH:MM`` (or with a ``T``); ``ends`` the same, or only
    ``HH:MM``: that time on the start's day, or the next day when it is not later."""
    zone = ZoneInfo(timezone)
    start_day, start_time = _date_time("starts", starts)
    if _TIME.fullmatch(ends.strip()):
        end_time = _clock("ends", ends.strip())
        end_day = start_day if end_time > start_time else start_day + timedelta(days=1)
    else:
        end_day, end_time = _date_time("ends", ends)
    begin = boundary(start_day, start_time, zone)
    end = boundary(end_day, end_time, zone)
    if end <= begin:
        raise OverrideRefused(
            f"the override must end after it starts; got {starts!r} to {ends!r} ({timezone})"
        )
    if end - begin > MAX_OVERRIDE:
        raise OverrideRefused(
            f"an override lasts at most {MAX_OVERRIDE.days} days; got {starts!r} to {ends!r}"
        )
    return begin, end


def _date_time(key: str, text: str) -> tuple[date, time]:
    found = _DATE_TIME.fullmatch(text.strip())
    if found is None:
        raise OverrideRefused(
            f"{key}: expected the site's local time as YYYY-MM-DD HH:MM; got {text!r}"
        )
    try:
        day = date.fromisoformat(found[1])
    except ValueError:
        raise OverrideRefused(f"{key}: no such date; got {text!r}") from None
    if not 1970 <= day.year <= 2999:  # far from datetime's own ends, as the API's times
        raise OverrideRefused(f"{key}: expected a year from 1970 to 2999; got {text!r}")
    return day, _clock(key, found[2])


def _clock(key: str, text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise OverrideRefused(f"{key}: expected a time from 00:00 to 23:59; got {text!r}") from None


def local(moment: datetime, timezone: str) -> str:
    """``moment`` on the wall clock of ``timezone``, as the override was written."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
