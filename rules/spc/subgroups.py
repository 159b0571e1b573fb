"""Subgrouped measurements and the estimators of within-subgroup sigma, by their names
in the literature (as qcc and the SAS/QC guide name them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rules.spc.constants import c4, d2, d3, per_size

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class Subgroups:
    """Subgroups of possibly different sizes, as rows of a NaN-padded matrix."""

    values: Floats
    sizes: Ints

    @classmethod
    def from_groups(cls, groups: Sequence[Sequence[float]]) -> Subgroups:
        sizes = np.array([len(group) for group in groups], dtype=np.int64)
        values = np.full((len(groups), int(sizes.max(initial=1))), np.nan)
        for row, group in enumerate(groups):
            values[row, : len(group)] = group
        return cls(values=values, sizes=sizes)

    def head(self, count: int) -> Subgroups:
        return Subgroups(values=self.values[:count], sizes=self.sizes[:count])

    def means(self) -> Floats:
        return np.asarray(np.nanmean(self.values, axis=1), dtype=np.float64)

    def ranges(self) -> Floats:
        return np.asarray(
            np.nanmax(self.values, axis=1) - np.nanmin(self.values, axis=1), dtype=np.float64
        )

    def stdevs(self) -> Floats:
        """Sample standard deviations (n - 1); NaN for a subgroup of one."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.nanstd(self.values, axis=1, ddof=1), dtype=np.float64)

    def all_values(self) -> Floats:
        flat = self.values.ravel()
        return flat[~np.isnan(flat)]


def _uwave_r(groups: Subgroups) -> float:
    return float(np.mean(groups.ranges() / per_size(d2, groups.sizes)))


def _mvlue_r(groups: Subgroups) -> float:
    d2s, d3s = per_size(d2, groups.sizes), per_size(d3, groups.sizes)
    weights = (d2s / d3s) ** 2
    return float(np.sum(groups.ranges() / d2s * weights) / np.sum(weights))


def _uwave_sd(groups: Subgroups) -> float:
    return float(np.mean(groups.stdevs() / per_size(c4, groups.sizes)))


def _mvlue_sd(groups: Subgroups) -> float:
    c4s = per_size(c4, groups.sizes)
    weights = c4s**2 / (1 - c4s**2)
    return float(np.sum(groups.stdevs() / c4s * weights) / np.sum(weights))


def _rmsdf(groups: Subgroups) -> float:
    dof = groups.sizes - 1
    pooled = np.sqrt(np.sum(groups.stdevs() ** 2 * dof) / np.sum(dof))
    return float(pooled / c4(int(np.sum(dof)) + 1))


def overall_sd(values: Floats) -> float:
    """Sample standard deviation of all values over c4(N) (unbiased)."""
    return float(np.std(values, ddof=1) / c4(len(values)))


def moving_range_sigma(values: Floats) -> float:
    """Mean moving range of span 2 over d2(2)."""
    return float(np.mean(np.abs(np.diff(values))) / d2(2))


SUBGROUP_ESTIMATORS: dict[str, Callable[[Subgroups], float]] = {
    "uwave-r": _uwave_r,
    "mvlue-r": _mvlue_r,
    "uwave-sd": _uwave_sd,
    "mvlue-sd": _mvlue_sd,
    "rmsdf": _rmsdf,
    "sd": lambda groups: overall_sd(groups.all_values()),
}

INDIVIDUAL_ESTIMATORS: dict[str, Callable[[Floats], float]] = {
    "mr": moving_range_sigma,
    "sd": overall_sd,
}
