"""Time-weighted charts: EWMA with exact time-varying limits, and the tabular CUSUM."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Ewma:
    statistic: Floats
    center: float
    sigma: float
    lcl: Floats
    ucl: Floats
    beyond: NDArray[np.bool_]


def ewma(
    means: Floats, sizes: Floats, *, center: float, sigma: float, lam: float, nsigmas: float
) -> Ewma:
    """z_i = λ x̄_i + (1-λ) z_{i-1}, z_0 = center.

    Var(z_i) = (1-λ)² Var(z_{i-1}) + λ² σ²/n_i, the exact variance for any subgroup sizes
    (for equal sizes it is λ/(2-λ) (1 - (1-λ)^{2i}) σ²/n).
    """
    if not 0 < lam <= 1:
        raise ValueError(f"lambda must be in (0, 1], not {lam}")
    n = len(means)
    smoothed = np.empty(n)
    variance = np.empty(n)
    z, var = center, 0.0
    for i in range(n):
        z = lam * means[i] + (1 - lam) * z
        var = (1 - lam) ** 2 * var + lam**2 * sigma**2 / sizes[i]
        smoothed[i], variance[i] = z, var
    half_width = nsigmas * np.sqrt(variance)
    lcl, ucl = center - half_width, center + half_width
    return Ewma(smoothed, center, sigma, lcl, ucl, (smoothed > ucl) | (smoothed < lcl))


@dataclass(frozen=True)
class Cusum:
    upper: Floats
    lower: Floats
    upper_alarm: NDArray[np.bool_]
    lower_alarm: NDArray[np.bool_]


def cusum(
    means: Floats,
    sizes: Floats,
    *,
    center: float,
    sigma: float,
    k: float,
    h: float,
    head_start: float = 0.0,
) -> Cusum:
    """Tabular CUSUM on standardized statistics, k, h and head start in sigma units.

    C⁺_i = max(0, C⁺_{i-1} + z_i - k) and C⁻_i = max(0, C⁻_{i-1} - z_i - k), with
    z_i = (x̄_i - center) / (σ/√n_i); both start at the head start; an alarm is C > h.
    """
    z = (means - center) / (sigma / np.sqrt(sizes))
    upper = np.empty(len(z))
    lower = np.empty(len(z))
    hi = lo = head_start
    for i, value in enumerate(z):
        hi = max(0.0, hi + value - k)
        lo = max(0.0, lo - value - k)
        upper[i], lower[i] = hi, lo
    return Cusum(upper, lower, upper > h, lower > h)
