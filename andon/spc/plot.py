"""Control chart images for backtests: limits, 1 and 2 sigma zones, flagged points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def plot_charts(charts: list[tuple[str, dict[str, Any]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = max(1, len(charts))
    figure, axes = plt.subplots(count, 1, figsize=(11, 3.2 * count), squeeze=False)
    for axis, (name, result) in zip(axes[:, 0], charts, strict=False):
        _plot_one(axis, name, result)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def _array(values: Any, n: int) -> Any:
    if isinstance(values, list):
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.full(n, float(values))


def _plot_one(axis: Any, name: str, result: dict[str, Any]) -> None:
    y = _array(result["statistic"], 0)
    n = len(y)
    x = np.arange(n)
    center = _array(result["center"], n)
    lcl, ucl = _array(result["lcl"], n), _array(result["ucl"], n)
    axis.plot(x, y, marker="o", markersize=3, color="#333333", linewidth=1)
    axis.step(x, center, where="mid", color="green", linewidth=1, label="center")
    axis.step(x, ucl, where="mid", color="red", linewidth=1, label="limits")
    axis.step(x, lcl, where="mid", color="red", linewidth=1)
    for fraction in (1 / 3, 2 / 3):
        for limit in (ucl, lcl):
            zone = center + (limit - center) * fraction
            axis.step(x, zone, where="mid", color="orange", linewidth=0.6, linestyle="--")
    flagged = sorted({i for indices in result["violations"].values() for i in indices})
    if flagged:
        axis.scatter(flagged, y[flagged], color="red", zorder=3, s=30, label="flagged")
    axis.set_title(f"{name} ({result['chart']})", loc="left", fontsize=10)
    axis.legend(loc="upper right", fontsize=7)
