"""The escalation dry run: who a call would reach, when, through which channel, and why.

Pure: the configuration and the moment the call is raised are parameters; nothing is
sent, no clock is read and no secret is resolved (URLs are shown redacted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contract.secrets import redact_url
from hub.config.escalation import LevelConfig, PolicyConfig, RosterConfig
from hub.config.file import HubConfig
from hub.shifts.overrides import Cover, stand_in
from hub.shifts.rosters import on_shift

REPEAT_HORIZON_S = 3600
"""Repeating levels are listed up to this many seconds after the call is raised."""


@dataclass(frozen=True)
class ExplainedTarget:
    person: str | None
    url: str  # redacted
    via: str  # "roster:ID", "person", "url" or "fallback"
    why: str  # for people: which shift matched, or that the fallback answered


@dataclass(frozen=True)
class ExplainedStep:
    after_s: int
    targets: tuple[ExplainedTarget, ...]


@dataclass(frozen=True)
class Explanation:
    policy: PolicyConfig
    at: datetime  # when the call is raised, aware
    steps: tuple[ExplainedStep, ...]

    def as_json(self) -> dict[str, Any]:
        """The pinned shape of ``andon escalation explain --json``."""
        return {
            "policy": self.policy.id,
            "steps": [
                {
                    "after_s": step.after_s,
                    "targets": [
                        {"person": t.person, "url": t.url, "via": t.via} for t in step.targets
                    ],
                }
                for step in self.steps
            ],
        }


def level_offsets(level: LevelConfig) -> list[int]:
    """When a level fires: once at ``after_s``, then every ``repeat_every_s`` to the horizon."""
    if level.repeat_every_s is None:
        return [level.after_s]
    last = max(level.after_s, REPEAT_HORIZON_S)
    return list(range(level.after_s, last + 1, level.repeat_every_s))


def explain(
    policy: PolicyConfig, config: HubConfig, at: datetime, covers: Sequence[Cover] = ()
) -> Explanation:
    """Every step of ``policy`` for a call raised at ``at``, in time order; a person
    covered by one of ``covers`` (roster overrides) at a step's moment is replaced by
    who covers them, as the escalation does."""
    by_offset: dict[int, list[ExplainedTarget]] = {}
    for level in policy.levels:
        for offset in level_offsets(level):
            moment = at + timedelta(seconds=offset)
            targets = by_offset.setdefault(offset, [])
            for target in level.notify:
                found = _resolve(target, config, moment)
                targets += [t for told in found for t in _covered(told, config, covers, moment)]
    # Once each: a covered person's channels would otherwise bring who covers them twice.
    steps = tuple(
        ExplainedStep(offset, tuple(dict.fromkeys(by_offset[offset])))
        for offset in sorted(by_offset)
    )
    return Explanation(policy=policy, at=at, steps=steps)


def _resolve(target: str, config: HubConfig, moment: datetime) -> list[ExplainedTarget]:
    kind, _, name = target.partition(":")
    if kind == "person":
        return _channels(config, name, via="person", why=f"named by {target}")
    if kind == "fallback":
        roster = next(r for r in config.rosters if r.id == name)
        why = f"named by {target}"
        return [
            channel
            for member in roster.fallback
            for channel in _channels(config, member, via="fallback", why=why)
        ]
    if kind == "roster":
        roster = next(r for r in config.rosters if r.id == name)
        answer = on_shift(roster, moment)
        via = "fallback" if answer.is_fallback else target
        why = _shift_reason(roster, answer.shift, moment)
        return [
            channel
            for member in answer.members
            for channel in _channels(config, member, via=via, why=why)
        ]
    return [ExplainedTarget(person=None, url=redact_url(target), via="url", why="named as is")]


def _covered(
    target: ExplainedTarget, config: HubConfig, covers: Sequence[Cover], moment: datetime
) -> list[ExplainedTarget]:
    """``target``, or the channels of who covers its person at ``moment``."""
    cover = stand_in(target.person, covers, moment) if target.person else None
    if cover is None or not any(p.id == cover.person for p in config.people):
        return [target]
    why = f"covers {cover.covers} (roster override {cover.id}), who is {target.why}"
    return _channels(config, cover.person, via=target.via, why=why)


def _channels(config: HubConfig, person_id: str, *, via: str, why: str) -> list[ExplainedTarget]:
    person = next(p for p in config.people if p.id == person_id)
    return [
        ExplainedTarget(person=person.id, url=redact_url(url), via=via, why=why)
        for url in person.notify
    ]


def _shift_reason(roster: RosterConfig, shift: int | None, moment: datetime) -> str:
    local = f"{roster.id} at {roster_local(roster, moment):%a %H:%M} {roster.timezone}"
    if shift is None:
        return f"nobody on shift in roster {local}, so its fallback"
    matched = roster.shifts[shift]
    days = ",".join(matched.days)
    return f"on shift in roster {local}: shifts[{shift}] ({days} {matched.start}-{matched.end})"


def roster_local(roster: RosterConfig, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(roster.timezone))


def policy_rosters(policy: PolicyConfig, config: HubConfig) -> list[RosterConfig]:
    """The rosters ``policy`` names, in the order it names them."""
    names = [
        target.partition(":")[2]
        for level in policy.levels
        for target in level.notify
        if target.startswith("roster:")
    ]
    return [r for name in dict.fromkeys(names) for r in config.rosters if r.id == name]


def render(explanation: Explanation, *, line: str, station: str, call_type: str) -> str:
    """The plain-text dry run: a block per step, a line per person (or URL) and channel."""
    at = explanation.at
    lines = [
        f"policy {explanation.policy.id!r} for a {call_type} call at {line}/{station}, "
        f"raised {at.isoformat()}"
    ]
    for step in explanation.steps:
        moment = at + timedelta(seconds=step.after_s)
        lines.append(f"+{step.after_s}s ({moment.isoformat()})")
        told: dict[tuple[str | None, str, str], list[str]] = {}
        for target in step.targets:
            told.setdefault((target.person, target.via, target.why), []).append(target.url)
        for (person, via, why), urls in told.items():
            who = f"{person} via {via}" if person else "URL"
            lines.append(f"  {who}: {why}")
            lines += [f"    {url}" for url in urls]
    if any(level.repeat_every_s for level in explanation.policy.levels):
        lines.append(f"(repeating levels are listed up to +{REPEAT_HORIZON_S}s)")
    return "\n".join(lines)
