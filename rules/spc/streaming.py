"""The eight tests, one new point at a time for many characteristics at once.

State lives in arrays with one entry per characteristic, so ``update`` costs O(1) per
characteristic and gives exactly the flags that ``tests.evaluate`` gives on the whole
series (the tests prove it on random series).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rules.spc.rule_sets import RuleSet

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Counts = NDArray[np.int32]

_NEVER = -(1 << 30)


class _Zones:
    """Thresholds c ± k·s, computed as the batch path and the plotted limits compute them."""

    def __init__(self, center: Floats, sigma: Floats, k1: float) -> None:
        self.center = center
        self.upper = {k: center + k * sigma for k in (1.0, 2.0, k1)}
        self.lower = {k: center - k * sigma for k in (1.0, 2.0, k1)}


class StreamingTests:
    """Run-rule state for ``m`` characteristics with given center lines and sigmas."""

    def __init__(self, *, center: Floats, sigma: Floats, rules: RuleSet) -> None:
        self.rules = rules
        self._k1 = float(rules.params.get(1, 3.0))
        self._center = np.asarray(center, dtype=np.float64)
        self._sigma = np.asarray(sigma, dtype=np.float64)
        self._zones = _Zones(self._center, self._sigma, self._k1)
        m = self._zones.center.shape[0]
        self.points = 0
        self._previous = np.full(m, np.nan)
        self._was_rising = np.zeros(m, dtype=np.bool_)
        self._was_falling = np.zeros(m, dtype=np.bool_)
        self._runs = {
            name: np.zeros(m, dtype=np.int32)
            for name in ("above", "below", "rising", "falling", "alternating", "within", "outside")
        }
        self._last_above_1s = np.full(m, _NEVER, dtype=np.int64)
        self._last_below_1s = np.full(m, _NEVER, dtype=np.int64)
        # Tests 5 and 6: the last K+1 zone flags in a ring, and their running counts.
        self._rings = {
            number: (
                np.zeros((int(k) + 1, m), dtype=np.bool_),
                np.zeros((int(k) + 1, m), dtype=np.bool_),
                np.zeros(m, dtype=np.int32),
                np.zeros(m, dtype=np.int32),
            )
            for number, k in rules.params.items()
            if number in (5, 6)
        }

    def update(
        self, x: Floats, *, center: Floats | None = None, sigma: Floats | None = None
    ) -> dict[int, Bools]:
        """Add one point per characteristic; return each enabled test's flags for it.

        ``center`` and ``sigma`` may be given for this point (a varying subgroup size)."""
        x = np.asarray(x, dtype=np.float64)
        zones = self._zones
        if center is not None or sigma is not None:
            zones = _Zones(
                self._center if center is None else np.asarray(center, dtype=np.float64),
                self._sigma if sigma is None else np.asarray(sigma, dtype=np.float64),
                self._k1,
            )
        params = self.rules.params
        t = self.points
        out: dict[int, Bools] = {}
        above_1s = x > zones.upper[1.0]
        below_1s = x < zones.lower[1.0]
        if 1 in params:
            out[1] = (x > zones.upper[self._k1]) | (x < zones.lower[self._k1])
        if 2 in params:
            k = int(params[2])
            out[2] = (self._extend("above", x > zones.center) >= k) | (
                self._extend("below", x < zones.center) >= k
            )
        if 3 in params or 4 in params:
            rising = x > self._previous
            falling = x < self._previous
            if 3 in params:
                k = int(params[3]) - 1
                out[3] = (self._extend("rising", rising) >= k) | (
                    self._extend("falling", falling) >= k
                )
            if 4 in params:
                alternating = (rising & self._was_falling) | (falling & self._was_rising)
                out[4] = self._extend("alternating", alternating) >= int(params[4]) - 2
            self._was_rising, self._was_falling = rising, falling
        for number in self._rings:
            if number == 5:
                above, below = x > zones.upper[2.0], x < zones.lower[2.0]
            else:
                above, below = above_1s, below_1s
            out[number] = self._k_of_k_plus_1(number, above, below, t)
        if 7 in params:
            within = ~(above_1s | below_1s | np.isnan(x))
            out[7] = self._extend("within", within) >= int(params[7])
        if 8 in params:
            k = int(params[8])
            outside = self._extend("outside", above_1s | below_1s)
            self._last_above_1s[above_1s] = t
            self._last_below_1s[below_1s] = t
            out[8] = (outside >= k) & (self._last_above_1s > t - k) & (self._last_below_1s > t - k)
        self._previous = x
        self.points += 1
        return out

    def _extend(self, name: str, condition: Bools) -> Counts:
        run = self._runs[name]
        run += 1
        run *= condition
        return run

    def _k_of_k_plus_1(self, number: int, above: Bools, below: Bools, t: int) -> Bools:
        k = int(self.rules.params[number])
        above_ring, below_ring, above_count, below_count = self._rings[number]
        slot = t % (k + 1)
        above_count += above
        above_count -= above_ring[slot]
        below_count += below
        below_count -= below_ring[slot]
        above_ring[slot] = above
        below_ring[slot] = below
        if t < k:
            return np.zeros_like(above)
        return (above & (above_count >= k)) | (below & (below_count >= k))
