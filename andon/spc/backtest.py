"""``andon spc backtest``: replay history through a rule file before deploying it.

History is a long CSV: a ``characteristic`` column naming each row's characteristic,
then ``value`` (and ``subgroup`` for subgrouped charts) or ``count`` and ``size``, and
optionally a ``timestamp`` column that the report quotes for the first and last alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from andon.spc.csv_input import InputError, Table, read_table, subgroup_runs
from andon.spc.evaluate import EvalRequest, evaluate_table
from contract.config.loading import ConfigInvalid, load_model
from rules.spc.arl import in_control_arl
from rules.spc.rule_sets import RuleSet
from rules.spc.rulefile import Characteristic, RuleFile


@dataclass(frozen=True)
class Backtest:
    """One rule file run on a history: ``report`` is the JSON report (its keys are pinned:
    other tools read them); ``alarm_points`` counts, per characteristic, the points any
    test flagged (a point two tests flag is one alarm)."""

    rules_path: Path
    report: dict[str, Any]
    alarm_points: dict[str, int]


def run_backtest(
    rules_path: Path, data_path: Path, *, plot: Path | None, seed: int
) -> dict[str, Any]:
    """The JSON report of ``rules_path`` run on the history in ``data_path``."""
    return backtest(rules_path, read_history(data_path), plot=plot, seed=seed).report


def read_history(data_path: Path) -> Table:
    """The history file, checked for its ``characteristic`` column."""
    table = read_table(data_path)
    table.require("characteristic")
    return table


def backtest(rules_path: Path, table: Table, *, plot: Path | None, seed: int) -> Backtest:
    """Replay ``table`` through the rule file; InputError if either is wrong."""
    try:
        rule_file = load_model(rules_path, RuleFile)
    except ConfigInvalid as exc:
        raise InputError(str(exc)) from None
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in table.rows:
        by_id.setdefault((row.get("characteristic") or "").strip(), []).append(row)
    reports, charts, alarm_points = [], [], {}
    for item in rule_file.characteristics:
        rows = by_id.get(item.id, [])
        if not rows:
            reports.append(
                {"id": item.id, "chart": item.chart, "points": 0, "note": "no rows in the history"}
            )
            continue
        subset = Table(Path(f"{table.path} [{item.id}]"), table.header, rows)
        result = evaluate_table(characteristic_request(item), subset)
        reports.append(_report(item, result, subset, seed))
        alarm_points[item.id] = len(_alarmed(result["violations"]))
        charts.append((item.id, result))
    if plot is not None:
        from andon.spc.plot import plot_charts

        plot_charts(charts, plot)
    known = {item.id for item in rule_file.characteristics}
    report = {"characteristics": reports, "not_in_rule_file": sorted(set(by_id) - known)}
    return Backtest(rules_path, report, alarm_points)


def _alarmed(violations: dict[str, list[int]]) -> list[int]:
    """The points any test flagged, in order."""
    return sorted({i for indices in violations.values() for i in indices})


def characteristic_request(item: Characteristic) -> EvalRequest:
    """The evaluation of one characteristic as the rule file declares it."""
    return EvalRequest(
        chart=item.chart,
        sigma_method=item.sigma_method,
        center=item.center,
        sigma=item.sigma,
        phase1=item.phase1,
        nsigmas=item.nsigmas,
        rules=item.rules,
        test_params=dict(item.tests),
        lsl=item.lsl,
        usl=item.usl,
        target=item.target,
    )


def _report(
    item: Characteristic, result: dict[str, Any], table: Table, seed: int
) -> dict[str, Any]:
    violations: dict[str, list[int]] = result["violations"]
    alarmed = _alarmed(violations)
    rule_set = RuleSet.preset(item.rules, nsigmas=item.nsigmas, overrides=item.tests)
    arl = in_control_arl(rule_set, seed=seed)
    report: dict[str, Any] = {
        "id": item.id,
        "chart": item.chart,
        "points": len(result["statistic"]),
        "alarms": {test: len(indices) for test, indices in violations.items()},
        "first_alarm": _alarm(alarmed[0], violations, result, table) if alarmed else None,
        "last_alarm": _alarm(alarmed[-1], violations, result, table) if alarmed else None,
        "in_control_arl": {
            "value": arl.arl,
            "method": arl.method,
            "runs": arl.runs,
            "horizon": arl.horizon,
            "censored": arl.censored,
        },
    }
    if "capability" in result:
        report["capability"] = result["capability"]
    return report


def _alarm(
    index: int, violations: dict[str, list[int]], result: dict[str, Any], table: Table
) -> dict[str, Any]:
    alarm: dict[str, Any] = {
        "index": index,
        "tests": [int(test) for test, indices in violations.items() if index in indices],
        "statistic": result["statistic"][index],
    }
    timestamp = _timestamp_of_point(index, table, subgrouped=result["chart"].startswith("xbar"))
    if timestamp:
        alarm["timestamp"] = timestamp
    return alarm


def _timestamp_of_point(index: int, table: Table, *, subgrouped: bool) -> str | None:
    """The timestamp of the point's row, or of its subgroup's last row."""
    if "timestamp" not in table.header:
        return None
    if subgrouped:
        _, _, rows = list(subgroup_runs(table))[index]
        return table.cell(rows[-1], "timestamp") or None
    return table.cell(index + 1, "timestamp") or None
