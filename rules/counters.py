"""PLC part counters: what a reading adds to the last, reset and wrap safe.

PLC counters only go up, until the PLC restarts (0 again), the counter wraps at its
width, or someone presets it. A count is never negative: a decrease is a wrap when the
counter is known to wrap (``wraps_at``: its type's range) and fell from its upper half
into its lower half, otherwise a reset (what it reads now was counted since)."""

from __future__ import annotations

__all__ = ["counter_step"]


def counter_step(last: int | None, value: int, wraps_at: int | None) -> tuple[int, str]:
    """The parts a counter adds going from ``last`` to ``value``, and how it was read:
    ``first`` (a base: 0), ``counted``, ``wrapped`` or ``reset``."""
    if last is None:
        return 0, "first"
    if value >= last:
        return value - last, "counted"
    if wraps_at is not None and last >= wraps_at // 2 > value:
        return wraps_at - last + value, "wrapped"
    return max(value, 0), "reset"
