"""``andon spc eval``: one chart from a CSV file, as one JSON object (keys are pinned:
other tools read them)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from andon.spc.chart_names import CHARTS
from andon.spc.csv_input import InputError, Table, read_counts, read_subgroups, read_table
from rules.spc.capability import capability
from rules.spc.charts import (
    Chart,
    ChartDataError,
    Limits,
    attribute,
    individuals,
    individuals_sigma,
    subgroups_sigma,
    xbar,
)
from rules.spc.rule_sets import RuleSet
from rules.spc.tests import evaluate
from rules.spc.timeweighted import cusum, ewma

ATTRIBUTE_CHARTS = ("p", "np", "c", "u")


@dataclass(frozen=True)
class EvalRequest:
    chart: str
    input: Path = Path("-")
    sigma_method: str | None = None
    center: float | None = None
    sigma: float | None = None
    phase1: int | None = None
    nsigmas: float = 3.0
    rules: str = "nelson"
    test_params: dict[int, float] = field(default_factory=dict)
    lam: float = 0.2
    h: float = 5.0
    k: float = 0.5
    head_start: float = 0.0
    lsl: float | None = None
    usl: float | None = None
    target: float | None = None

    def limits(self) -> Limits:
        return Limits(
            nsigmas=self.nsigmas,
            phase1=self.phase1,
            center=self.center,
            sigma=self.sigma,
            sigma_method=self.sigma_method,
        )

    def rule_set(self) -> RuleSet:
        return RuleSet.preset(self.rules, nsigmas=self.nsigmas, overrides=self.test_params)


def run_eval(request: EvalRequest) -> dict[str, Any]:
    """The result object; raises InputError or ChartDataError (shown as one line)."""
    return evaluate_table(request, read_table(request.input))


def evaluate_table(request: EvalRequest, table: Table) -> dict[str, Any]:
    """The result object for data already read."""
    if request.nsigmas <= 0:
        raise ChartDataError(f"--nsigmas must be above 0, not {request.nsigmas:g}")
    if request.sigma is not None and request.sigma <= 0:
        raise ChartDataError(f"--sigma must be above 0, not {request.sigma:g}")
    if request.chart in ATTRIBUTE_CHARTS:
        if request.lsl is not None or request.usl is not None:
            raise ChartDataError("--lsl and --usl apply to variables charts only")
        if request.sigma_method is not None:
            raise ChartDataError(f"a {request.chart} chart has no --sigma-method")
        counts, sizes = read_counts(
            table, need_size=request.chart != "c", at_most_size=request.chart in ("p", "np")
        )
        chart = attribute(request.chart, counts, sizes, request.limits())
        return _chart_json(chart, request.chart, request.rule_set())
    if request.chart in ("ewma", "cusum"):
        return _time_weighted(request, table)
    spread = {"xbar-r": "r", "xbar-s": "s"}.get(request.chart)
    if spread is None:
        values = table.numbers("value")
        chart = individuals(values, request.limits())
        observations = values[: chart.phase1_points]
    else:
        groups = read_subgroups(table, min_size=2, chart=f"an {request.chart} chart")
        chart = xbar(groups, request.limits(), spread=spread)
        observations = groups.head(chart.phase1_points).all_values()
    result = _chart_json(chart, request.chart, request.rule_set())
    assert chart.secondary is not None
    secondary_name = {"imr": "mr", "xbar-r": "r", "xbar-s": "s"}[request.chart]
    result["secondary"] = _chart_json(chart.secondary, secondary_name, request.rule_set())
    if request.lsl is not None or request.usl is not None:
        result["capability"] = _capability_json(request, observations, chart)
    return result


def _time_weighted(request: EvalRequest, table: Table) -> dict[str, Any]:
    means, sizes, sigma, observations, k = _series(request, table)
    center = (
        request.center
        if request.center is not None
        else float(np.sum(sizes[:k] * means[:k]) / np.sum(sizes[:k]))
    )
    if request.chart == "ewma":
        result = ewma(
            means, sizes, center=center, sigma=sigma, lam=request.lam, nsigmas=request.nsigmas
        )
        out: dict[str, Any] = {
            "chart": "ewma",
            "center": center,
            "sigma": sigma,
            "statistic": _list(result.statistic),
            "lcl": _list(result.lcl),
            "ucl": _list(result.ucl),
            "violations": {"1": _indices(result.beyond)},
        }
    else:
        if request.h <= 0 or request.k < 0 or request.head_start < 0:
            raise ChartDataError("--h must be above 0, --k and --head-start at least 0")
        sums = cusum(
            means,
            sizes,
            center=center,
            sigma=sigma,
            k=request.k,
            h=request.h,
            head_start=request.head_start,
        )
        n = len(means)
        out = {
            "chart": "cusum",
            "center": center,
            "sigma": sigma,
            "statistic": _list(means),
            "lcl": [-request.h] * n,
            "ucl": [request.h] * n,
            "upper": _list(sums.upper),
            "lower": _list(sums.lower),
            "violations": {
                "upper": _indices(sums.upper_alarm),
                "lower": _indices(sums.lower_alarm),
            },
        }
    if request.lsl is not None or request.usl is not None:
        out["capability"] = _capability_values(request, observations, center, sigma)
    return out


def _series(
    request: EvalRequest, table: Table
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, NDArray[np.float64], int]:
    """Group statistics and sizes, sigma, the phase I observations and their count of
    points, from subgrouped data (a ``subgroup`` column) or from individuals."""
    limits = request.limits()
    if "subgroup" in table.header:
        groups = read_subgroups(table, min_size=1, chart=f"an {request.chart} chart")
        k = limits.phase1_count(len(groups.sizes))
        phase1 = groups.head(k)
        sigma = subgroups_sigma(phase1, limits, default_method="uwave-r")
        means, sizes = groups.means(), groups.sizes.astype(np.float64)
        return means, sizes, sigma, phase1.all_values(), k
    values = table.numbers("value")
    k = limits.phase1_count(len(values))
    sigma = individuals_sigma(values[:k], limits)
    return values, np.ones(len(values)), sigma, values[:k], k


def _chart_json(chart: Chart, name: str, rules: RuleSet) -> dict[str, Any]:
    flags = evaluate(
        chart.statistic[None, :], chart.center[None, :], chart.zone_sigma[None, :], rules
    )
    return {
        "chart": name,
        "center": _number_or_list(chart.center),
        "sigma": chart.sigma if isinstance(chart.sigma, float) else _list(chart.sigma),
        "statistic": _list(chart.statistic),
        "lcl": _list(chart.lcl),
        "ucl": _list(chart.ucl),
        "violations": {str(test): _indices(flags[test][0]) for test in sorted(flags)},
    }


def _capability_json(
    request: EvalRequest, observations: NDArray[np.float64], chart: Chart
) -> dict[str, Any]:
    assert isinstance(chart.sigma, float)
    return _capability_values(request, observations, float(chart.center[0]), chart.sigma)


def _capability_values(
    request: EvalRequest, observations: NDArray[np.float64], mean: float, sigma: float
) -> dict[str, Any]:
    try:
        result = capability(
            observations,
            mean=mean,
            sigma=sigma,
            lsl=request.lsl,
            usl=request.usl,
            target=request.target,
        )
    except ValueError as exc:
        raise ChartDataError(str(exc)) from None
    return {
        "cp": result.cp,
        "cpk": result.cpk,
        "cpl": result.cpl,
        "cpu": result.cpu,
        "cpm": result.cpm,
        "pp": result.pp,
        "ppk": result.ppk,
        "cp_ci": list(result.cp_ci) if result.cp_ci else None,
        "cpk_ci": list(result.cpk_ci) if result.cpk_ci else None,
    }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _list(values: NDArray[np.float64]) -> list[float | None]:
    return [_number(v) for v in values.tolist()]


def _number_or_list(values: NDArray[np.float64]) -> float | list[float | None]:
    finite = values[~np.isnan(values)]
    if finite.size and np.all(finite == finite[0]):
        return float(finite[0])
    return _list(values)


def _indices(flags: NDArray[np.bool_]) -> list[int]:
    return [int(i) for i in np.flatnonzero(flags)]


__all__ = ["CHARTS", "EvalRequest", "InputError", "evaluate_table", "run_eval"]
