"""Parts counters into counts: each reading's increment over the last one, reset and wrap
safe, and the hour (UTC) it is counted in.

PLC counters only go up, until the PLC restarts (0 again), the counter wraps at its
width, or someone presets it. A count must never go negative or jump by a counter's
whole range: a decrease is a reset (the reading is what was counted since), or a wrap
when the counter is known to wrap and fell from its upper half into its lower half; a
step larger than ``max_increment`` is taken as a new base and not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hub.config.measurements import QualityCounters


@dataclass(frozen=True)
class CounterStep:
    """One counter reading: its value, the parts it adds, and how it was read."""

    counter: str
    value: int
    increment: int
    how: str  # first (a base), counted, reset, wrapped, jump (not counted)


def counter_step(last: int | None, value: int, entry: QualityCounters, *, kind: str) -> CounterStep:
    """The increment of a counter that read ``last`` before and reads ``value`` now."""
    if last is None:
        return CounterStep(kind, value, 0, "first")
    if value >= last:
        step, how = value - last, "counted"
    elif entry.wraps_at is not None and last >= entry.wraps_at // 2 > value:
        step, how = entry.wraps_at - last + value, "wrapped"
    else:
        step, how = max(value, 0), "reset"
    if step > entry.max_increment:
        return CounterStep(kind, value, 0, "jump")
    return CounterStep(kind, value, step, how)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
