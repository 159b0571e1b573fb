"""A straightforward per-point implementation of the eight tests, one series at a time.

It reads like the textbook definitions, so it serves twice: as the baseline the batch
path is benchmarked against, and as an independent check of the batch path in tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class _Series:
    x: Sequence[float]
    c: float
    s: float

    def last(self, t: int, n: int) -> Sequence[float]:
        """The n points ending at t, or nothing before the window is complete."""
        return self.x[t - n + 1 : t + 1] if t >= n - 1 else []


def _test1(series: _Series, t: int, k: float) -> bool:
    value, c, s = series.x[t], series.c, series.s
    return value > c + k * s or value < c - k * s


def _test2(series: _Series, t: int, k: float) -> bool:
    last = series.last(t, int(k))
    return bool(last) and (all(v > series.c for v in last) or all(v < series.c for v in last))


def _test3(series: _Series, t: int, k: float) -> bool:
    last = series.last(t, int(k))
    pairs = list(itertools.pairwise(last))
    return bool(last) and (all(b > a for a, b in pairs) or all(b < a for a, b in pairs))


def _test4(series: _Series, t: int, k: float) -> bool:
    last = series.last(t, int(k))
    triples = list(zip(last, last[1:], last[2:], strict=False))
    return bool(last) and all((b < a and c > b) or (b > a and c < b) for a, b, c in triples)


def _k_of_k_plus_1(series: _Series, t: int, k: float, zone: float) -> bool:
    n = int(k)
    window = series.last(t, n + 1)
    if not window:
        return False
    high, low = series.c + zone * series.s, series.c - zone * series.s
    if series.x[t] > high:
        return sum(v > high for v in window) >= n
    if series.x[t] < low:
        return sum(v < low for v in window) >= n
    return False


def _test7(series: _Series, t: int, k: float) -> bool:
    last = series.last(t, int(k))
    c, s = series.c, series.s
    return bool(last) and all(c - s <= v <= c + s for v in last)


def _test8(series: _Series, t: int, k: float) -> bool:
    last = series.last(t, int(k))
    above = [v > series.c + series.s for v in last]
    below = [v < series.c - series.s for v in last]
    outside = all(a or b for a, b in zip(above, below, strict=True))
    return bool(last) and outside and any(above) and any(below)


TESTS: dict[int, Callable[[_Series, int, float], bool]] = {
    1: _test1,
    2: _test2,
    3: _test3,
    4: _test4,
    5: lambda series, t, k: _k_of_k_plus_1(series, t, k, 2.0),
    6: lambda series, t, k: _k_of_k_plus_1(series, t, k, 1.0),
    7: _test7,
    8: _test8,
}


def reference_flags(
    x: Sequence[float], center: float, sigma: float, params: Mapping[int, float]
) -> dict[int, list[bool]]:
    series = _Series(x, center, sigma)
    return {test: [TESTS[test](series, t, k) for t in range(len(x))] for test, k in params.items()}
