"""In-control average run length of a rule set, by theory where it is closed-form and by
simulation otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from rules.spc.rule_sets import RuleSet
from rules.spc.tests import evaluate


@dataclass(frozen=True)
class RunLength:
    arl: float | None
    method: str
    runs: int = 0
    horizon: int = 0
    censored: int = 0


def in_control_arl(
    rules: RuleSet, *, seed: int, runs: int = 1000, horizon: int = 4000
) -> RunLength:
    """Points until the first alarm of any enabled test on in-control normal data."""
    if not rules.params:
        return RunLength(None, "no tests enabled")
    if set(rules.params) == {1}:
        tail = 2 * float(stats.norm.sf(rules.params[1]))
        return RunLength(1 / tail, "theory: 1 / P(|Z| > K)")
    rng = np.random.default_rng(seed)
    series = rng.standard_normal((runs, horizon))
    flags = evaluate(series, np.zeros(runs), np.ones(runs), rules)
    any_alarm = np.logical_or.reduce(list(flags.values()))
    alarmed = any_alarm.any(axis=1)
    first = np.where(alarmed, any_alarm.argmax(axis=1) + 1, horizon)
    return RunLength(float(first.mean()), "simulation", runs, horizon, int((~alarmed).sum()))
