"""Escalation as a pipeline of small stages with one signature, as Alertmanager's notify is.

Each stage takes the notices of one pass and the pass's context and returns the notices
that go on: dedupe -> inhibit -> route -> notify, and retry for the attempts that
failed. Pure: the moment, the recent history and the open line-down calls are in the
context; no stage reads the clock, the database or the network.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from contract.backoff import Backoff
from contract.secrets import redact_url
from hub.config.escalation import PersonConfig, RetryConfig
from hub.escalation.message import render
from hub.escalation.notices import Notice, Outgoing, Recipient
from hub.escalation.snapshot import Snapshot
from hub.shifts.overrides import Cover, with_stand_ins
from hub.shifts.rosters import on_shift


@dataclass(frozen=True)
class Context:
    """What a pass of the pipeline knows: the moment and the state it was read with."""

    now: datetime
    line_down_lines: frozenset[str] = frozenset()
    last_notified: Mapping[str, datetime] = field(default_factory=dict)
    alarm_interval_s: int = 600
    queued_keys: frozenset[str] = frozenset()
    ack_link: Callable[[int, str], str] | None = None
    retry: RetryConfig = field(default_factory=RetryConfig)
    # Roster overrides lasting now, and the people who cover (from the running file: a
    # person who covers may be in no roster the call's frozen policy names).
    covers: tuple[Cover, ...] = ()
    stand_ins: Mapping[str, PersonConfig] = field(default_factory=dict)


Stage = Callable[[Sequence[Notice], Context], list[Notice]]


def dedupe(notices: Sequence[Notice], ctx: Context) -> list[Notice]:
    """Drop what was already queued, and alarm groups notified within their interval."""
    kept = []
    for notice in notices:
        if notice.key in ctx.queued_keys:
            continue
        last = ctx.last_notified.get(notice.alarm_group or "")
        if last is not None and ctx.now - last < timedelta(seconds=ctx.alarm_interval_s):
            continue
        kept.append(notice)
    return kept


def inhibit(notices: Sequence[Notice], ctx: Context) -> list[Notice]:
    """An open line-down call holds back the SPC alarms of its line (it makes no parts)."""
    return [n for n in notices if n.alarm_group is None or n.line not in ctx.line_down_lines]


def route(notices: Sequence[Notice], ctx: Context) -> list[Notice]:
    """Targets to channels: people's URLs, whoever is on shift now, or URLs as they are."""
    return [
        replace(notice, recipients=tuple(_unique(_recipients(notice, ctx)))) for notice in notices
    ]


def _recipients(notice: Notice, ctx: Context) -> list[Recipient]:
    """Who answers each target now: a roster's shift or fallback, a person, or a URL;
    a person covered by an override now is replaced by who covers them."""
    snap = notice.snapshot
    assert snap is not None, "a notice to route carries its snapshot"
    found: list[Recipient] = []
    for target in notice.targets:
        kind, _, name = target.partition(":")
        if kind == "person":
            found += _channels(snap, ctx, [name], "person")
        elif kind in ("roster", "fallback"):
            roster = snap.rosters[name]
            answer = on_shift(roster, ctx.now)
            members = roster.fallback if kind == "fallback" else list(answer.members)
            fallback = kind == "fallback" or answer.is_fallback
            via = f"fallback:{name}" if fallback else target
            found += _channels(snap, ctx, members, via)
        else:
            found.append(Recipient(None, redact_url(target), target, "url"))
    return found


def _channels(snap: Snapshot, ctx: Context, people: Sequence[str], via: str) -> list[Recipient]:
    found = []
    for person_id in with_stand_ins(people, ctx.covers, ctx.now):
        person = snap.people.get(person_id) or ctx.stand_ins.get(person_id)
        if person is not None:
            found += [
                Recipient(person_id, person.name or person_id, url, via) for url in person.notify
            ]
    return found


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    """One message per person and channel, even when two targets name the same one."""
    seen: set[tuple[str | None, str]] = set()
    kept = []
    for recipient in recipients:
        if (recipient.person, recipient.url) not in seen:
            seen.add((recipient.person, recipient.url))
            kept.append(recipient)
    return kept


def notify(notices: Sequence[Notice], ctx: Context) -> list[Notice]:
    """A rendered message, and its first attempt, for every recipient of every notice."""
    done = []
    for notice in notices:
        names = list(dict.fromkeys(r.name for r in notice.recipients if r.person))
        outgoing = []
        for recipient in notice.recipients:
            link = None
            if ctx.ack_link is not None and notice.call_id is not None:
                link = ctx.ack_link(notice.call_id, recipient.person or f"url:{recipient.name}")
            others = [*notice.facts.get("told_before", ()), *names]
            others = [n for n in dict.fromkeys(others) if n != recipient.name]
            body = render(notice, recipient=recipient, others=others, ack_url=link, now=ctx.now)
            outgoing.append(Outgoing(_key(notice, recipient), 1, recipient, body))
        done.append(replace(notice, outgoing=tuple(outgoing)))
    return done


def _key(notice: Notice, recipient: Recipient) -> str:
    digest = hashlib.sha256(f"{recipient.person}|{recipient.url}".encode()).hexdigest()[:16]
    return f"{notice.key}:{digest}"


def retry(notices: Sequence[Notice], ctx: Context) -> list[Notice]:
    """The next attempt of each failed one, after a capped backoff, or given up."""
    done = []
    for notice in notices:
        later = []
        for failed in notice.outgoing:
            if failed.error is None:
                continue
            if failed.attempt >= ctx.retry.attempts:
                later.append(replace(failed, gave_up=True))
                continue
            backoff = Backoff(
                initial=ctx.retry.initial_s, cap=ctx.retry.cap_s, rng=random.Random(failed.key)
            )
            backoff.failures = failed.attempt - 1
            at = ctx.now + timedelta(seconds=backoff.next_delay())
            later.append(replace(failed, attempt=failed.attempt + 1, error=None, retry_at=at))
        done.append(replace(notice, outgoing=tuple(later)))
    return done


SEND_PIPELINE: tuple[Stage, ...] = (dedupe, inhibit, route, notify)


def run(stages: Sequence[Stage], notices: Sequence[Notice], ctx: Context) -> list[Notice]:
    passing = list(notices)
    for stage in stages:
        passing = stage(passing, ctx)
    return passing
