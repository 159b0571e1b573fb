"""Parts counters into counts: each reading's increment over the last one, reset and wrap
safe (rules/counters.py), and the hour (UTC) it is counted in. A step larger than
``max_increment`` is taken as a new base and not counted: a preset, not parts made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hub.config.measurements import QualityCounters
from rules.counters import counter_step as rules_counter_step


@dataclass(frozen=True)
class CounterStep:
    """One counter reading: its value, the parts it adds, and how it was read."""

    counter: str
    value: int
    increment: int
    how: str  # first (a base), counted, reset, wrapped, jump (not counted)


def counter_step(last: int | None, value: int, entry: QualityCounters, *, kind: str) -> CounterStep:
    """The increment of a counter that read ``last`` before and reads ``value`` now."""
    step, how = rules_counter_step(last, value, entry.wraps_at)
    if step > entry.max_increment:
        return CounterStep(kind, value, 0, "jump")
    return CounterStep(kind, value, step, how)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
