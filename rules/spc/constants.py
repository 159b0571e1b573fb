"""Control chart constants computed from their definitions, for any subgroup size.

d2(n) is the expected range of n standard normal values and d3(n) its standard
deviation; both come from integrals of the normal distribution, evaluated with
composite Gauss-Legendre quadrature (agreeing with adaptive quadrature to about 1e-14).
c4(n) is the bias of the sample standard deviation, from gamma functions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from numpy.typing import NDArray
from scipy import special

MAX_SUBGROUP_SIZE = 100


def _gauss_legendre(
    start: float, stop: float, nodes: int, pieces: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, w = np.polynomial.legendre.leggauss(nodes)
    edges = np.linspace(start, stop, pieces + 1)
    half = np.diff(edges) / 2
    mid = (edges[:-1] + edges[1:]) / 2
    points = (half[:, None] * x[None, :] + mid[:, None]).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    return points, weights


# Beyond 12 standard deviations every integrand below is zero in double precision.
_X, _WX = _gauss_legendre(-12.0, 12.0, 40, 16)
_GAP, _WGAP = _gauss_legendre(0.0, 24.0, 40, 16)


def _check_size(n: int) -> None:
    if not 2 <= n <= MAX_SUBGROUP_SIZE:
        raise ValueError(f"subgroup size must be 2 to {MAX_SUBGROUP_SIZE}, not {n}")


@cache
def d2(n: int) -> float:
    """E[range of n standard normals] = ∫ 1 - Φ(x)^n - (1 - Φ(x))^n dx."""
    _check_size(n)
    p = special.ndtr(_X)
    return float(np.sum(_WX * (1.0 - p**n - (1.0 - p) ** n)))


@cache
def d3(n: int) -> float:
    """Standard deviation of the range, from its second moment
    E[R²] = 2 ∫∫_{x<y} 1 - Φ(y)^n - (1-Φ(x))^n + (Φ(y)-Φ(x))^n dx dy."""
    _check_size(n)
    px = special.ndtr(_X)[:, None]
    py = special.ndtr(_X[:, None] + _GAP[None, :])
    integrand = 1.0 - py**n - (1.0 - px) ** n + (py - px) ** n
    second_moment = 2.0 * float(np.sum(_WX[:, None] * _WGAP[None, :] * integrand))
    return float(np.sqrt(second_moment - d2(n) ** 2))


@cache
def c4(n: int) -> float:
    """E[S]/σ for n normal values: sqrt(2/(n-1)) Γ(n/2) / Γ((n-1)/2)."""
    if n < 2:
        raise ValueError(f"c4 needs n >= 2, not {n}")
    log_ratio = special.gammaln(n / 2) - special.gammaln((n - 1) / 2)
    return float(np.sqrt(2.0 / (n - 1)) * np.exp(log_ratio))


def per_size(constant: Callable[[int], float], sizes: NDArray[np.int64]) -> NDArray[np.float64]:
    """Apply d2, d3 or c4 to every entry of an array of subgroup sizes."""
    return np.array([constant(int(n)) for n in sizes], dtype=np.float64)
