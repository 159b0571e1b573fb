"""Capped, jittered exponential backoff: the one reconnect schedule every driver uses."""

from __future__ import annotations

import random


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
