"""Shewhart control charts: I-MR, X-bar with R or S, p, np, c and u.

Every chart returns one ``Chart`` whose arrays have one entry per plotted point
(phase I points first, then phase II). ``zone_sigma`` is the standard deviation of
each plotted point; the tests for special causes take their zones from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rules.spc.constants import c4, d2, d3, per_size
from rules.spc.subgroups import INDIVIDUAL_ESTIMATORS, SUBGROUP_ESTIMATORS, Subgroups

Floats = NDArray[np.float64]


class ChartDataError(ValueError):
    """The data cannot make this chart (a subgroup of one for an R chart, say)."""


@dataclass(frozen=True)
class Chart:
    name: str
    statistic: Floats
    center: Floats
    zone_sigma: Floats
    lcl: Floats
    ucl: Floats
    sigma: float | Floats
    phase1_points: int
    secondary: Chart | None = None


@dataclass(frozen=True)
class Limits:
    """How the limits are set: from phase I data, or from a known standard."""

    nsigmas: float = 3.0
    phase1: int | None = None
    center: float | None = None
    sigma: float | None = None
    sigma_method: str | None = None

    def phase1_count(self, total: int) -> int:
        if self.phase1 is None:
            return total
        if not 1 <= self.phase1 <= total:
            raise ChartDataError(f"phase I must be 1 to {total} points, not {self.phase1}")
        return self.phase1


def _chart(
    name: str,
    statistic: Floats,
    center: Floats,
    zone_sigma: Floats,
    nsigmas: float,
    *,
    sigma: float | Floats,
    phase1_points: int,
    floor: float | None = None,
    ceiling: Floats | float | None = None,
    secondary: Chart | None = None,
) -> Chart:
    lcl = center - nsigmas * zone_sigma
    ucl = center + nsigmas * zone_sigma
    if floor is not None:
        lcl = np.maximum(lcl, floor)
    if ceiling is not None:
        ucl = np.minimum(ucl, ceiling)
    return Chart(name, statistic, center, zone_sigma, lcl, ucl, sigma, phase1_points, secondary)


def individuals_sigma(phase1: Floats, limits: Limits) -> float:
    """The known sigma, or the chosen estimator (default ``mr``) on phase I values."""
    method = limits.sigma_method or "mr"
    estimator = INDIVIDUAL_ESTIMATORS.get(method)
    if estimator is None:
        raise ChartDataError(
            f"sigma method {method!r} does not apply to individuals; "
            f"expected one of: {', '.join(INDIVIDUAL_ESTIMATORS)}"
        )
    if limits.sigma is not None:
        return limits.sigma
    if len(phase1) < 2:
        raise ChartDataError("estimating sigma needs at least 2 phase I values")
    return estimator(phase1)


def subgroups_sigma(phase1: Subgroups, limits: Limits, *, default_method: str) -> float:
    """The known sigma, or the chosen within-subgroup estimator on phase I subgroups."""
    method = limits.sigma_method or default_method
    estimator = SUBGROUP_ESTIMATORS.get(method)
    if estimator is None:
        raise ChartDataError(
            f"unknown sigma method {method!r}; expected one of: {', '.join(SUBGROUP_ESTIMATORS)}"
        )
    if limits.sigma is not None:
        return limits.sigma
    if np.any(phase1.sizes < 2):
        raise ChartDataError(
            "estimating sigma from subgroups needs 2 or more values in each "
            "phase I subgroup; give --sigma"
        )
    return estimator(phase1)


def individuals(values: Floats, limits: Limits) -> Chart:
    """I chart with its moving-range chart (MR of span 2; the first MR is NaN)."""
    n = len(values)
    if n < 2:
        raise ChartDataError("an individuals chart needs at least 2 values")
    k = limits.phase1_count(n)
    sigma = individuals_sigma(values[:k], limits)
    center = limits.center if limits.center is not None else float(np.mean(values[:k]))
    ones = np.ones(n)
    moving_range = np.concatenate([[np.nan], np.abs(np.diff(values))])
    mr_chart = _chart(
        "mr",
        moving_range,
        ones * d2(2) * sigma,
        ones * d3(2) * sigma,
        limits.nsigmas,
        sigma=sigma,
        phase1_points=k,
        floor=0.0,
    )
    mr_chart = _blank_first(mr_chart)
    return _chart(
        "imr",
        values,
        ones * center,
        ones * sigma,
        limits.nsigmas,
        sigma=sigma,
        phase1_points=k,
        secondary=mr_chart,
    )


def _blank_first(chart: Chart) -> Chart:
    """The MR chart has no point, center or limits before the second value."""
    arrays = {}
    for name in ("center", "zone_sigma", "lcl", "ucl"):
        array = getattr(chart, name).copy()
        array[0] = np.nan
        arrays[name] = array
    return Chart(
        chart.name,
        chart.statistic,
        arrays["center"],
        arrays["zone_sigma"],
        arrays["lcl"],
        arrays["ucl"],
        chart.sigma,
        chart.phase1_points,
    )


def xbar(groups: Subgroups, limits: Limits, *, spread: str) -> Chart:
    """X-bar chart with its R (``spread="r"``) or S (``spread="s"``) chart."""
    k = limits.phase1_count(len(groups.sizes))
    small = np.flatnonzero(groups.sizes < 2)
    if small.size:
        raise ChartDataError(
            f"subgroup {small[0] + 1} has 1 value; an X-bar/"
            f"{spread.upper()} chart needs at least 2 per subgroup"
        )
    phase1 = groups.head(k)
    sigma = subgroups_sigma(
        phase1, limits, default_method="uwave-r" if spread == "r" else "uwave-sd"
    )
    means = groups.means()
    if limits.center is not None:
        center = limits.center
    else:
        center = float(np.sum(phase1.sizes * means[:k]) / np.sum(phase1.sizes))
    sizes = groups.sizes
    if spread == "r":
        statistic, factor, spread_sd = groups.ranges(), per_size(d2, sizes), per_size(d3, sizes)
    else:
        c4s = per_size(c4, sizes)
        statistic, factor, spread_sd = groups.stdevs(), c4s, np.sqrt(1 - c4s**2)
    spread_chart = _chart(
        spread.upper(),
        statistic,
        factor * sigma,
        spread_sd * sigma,
        limits.nsigmas,
        sigma=sigma,
        phase1_points=k,
        floor=0.0,
    )
    ones = np.ones(len(sizes))
    return _chart(
        f"xbar-{spread}",
        means,
        ones * center,
        sigma / np.sqrt(sizes),
        limits.nsigmas,
        sigma=sigma,
        phase1_points=k,
        secondary=spread_chart,
    )


def attribute(kind: str, counts: Floats, sizes: Floats, limits: Limits) -> Chart:
    """p, np, c or u chart. ``sizes`` are sample sizes (p, np), inspection units (u)."""
    k = limits.phase1_count(len(counts))
    if limits.sigma is not None:
        raise ChartDataError(f"a {kind} chart's sigma follows from its center; give --center")
    if kind == "c":
        center = limits.center if limits.center is not None else float(np.mean(counts[:k]))
        ones = np.ones(len(counts))
        return _chart(
            "c",
            counts,
            ones * center,
            ones * np.sqrt(center),
            limits.nsigmas,
            sigma=float(np.sqrt(center)),
            phase1_points=k,
            floor=0.0,
        )
    rate = (
        limits.center
        if limits.center is not None
        else float(np.sum(counts[:k]) / np.sum(sizes[:k]))
    )
    if kind == "u":
        return _chart(
            "u",
            counts / sizes,
            np.full(len(counts), rate),
            np.sqrt(rate / sizes),
            limits.nsigmas,
            sigma=float(np.sqrt(rate)),
            phase1_points=k,
            floor=0.0,
        )
    unit_sd = float(np.sqrt(rate * (1 - rate)))
    if kind == "p":
        return _chart(
            "p",
            counts / sizes,
            np.full(len(counts), rate),
            unit_sd / np.sqrt(sizes),
            limits.nsigmas,
            sigma=unit_sd,
            phase1_points=k,
            floor=0.0,
            ceiling=1.0,
        )
    if kind == "np":
        np_sd = np.sqrt(sizes) * unit_sd
        return _chart(
            "np",
            counts.astype(np.float64),
            sizes * rate,
            np_sd,
            limits.nsigmas,
            sigma=_collapse(np_sd),
            phase1_points=k,
            floor=0.0,
            ceiling=sizes,
        )
    raise ChartDataError(f"unknown attribute chart {kind!r}")


def _collapse(values: Floats) -> float | Floats:
    """A single number when every entry is the same, else the array."""
    return float(values[0]) if np.all(values == values[0]) else values
