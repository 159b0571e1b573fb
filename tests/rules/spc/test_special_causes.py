"""Each test for special causes fires on its planted pattern, not on a neighbouring one.

Series are in sigma units around a center of 0 (sigma 1), so 2.5 means 2.5 sigma.
"""

from __future__ import annotations

import numpy as np
import pytest

from rules.spc.rule_sets import RuleSet
from rules.spc.tests import evaluate


def flagged(series: list[float], test: int, k: float | None = None) -> list[int]:
    overrides = {} if k is None else {test: k}
    rules = RuleSet.preset("nelson", overrides=overrides)
    flags = evaluate(np.array([series]), np.zeros(1), np.ones(1), rules)
    return [int(i) for i in np.flatnonzero(flags[test][0])]


def quiet(n: int) -> list[float]:
    """Small alternating values: no test fires on them except 4 for long runs."""
    return [0.1, -0.1, 0.2, -0.2][:n] if n <= 4 else ([0.1, -0.1, 0.2, -0.2] * n)[:n]


def test_1_a_point_beyond_three_sigma() -> None:
    assert flagged([0.0, 3.2, 0.0, -3.01, 2.99, -2.9], 1) == [1, 3]
    assert flagged([0.0, 3.0, -3.0], 1) == []  # on the limit is not beyond it
    assert flagged([0.0, 2.6], 1, k=2.5) == [1]


def test_2_nine_in_a_row_on_one_side_flags_the_ninth_and_later() -> None:
    series = [-0.5] + [0.4] * 11 + [-0.3]
    assert flagged(series, 2) == [9, 10, 11]


def test_2_a_point_exactly_on_the_center_line_breaks_the_run() -> None:
    series = [0.4] * 5 + [0.0] + [0.4] * 5
    assert flagged(series, 2) == []
    assert flagged([0.4] * 5 + [0.1] + [0.4] * 5, 2) == [8, 9, 10]


def test_3_six_points_steadily_rising_or_falling() -> None:
    rising = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    assert flagged(rising, 3) == [5, 6]
    assert flagged(rising[::-1], 3) == [5, 6]
    # Five rises and then a tie: one point short.
    assert flagged([0.0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.5], 3) == []


def test_4_fourteen_points_alternating() -> None:
    zigzag = [0.3 if i % 2 else -0.3 for i in range(15)]
    assert flagged(zigzag, 4) == [13, 14]
    assert flagged(zigzag[:13], 4) == []
    broken = [*zigzag[:7], zigzag[6], *zigzag[7:]]  # 16 points, but a tie breaks the run
    assert flagged(broken, 4) == []


def test_5_two_of_three_beyond_two_sigma_on_one_side() -> None:
    assert flagged([0.0, 2.5, 0.3, 2.2, 0.0], 5) == [3]
    # The flagged point must itself be beyond the zone: index 2 completes nothing.
    assert flagged([0.0, 2.5, 2.4, 0.5, 0.0], 5) == [2]
    assert flagged([0.0, 2.5, -2.4, 0.5], 5) == []  # opposite sides
    assert flagged([0.0, 2.5, 0.1, 0.2, 2.6], 5) == []  # 2 of 4, not of 3


def test_6_four_of_five_beyond_one_sigma_on_one_side() -> None:
    assert flagged([0.0, 1.5, 1.2, 0.3, 1.8, 1.1, 0.0], 6) == [5]
    assert flagged([0.0, 1.5, 1.2, 0.3, -1.8, 1.1, 0.0], 6) == []
    assert flagged([0.0, 2.5, 0.3, 2.2, 0.0, 0.0, 0.0], 6) == []


def test_7_fifteen_points_within_one_sigma() -> None:
    hugging = [0.5, -0.5, 0.9, -0.9, 0.0] * 3 + [0.2]
    assert flagged(hugging, 7) == [14, 15]
    assert flagged([*hugging[:14], 1.5, *hugging[:5]], 7) == []
    assert flagged([1.0, -1.0] * 8, 7) == [14, 15]  # on the 1-sigma line counts as within


def test_8_eight_points_beyond_one_sigma_on_both_sides() -> None:
    wide = [1.5, -1.6, 1.7, -1.2, 1.3, -1.4, 1.8, -1.9, 1.5]
    assert flagged(wide, 8) == [7, 8]
    assert flagged([abs(v) for v in wide], 8) == []  # all on one side
    assert flagged([*wide[:4], 0.5, *wide[4:]], 8) == []


def test_parameters_are_configurable_per_test() -> None:
    series = [0.4] * 8
    assert flagged(series, 2) == []
    assert flagged(series, 2, k=8) == [7]
    assert flagged([0.0, 0.1, 0.2, 0.3, 0.4], 3, k=5) == [4]


def test_western_electric_preset_is_tests_1_5_6_and_2_with_eight() -> None:
    rules = RuleSet.preset("western-electric")
    assert dict(rules.params) == {1: 3.0, 2: 8, 5: 2, 6: 4}
    assert RuleSet.preset("none").params == {}
    assert RuleSet.preset("nelson", nsigmas=2.5).params[1] == 2.5


def test_zones_come_from_each_points_own_sigma() -> None:
    x = np.array([[0.0, 2.5, 2.5]])
    sigma = np.array([[1.0, 1.0, 2.0]])  # the last point's subgroup is smaller
    flags = evaluate(x, np.zeros((1, 3)), sigma, RuleSet.preset("nelson"))
    assert not flags[5][0, 2]
    same_sigma = evaluate(x, np.zeros((1, 3)), np.ones((1, 3)), RuleSet.preset("nelson"))
    assert same_sigma[5][0, 2]


def test_rows_are_independent_characteristics() -> None:
    x = np.array([[0.4] * 9, [-0.4] * 9, [0.4] * 8 + [-0.1]])
    flags = evaluate(x, np.zeros(3), np.ones(3), RuleSet.preset("nelson"))
    assert flags[2][:, 8].tolist() == [True, True, False]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({9: 3}, "there is no test 9"),
        ({2: 0}, "test 2 needs a whole K of at least 1"),
        ({3: 4.5}, "test 3 needs a whole K"),
    ],
)
def test_bad_parameters_are_refused(overrides: dict[int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RuleSet.preset("nelson", overrides=overrides)


def test_series_shorter_than_a_window_flags_nothing_and_does_not_crash() -> None:
    for test in range(1, 9):
        assert flagged([2.5, 2.6], test) == []
    assert flagged([2.5, 3.6], 1) == [1]
