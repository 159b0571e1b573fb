"""Capped, jittered exponential backoff, and the one reconnect schedule every polled
device uses: frequent tries whatever the outage's length, reports that back off."""

from __future__ import annotations

import random
from enum import Enum

# The longest wait before trying again something that stopped answering. A device that
# comes back is read within this (plus one poll cycle) after an outage of any length;
# below a second so that, with a 50 ms poll cycle, the gap stays under one.
RETRY_WITHIN_S = 0.8
# The first try again comes this soon (a blip of the network is over in a moment).
RETRY_FIRST_S = 0.1
# How long the first reminder that something is still down waits; reminders then double
# up to the configured cap (``backoff_cap_s``).
REMIND_FIRST_S = 5.0


class Backoff:
    """Delays of ``initial * factor**n`` seconds, capped at ``cap``, with full jitter.

    Full jitter (a uniform draw between half the delay and the delay) keeps a line of
    agents that lost the same PLC from reconnecting in lockstep.
    """

    def __init__(
        self,
        *,
        initial: float = 0.2,
        cap: float = 30.0,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Record one more failure and return how long to wait before the next try."""
        ceiling = min(self.cap, self.initial * self.factor**self.failures)
        self.failures += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        """A success: the next failure starts again from ``initial``."""
        self.failures = 0


def retry_backoff() -> Backoff:
    """How soon a device or link that failed is tried again: within ``RETRY_WITHIN_S``."""
    return Backoff(initial=RETRY_FIRST_S, cap=RETRY_WITHIN_S)


class Report(Enum):
    """What a failure is worth saying in the log."""

    DOWN = "down"  # it was up: a change of state
    STILL_DOWN = "still down"  # a reminder, at most once per ``remind_cap_s``


class Outage:
    """When to try again something that stopped answering, and when to say so again.

    Tries stay frequent however long the outage lasts (``tries``: at most
    ``RETRY_WITHIN_S`` apart, counted from the start of the failed try, so a slow
    failure does not stretch the gap). What grows is the time between reminders in the
    log: from ``REMIND_FIRST_S`` doubling up to ``remind_cap_s``. Times are monotonic
    seconds, given by the caller.
    """

    def __init__(self, *, remind_cap_s: float, tries: Backoff | None = None) -> None:
        self.up = True
        self.retry_at = 0.0
        self.since = 0.0
        self.tries = 0
        self.remind_cap_s = remind_cap_s
        self._tries = tries or retry_backoff()
        self._remind_in = 0.0
        self._remind_at = 0.0

    def may_try(self, now: float) -> bool:
        return self.up or now >= self.retry_at

    def failed(self, *, started: float, now: float, gate: bool = True) -> Report | None:
        """A try begun at ``started`` failed; returns what to log, if anything.

        ``gate=False`` records the state only: something else (the link under a unit)
        decides when the next try may go out."""
        if gate:
            self.tries += 1
            self.retry_at = started + self._tries.next_delay()
        if self.up:
            self.up = False
            self.since = started
            self._remind_in = min(REMIND_FIRST_S, self.remind_cap_s)
            self._remind_at = now + self._remind_in
            return Report.DOWN
        if now >= self._remind_at:
            self._remind_in = min(self._remind_in * 2, self.remind_cap_s)
            self._remind_at = now + self._remind_in
            return Report.STILL_DOWN
        return None

    def succeeded(self) -> bool:
        """An answer; returns whether it ends an outage (a change of state to log)."""
        self._tries.reset()
        self.tries = 0
        was_down = not self.up
        self.up = True
        return was_down
