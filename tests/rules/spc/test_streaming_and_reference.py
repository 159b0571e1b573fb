"""Streaming equals batch, and batch equals the straightforward per-point definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.reference_tests import reference_flags
from rules.spc.rule_sets import TESTS, RuleSet
from rules.spc.streaming import StreamingTests
from rules.spc.tests import evaluate

# Values on a coarse grid make ties, points on the center line and on zone edges common.
GRID = [round(v * 0.5, 1) for v in range(-8, 9)]


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    overrides = {}
    for number in TESTS:
        if draw(st.booleans()):
            overrides[number] = float(draw(st.integers(min_value=3, max_value=16)))
    return RuleSet.preset(
        draw(st.sampled_from(["nelson", "western-electric"])), overrides=overrides
    )


series_matrix = st.integers(min_value=1, max_value=4).flatmap(
    lambda rows: st.lists(
        st.lists(st.sampled_from([*GRID, float("nan")]), min_size=rows, max_size=rows),
        min_size=1,
        max_size=60,
    )
)


@settings(max_examples=150, deadline=None)
@given(columns=series_matrix, rules=rule_sets(), varying=st.booleans())
def test_streaming_gives_exactly_the_batch_flags(
    columns: list[list[float]], rules: RuleSet, varying: bool
) -> None:
    x = np.array(columns).T  # (characteristics, points)
    m, points = x.shape
    center = np.linspace(-0.5, 0.5, m)
    sigma = np.full((m, points), 1.0)
    if varying:
        sigma[:, ::3] = 1.5  # as if every third subgroup were smaller
    batch = evaluate(x, np.repeat(center[:, None], points, axis=1), sigma, rules)
    stream = StreamingTests(center=center, sigma=np.ones(m), rules=rules)
    for t in range(points):
        flags = stream.update(x[:, t], sigma=sigma[:, t])
        for number in rules.params:
            assert np.array_equal(flags[number], batch[number][:, t]), (number, t)


@settings(max_examples=100, deadline=None)
@given(series=st.lists(st.sampled_from(GRID), min_size=1, max_size=80), rules=rule_sets())
def test_batch_agrees_with_the_per_point_definitions(series: list[float], rules: RuleSet) -> None:
    batch = evaluate(np.array([series]), np.zeros(1), np.ones(1), rules)
    reference = reference_flags(series, 0.0, 1.0, rules.params)
    for number in rules.params:
        assert batch[number][0].tolist() == reference[number], number


def test_large_batch_agrees_with_the_definitions_across_block_boundaries() -> None:
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(size=(700, 400)), 1)  # several cache blocks of characteristics
    rules = RuleSet.preset("nelson")
    batch = evaluate(x, np.zeros(700), np.ones(700), rules)
    for row in (0, 299, 300, 655, 699):
        reference = reference_flags(x[row].tolist(), 0.0, 1.0, rules.params)
        for number in rules.params:
            assert batch[number][row].tolist() == reference[number]
