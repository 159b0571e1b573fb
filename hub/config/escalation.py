"""People, rosters and escalation policies in the hub's file, and the checks between them.

The models only describe the file; who is on shift at a moment is in ``hub/shifts/rosters.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from contract.config.loading import Problem, duplicates
from contract.config.models import Strict
from contract.wire import NAME_PATTERN, Name
from hub.config.clock import ClockTime, TimeZone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _target(value: str) -> str:
    kind, _, name = value.partition(":")
    if kind in ("person", "roster", "fallback") and re.fullmatch(NAME_PATTERN, name):
        return value
    if _URL.match(value):
        return value
    raise ValueError(
        "expected person:ID, roster:ID, fallback:ROSTER or a notification URL such as "
        f"json://host/path; got {value!r}"
    )


def _url(value: str) -> str:
    if not _URL.match(value):
        raise ValueError(
            f"expected a notification URL such as json://host/path or mailto://...; got {value!r}"
        )
    return value


Target = Annotated[str, AfterValidator(_target)]
"""``person:ID``, ``roster:ID`` (whoever is on shift then, else the fallback),
``fallback:ID`` (the roster's fallback, whoever is on shift) or a URL."""


class PersonConfig(Strict):
    """Someone who can be told, and the channels (notification URLs) that reach them.

    ``language`` is the one their acknowledgement link's page speaks (else their
    browser's)."""

    id: Name
    name: str | None = None
    language: Literal["en", "zh"] | None = None
    notify: list[Annotated[str, AfterValidator(_url)]] = Field(min_length=1)


class ShiftConfig(Strict):
    """Members on duty on ``days`` from ``start`` to ``end`` (the next day when end < start)."""

    members: list[Name]
    days: list[Weekday]
    start: ClockTime
    end: ClockTime

    @property
    def start_time(self) -> time:
        return time.fromisoformat(self.start)

    @property
    def end_time(self) -> time:
        return time.fromisoformat(self.end)

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start


class RosterConfig(Strict):
    """Shifts in one time zone; the fallback answers whenever no shift does."""

    id: Name
    timezone: TimeZone
    shifts: list[ShiftConfig] = Field(min_length=1)
    # Required: a call that reaches nobody is the failure an andon exists to prevent.
    fallback: list[Name] = Field(min_length=1)


class PolicyMatch(Strict):
    """Which calls a policy takes; an omitted key matches every value."""

    call_types: list[Name] | None = None
    lines: list[Name] | None = None


class LevelConfig(Strict):
    """Who is told ``after_s`` seconds after the call is raised, again every ``repeat_every_s``."""

    after_s: int = Field(ge=0)
    notify: list[Target] = Field(min_length=1)
    repeat_every_s: int | None = Field(default=None, gt=0)


class PolicyConfig(Strict):
    id: Name
    match: PolicyMatch = PolicyMatch()
    ack_timeout_s: int = Field(gt=0)
    line_stop_after_s: int | None = Field(default=None, gt=0)
    levels: list[LevelConfig] = Field(min_length=1)

    def matches(self, *, call_type: str, line: str) -> bool:
        wanted_types, wanted_lines = self.match.call_types, self.match.lines
        return (wanted_types is None or call_type in wanted_types) and (
            wanted_lines is None or line in wanted_lines
        )


class RetryConfig(Strict):
    """How a failed notification is tried again: capped, jittered exponential backoff."""

    initial_s: float = Field(default=5.0, gt=0)
    cap_s: float = Field(default=300.0, gt=0)
    attempts: int = Field(default=5, ge=1)  # then the channel counts as failing


class EscalationConfig(Strict):
    """Policies in file order: a call takes the first one that matches it."""

    policies: list[PolicyConfig] = Field(default_factory=list)
    # The hub's address as phones reach it, for acknowledgement links; by default the
    # API's own host and port.
    public_url: str | None = None
    ack_link_ttl_s: int = Field(default=86_400, gt=0)
    # SPC anomalies notify through the policy of this call type on their line, once per
    # characteristic and station per interval.
    anomaly_call_type: Name = "quality"
    anomaly_interval_s: int = Field(default=600, gt=0)
    retry: RetryConfig = RetryConfig()
    send_timeout_s: float = Field(default=15.0, gt=0)

    def policy_for(self, *, call_type: str, line: str) -> PolicyConfig | None:
        return next((p for p in self.policies if p.matches(call_type=call_type, line=line)), None)


def escalation_problems(
    *,
    people: Sequence[PersonConfig],
    rosters: Sequence[RosterConfig],
    escalation: EscalationConfig | None,
    call_types: Sequence[str],
    lines: Sequence[str],
) -> list[Problem]:
    """Unknown people and rosters, empty or overlapping shifts, policies no call can match."""
    person_ids = [person.id for person in people]
    roster_ids = [roster.id for roster in rosters]
    problems: list[Problem] = [
        (("people", i, "id"), f"duplicate person id {person_ids[i]!r}")
        for i in duplicates(person_ids)
    ]
    problems += [
        (("rosters", i, "id"), f"duplicate roster id {roster_ids[i]!r}")
        for i in duplicates(roster_ids)
    ]
    for r, roster in enumerate(rosters):
        problems += _roster_problems(("rosters", r), roster, person_ids)
    policies = escalation.policies if escalation is not None else []
    policy_ids = [policy.id for policy in policies]
    problems += [
        (("escalation", "policies", i, "id"), f"duplicate policy id {policy_ids[i]!r}")
        for i in duplicates(policy_ids)
    ]
    for p, policy in enumerate(policies):
        where = ("escalation", "policies", p)
        problems += _match_problems((*where, "match"), policy.match, call_types, lines)
        problems += _level_problems(where, policy.levels, person_ids, roster_ids)
    return problems


def _unknown(kind: str, value: str, known: Sequence[str]) -> str:
    expected = ", ".join(known) if known else f"(no {kind} is declared)"
    return f"unknown {kind} {value!r}; expected one of: {expected}"


def _roster_problems(
    where: tuple[str, int], roster: RosterConfig, person_ids: Sequence[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for s, shift in enumerate(roster.shifts):
        at = (*where, "shifts", s)
        problems += [
            ((*at, "members", m), _unknown("person", member, person_ids))
            for m, member in enumerate(shift.members)
            if member not in person_ids
        ]
        if not shift.members:
            problems.append(((*at, "members"), "empty shift: no members; got []"))
        if not shift.days:
            problems.append(((*at, "days"), "empty shift: no days; got []"))
        if shift.start == shift.end:
            problems.append(((*at, "end"), f"empty shift: end equals start; got {shift.end!r}"))
    problems += [
        ((*where, "fallback", f), _unknown("person", member, person_ids))
        for f, member in enumerate(roster.fallback)
        if member not in person_ids
    ]
    return problems + _overlaps(where, roster.shifts)


def _week_minutes(shift: ShiftConfig) -> set[int]:
    """The minutes of the week (0 = Monday 00:00, local wall clock) the shift covers."""
    start = shift.start_time.hour * 60 + shift.start_time.minute
    end = shift.end_time.hour * 60 + shift.end_time.minute
    length = (end - start) % 1440
    week = 7 * 1440
    return {
        (WEEKDAYS.index(day) * 1440 + start + minute) % week
        for day in shift.days
        for minute in range(length)
    }


def _overlaps(where: tuple[str, int], shifts: Sequence[ShiftConfig]) -> list[Problem]:
    problems: list[Problem] = []
    covered = [_week_minutes(shift) for shift in shifts]
    for later in range(len(shifts)):
        for earlier in range(later):
            common = covered[later] & covered[earlier]
            if common:
                first = min(common)
                day, minute = WEEKDAYS[first // 1440], first % 1440
                problems.append(
                    (
                        (*where, "shifts", later),
                        f"overlaps shifts[{earlier}] on {day} from "
                        f"{minute // 60:02d}:{minute % 60:02d}; got "
                        f"{shifts[later].start}-{shifts[later].end}",
                    )
                )
                break
    return problems


def _match_problems(
    where: tuple[str | int, ...],
    match: PolicyMatch,
    call_types: Sequence[str],
    lines: Sequence[str],
) -> list[Problem]:
    problems: list[Problem] = []
    for key, values, kind, known in (
        ("call_types", match.call_types, "call type", call_types),
        ("lines", match.lines, "line", lines),
    ):
        if values is None:
            continue
        if not values:
            problems.append(
                ((*where, key), "no call can match an empty list; omit the key to match all")
            )
        problems += [
            ((*where, key, i), f"no call can match this policy: {_unknown(kind, value, known)}")
            for i, value in enumerate(values)
            if value not in known
        ]
    return problems


def _level_problems(
    where: tuple[str | int, ...],
    levels: Sequence[LevelConfig],
    person_ids: Sequence[str],
    roster_ids: Sequence[str],
) -> list[Problem]:
    problems: list[Problem] = []
    for n, level in enumerate(levels):
        if n and level.after_s <= levels[n - 1].after_s:
            problems.append(
                (
                    (*where, "levels", n, "after_s"),
                    f"levels go in order of after_s; expected more than "
                    f"{levels[n - 1].after_s}; got {level.after_s}",
                )
            )
        for t, target in enumerate(level.notify):
            kind, _, name = target.partition(":")
            known = {"person": person_ids, "roster": roster_ids, "fallback": roster_ids}.get(kind)
            if known is not None and name not in known:
                noun = "roster" if kind == "fallback" else kind
                problems.append(((*where, "levels", n, "notify", t), _unknown(noun, name, known)))
    return problems


def unescalated_call_types(
    escalation: EscalationConfig | None, call_types: Sequence[str]
) -> list[int]:
    """Indices of call types no policy matches on any line (none when escalation is off)."""
    if escalation is None:
        return []
    return [
        i
        for i, call_type in enumerate(call_types)
        if not any(
            p.match.call_types is None or call_type in p.match.call_types
            for p in escalation.policies
        )
    ]
