"""One characteristic charted live: subgroups in, signals out.

Limits come from the rule file (a known ``center`` and ``sigma``; for attribute charts
the center alone, as a rate per part: p-bar or u-bar) or from the first
``phase1`` subgroups (25 unless the file says otherwise); from then on every new
subgroup is run through the streaming tests. Only the chart of the location statistic
(individuals, X-bar, p, np, c, u) is watched; its spread chart is the backtest's job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rules.spc.rule_sets import RuleSet
from rules.spc.rulefile import Characteristic
from rules.spc.streaming import StreamingTests

DEFAULT_PHASE1 = 25
ATTRIBUTE_CHARTS = ("p", "np", "c", "u")


@dataclass(frozen=True)
class Signal:
    """Subgroup number ``subgroup`` (1-based, phase I included) as charted: its statistic,
    the chart's lines for it and the tests it failed (empty when it failed none)."""

    subgroup: int
    value: float
    center: float
    lcl: float
    ucl: float
    tests: tuple[int, ...]


@dataclass
class _Phase1:
    values: list[float] = field(default_factory=list)
    groups: list[list[float]] = field(default_factory=list)
    counts: list[tuple[float, float]] = field(default_factory=list)


class OnlineChart:
    """Feed values (variables charts) or counts (attribute charts); get the Signal of each
    subgroup charted against limits (None while a subgroup is open, in phase I, or when
    the limits are degenerate)."""

    def __init__(self, characteristic: Characteristic, *, subgroup_size: int = 1) -> None:
        self.characteristic = characteristic
        self.subgroup_size = subgroup_size
        self.subgroups = 0
        self._rules = RuleSet.preset(
            characteristic.rules, nsigmas=characteristic.nsigmas, overrides=characteristic.tests
        )
        self._open: list[float] = []
        self._phase1 = _Phase1()
        self._tests: StreamingTests | None = None
        self._center = characteristic.center
        self._sigma = characteristic.sigma
        known = characteristic.center is not None and (
            characteristic.sigma is not None or characteristic.chart in ATTRIBUTE_CHARTS
        )
        self._phase1_size = 0 if known else (characteristic.phase1 or DEFAULT_PHASE1)
        if known:
            self._start()

    @property
    def is_attribute(self) -> bool:
        return self.characteristic.chart in ATTRIBUTE_CHARTS

    def add_value(self, x: float) -> Signal | None:
        """One reading of a variables characteristic; a Signal when it closes a subgroup."""
        if math.isnan(x):
            return None
        self._open.append(x)
        if len(self._open) < self.subgroup_size:
            return None
        group, self._open = self._open, []
        self.subgroups += 1
        if self._tests is None:
            self._phase1.groups.append(group)
            self._phase1.values.append(float(np.mean(group)))
            self._maybe_end_phase1()
            return None
        return self._test(float(np.mean(group)), self._center_of(len(group)))

    def add_counts(self, defectives: float, inspected: float) -> Signal | None:
        """One subgroup of an attribute characteristic: defectives (or defects) of inspected."""
        if inspected <= 0:
            return None
        self.subgroups += 1
        if self._tests is None:
            self._phase1.counts.append((defectives, inspected))
            self._maybe_end_phase1()
            return None
        chart = self.characteristic.chart
        value = defectives if chart in ("np", "c") else defectives / inspected
        return self._test(value, self._center_of(inspected))

    def _maybe_end_phase1(self) -> None:
        if self.subgroups < self._phase1_size:
            return
        if self.is_attribute:
            defectives = sum(d for d, _ in self._phase1.counts)
            inspected = sum(n for _, n in self._phase1.counts)
            # The center is a rate per part (p-bar, u-bar): np and c scale it by n.
            self._center = defectives / inspected
        else:
            self._estimate_variables()
        self._start()

    def _estimate_variables(self) -> None:
        # Deferred: the estimators load scipy (tens of MB), which an edge whose limits
        # are all known never needs.
        from rules.spc.charts import Limits, individuals_sigma, subgroups_sigma
        from rules.spc.subgroups import Subgroups

        c = self.characteristic
        limits = Limits(
            nsigmas=c.nsigmas, center=c.center, sigma=c.sigma, sigma_method=c.sigma_method
        )
        values = np.asarray(self._phase1.values, dtype=np.float64)
        if self._center is None:
            self._center = float(np.mean(values))
        if c.chart == "imr":
            self._sigma = individuals_sigma(values, limits)
        else:
            default = "uwave-r" if c.chart == "xbar-r" else "uwave-sd"
            groups = Subgroups.from_groups(self._phase1.groups)
            self._sigma = subgroups_sigma(groups, limits, default_method=default)

    def _start(self) -> None:
        # Center and sigma are given with every point (they vary with subgroup size).
        self._tests = StreamingTests(center=np.zeros(1), sigma=np.ones(1), rules=self._rules)

    def _center_of(self, n: float) -> tuple[float, float]:
        """Center line and zone sigma of a subgroup of size ``n``."""
        chart = self.characteristic.chart
        center = float(self._center if self._center is not None else 0.0)
        if chart == "p":
            return center, math.sqrt(max(center * (1 - center), 0.0) / n)
        if chart == "np":
            return n * center, math.sqrt(max(n * center * (1 - center), 0.0))
        if chart == "c":
            return n * center, math.sqrt(max(n * center, 0.0))
        if chart == "u":
            return center, math.sqrt(max(center, 0.0) / n)
        sigma = float(self._sigma or 0.0)
        return center, sigma / math.sqrt(n) if chart != "imr" else sigma

    def _test(self, value: float, center_sigma: tuple[float, float]) -> Signal | None:
        assert self._tests is not None
        center, sigma = center_sigma
        k = self.characteristic.nsigmas
        if sigma <= 0:
            return None
        flags = self._tests.update(
            np.array([value]), center=np.array([center]), sigma=np.array([sigma])
        )
        failed = tuple(number for number, flag in sorted(flags.items()) if bool(flag[0]))
        lcl = center - k * sigma
        if self.is_attribute:
            lcl = max(lcl, 0.0)
        return Signal(self.subgroups, value, center, lcl, center + k * sigma, failed)
