"""What the backtest or the edge would refuse when it runs, the rule file's schema refuses
first (``RuleFile.problems()``, reported by ``andon check-config`` at its line): each
combination below is run through the real evaluation, unchecked, to show it fails there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from andon.spc.backtest import characteristic_request
from andon.spc.csv_input import Table
from andon.spc.evaluate import evaluate_table
from rules.spc.online import OnlineChart
from rules.spc.rule_sets import RuleSet
from rules.spc.rulefile import SIGMA_METHODS, Characteristic, RuleFile
from rules.spc.subgroups import INDIVIDUAL_ESTIMATORS, SUBGROUP_ESTIMATORS

REFUSED_AT_RUN_TIME: list[tuple[dict[str, Any], str]] = [
    ({"chart": "xbar-r", "lsl": 74.05, "usl": 73.95}, "usl"),
    ({"chart": "imr", "lsl": 12.0, "usl": 12.0}, "usl"),
    ({"chart": "p", "lsl": 0.0}, "lsl"),
    ({"chart": "np", "usl": 3.0}, "usl"),
    ({"chart": "p", "center": 0.02, "sigma": 0.1}, "sigma"),
    ({"chart": "c", "sigma_method": "mr"}, "sigma_method"),
    ({"chart": "imr", "sigma_method": "uwave-r"}, "sigma_method"),
    ({"chart": "xbar-s", "sigma_method": "mr"}, "sigma_method"),
    ({"chart": "imr", "phase1": 1}, "phase1"),
    ({"chart": "imr", "tests": {2: 8.5}}, "tests"),
    ({"chart": "imr", "tests": {3: 1}}, "tests"),
    ({"chart": "imr", "tests": {1: -1}}, "tests"),
]

# Not refused when run, but charted as nonsense: limits of NaN, or none at all.
MEANINGLESS: list[tuple[dict[str, Any], str]] = [
    ({"chart": "p", "center": 1.5}, "center"),
    ({"chart": "np", "center": 0}, "center"),
    ({"chart": "c", "center": -1}, "center"),
    ({"chart": "u", "center": 0.0}, "center"),
    ({"chart": "c", "target": 2.0}, "target"),
]

FINE: list[dict[str, Any]] = [
    {"chart": "xbar-r", "lsl": 73.95, "usl": 74.05, "sigma_method": "rmsdf"},
    {"chart": "imr", "phase1": 1, "sigma": 0.2, "sigma_method": "sd"},
    {"chart": "p", "center": 0.02, "tests": {1: 2.5, 2: 8}},
    {"chart": "u", "center": 3.5},
]


def _history(chart: str) -> Table:
    rng = np.random.default_rng(3)
    if chart in ("p", "np", "c", "u"):
        rows = [{"count": str(n), "size": "50"} for n in rng.integers(0, 5, size=30)]
        return Table(Path("history.csv"), ["count", "size"], rows)
    if chart == "imr":
        rows = [{"value": f"{v:.4f}"} for v in rng.normal(74, 0.01, size=30)]
        return Table(Path("history.csv"), ["value"], rows)
    rows = [
        {"subgroup": str(i // 5), "value": f"{v:.4f}"}
        for i, v in enumerate(rng.normal(74, 0.01, size=100))
    ]
    return Table(Path("history.csv"), ["subgroup", "value"], rows)


def _run(item: Characteristic) -> None:
    """What the backtest and the edge do with one characteristic."""
    evaluate_table(characteristic_request(item), _history(item.chart))
    RuleSet.preset(item.rules, nsigmas=item.nsigmas, overrides=item.tests)
    chart = OnlineChart(item, subgroup_size=1 if item.chart == "imr" else 5)
    for value in np.random.default_rng(4).normal(74, 0.01, size=60):
        if item.is_attribute:
            chart.add_counts(float(value > 74.01), 50)
        else:
            chart.add_value(float(value))


def _problems(keys: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    rules = RuleFile.model_validate({"characteristics": [{"id": "x", **keys}]})
    return rules.problems()


@pytest.mark.parametrize(("keys", "where"), REFUSED_AT_RUN_TIME, ids=str)
def test_what_the_run_refuses_the_rule_file_refuses_at_its_key(
    keys: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each run refuses in its own words
        _run(Characteristic.model_validate({"id": "x", **keys}))
    problems = _problems(keys)
    assert [key_path for key_path, _ in problems] == [("characteristics", 0, where)]


@pytest.mark.parametrize(("keys", "where"), MEANINGLESS, ids=str)
def test_a_center_or_target_the_chart_cannot_use_is_refused(
    keys: dict[str, Any], where: str
) -> None:
    assert [key_path for key_path, _ in _problems(keys)] == [("characteristics", 0, where)]


@pytest.mark.parametrize("keys", FINE, ids=str)
def test_combinations_that_run_pass(keys: dict[str, Any]) -> None:
    _run(Characteristic.model_validate({"id": "x", **keys}))
    assert _problems(keys) == []


def test_the_sigma_methods_of_each_chart_are_the_estimators_it_has() -> None:
    assert set(SIGMA_METHODS["imr"]) == set(INDIVIDUAL_ESTIMATORS)
    assert set(SIGMA_METHODS["xbar-r"]) == set(SUBGROUP_ESTIMATORS)
    assert set(SIGMA_METHODS["xbar-s"]) == set(SUBGROUP_ESTIMATORS)
