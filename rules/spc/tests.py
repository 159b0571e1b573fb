"""The eight tests for special causes (Nelson's numbering, Minitab's default parameters).

Each test flags the point that completes its pattern and every later point while the
pattern lasts. Zones come from each point's own sigma, so varying subgroup sizes are
handled. Batch evaluation is vectorised over characteristics (rows) and points
(columns): a run of K is a sliding-window AND, built by doubling in log2(K) steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from rules.spc.rule_sets import RuleSet

Bools = NDArray[np.bool_]
Floats = NDArray[np.float64]


def evaluate(x: Floats, center: Floats, sigma: Floats, rules: RuleSet) -> dict[int, Bools]:
    """Flags of every enabled test, each shaped like ``x`` (characteristics, points).

    ``center`` and ``sigma`` are one value per characteristic, or one per point (the
    shape of x). NaN points match no pattern and break every run.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    per_point = np.ndim(center) == 2 or np.ndim(sigma) == 2
    center_all = _as_grid(center, x) if per_point else _as_column(center, x)
    sigma_all = _as_grid(sigma, x) if per_point else _as_column(sigma, x)
    out = _empty_flags(x.shape, rules)
    for rows in _row_blocks(x.shape):
        block = np.ascontiguousarray(x[rows].T)
        c = np.ascontiguousarray(center_all[rows].T)
        s = np.ascontiguousarray(sigma_all[rows].T)
        for number, flags in evaluate_block(block, c, s, rules).items():
            out[number][rows] = flags.T
    return out


def _as_column(values: Floats | float, x: Floats) -> Floats:
    return np.broadcast_to(np.asarray(values, dtype=np.float64).reshape(-1, 1), (len(x), 1))


def _as_grid(values: Floats | float, x: Floats) -> Floats:
    array = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(array if array.ndim == 2 else array.reshape(-1, 1), x.shape)


def _empty_flags(shape: tuple[int, ...], rules: RuleSet) -> dict[int, Bools]:
    # Allocated point-major so that each block's (points, characteristics) flags are
    # copied in long runs; the arrays still index as (characteristics, points).
    return {number: np.empty(shape[::-1], dtype=np.bool_).T for number in rules.params}


def _row_blocks(shape: tuple[int, ...], cells: int = 1 << 18) -> list[slice]:
    """Blocks of characteristics small enough to stay in the CPU cache."""
    rows, points = shape
    step = max(1, cells // max(points, 1))
    return [slice(start, min(start + step, rows)) for start in range(0, rows, step)]


def evaluate_block(
    x: Floats,
    c: Floats,
    s: Floats,
    rules: RuleSet,
    *,
    steps: Floats | None = None,
) -> dict[int, Bools]:
    """The tests on a point-major block: ``x`` is (points, characteristics); ``c`` and
    ``s`` are (1, characteristics) or (points, characteristics). ``steps`` may pass in
    x[1:] - x[:-1] when the caller already has it (the moving ranges)."""
    params = rules.params
    out: dict[int, Bools] = {}
    # Zone thresholds are computed as the plotted limits are (c ± k·s), so a point
    # exactly on a limit is judged exactly as the chart shows it.
    above_1s, below_1s = x > c + s, x < c - s
    if 1 in params:
        k = params[1]
        out[1] = (x > c + k * s) | (x < c - k * s)
    if 2 in params:
        k = int(params[2])
        out[2] = window_all(x > c, k) | window_all(x < c, k)
    if 3 in params or 4 in params:
        rising, falling = _directions(x, steps)
        if 3 in params:
            k = int(params[3]) - 1
            out[3] = window_all(rising, k) | window_all(falling, k)
        if 4 in params:
            alternating = np.zeros_like(rising)
            alternating[2:] = (rising[2:] & falling[1:-1]) | (falling[2:] & rising[1:-1])
            out[4] = window_all(alternating, int(params[4]) - 2)
    for number in (5, 6):
        if number in params:
            if number == 6:
                above, below = above_1s, below_1s
            else:
                above, below = x > c + 2.0 * s, x < c - 2.0 * s
            k = int(params[number])
            out[number] = (above & (window_count(above, k + 1) >= k)) | (
                below & (window_count(below, k + 1) >= k)
            )
    if 7 in params:
        within = ~(above_1s | below_1s)
        if _has_nan(x):
            within &= ~np.isnan(x)
        out[7] = window_all(within, int(params[7]))
    if 8 in params:
        k = int(params[8])
        out[8] = (
            window_all(above_1s | below_1s, k) & window_any(above_1s, k) & window_any(below_1s, k)
        )
    return out


def _has_nan(x: Floats) -> bool:
    # One summing pass is much cheaper than a mask; a NaN (or inf - inf) poisons the sum.
    return bool(np.isnan(np.add.reduce(x, axis=None)))


def _directions(x: Floats, steps: Floats | None) -> tuple[Bools, Bools]:
    rising = np.zeros(x.shape, dtype=np.bool_)
    falling = np.zeros(x.shape, dtype=np.bool_)
    if steps is None:
        np.greater(x[1:], x[:-1], out=rising[1:])
        np.less(x[1:], x[:-1], out=falling[1:])
    else:
        np.greater(steps, 0.0, out=rising[1:])
        np.less(steps, 0.0, out=falling[1:])
    return rising, falling


def window_all(a: Bools, k: int) -> Bools:
    """True where the last ``k`` points (this one included) are all True; points run
    along axis 0."""
    return _window(a, k, np.logical_and)


def window_any(a: Bools, k: int) -> Bools:
    """True where any of the last ``k`` points is True."""
    return _window(a, k, np.logical_or)


def _combine_shifted(a: Bools, b: Bools, by: int, combine: np.ufunc) -> Bools:
    """combine(a, b moved ``by`` points later); where b has no earlier point, a & False
    for AND and a for OR."""
    out = np.empty_like(a)
    if by >= len(a):
        out[:] = a if combine is np.logical_or else False
        return out
    combine(a[by:], b[: len(b) - by], out=out[by:])
    out[:by] = a[:by] if combine is np.logical_or else False
    return out


def _window(a: Bools, k: int, combine: np.ufunc) -> Bools:
    if k <= 0:
        return np.ones_like(a)
    result: Bools | None = None
    covered = 0
    span, power = a, 1
    while k:
        if k & 1:
            result = span if result is None else _combine_shifted(result, span, covered, combine)
            covered += power
        k >>= 1
        if k:
            span = _combine_shifted(span, span, power, combine)
            power *= 2
    assert result is not None
    return result


def window_count(a: Bools, k: int) -> NDArray[np.signedinteger[Any]]:
    """How many of the last ``k`` points are True; 0 until the window is complete."""
    counts = a.view(np.int8)
    total = np.zeros(a.shape, dtype=np.int16 if k > 127 else np.int8)
    if len(a) < k:
        return total
    total[k - 1 :] = counts[k - 1 :]
    for back in range(1, k):
        total[k - 1 :] += counts[k - 1 - back : len(counts) - back]
    return total
