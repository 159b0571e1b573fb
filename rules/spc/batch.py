"""Individuals (I-MR) charts for many characteristics at once: phase I limits from each
row's mean and mean moving range, and the tests for special causes, in one pass over
cache-sized blocks of characteristics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rules.spc.constants import d2
from rules.spc.rule_sets import RuleSet
from rules.spc.tests import _empty_flags, _row_blocks, evaluate_block

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class IndividualsBatch:
    center: Floats
    sigma: Floats
    flags: dict[int, NDArray[np.bool_]]


def individuals_batch(x: Floats, rules: RuleSet) -> IndividualsBatch:
    """``x`` is (characteristics, points); every row is its own phase I."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    m, points = x.shape
    if points < 2:
        raise ValueError("an individuals chart needs at least 2 points per characteristic")
    center = np.empty(m)
    sigma = np.empty(m)
    flags = _empty_flags(x.shape, rules)
    d2_2 = d2(2)
    for rows in _row_blocks(x.shape):
        block = np.ascontiguousarray(x[rows].T)
        steps = block[1:] - block[:-1]
        c = block.mean(axis=0, keepdims=True)
        s = np.abs(steps).mean(axis=0, keepdims=True) / d2_2
        center[rows], sigma[rows] = c[0], s[0]
        for number, block_flags in evaluate_block(block, c, s, rules, steps=steps).items():
            flags[number][rows] = block_flags.T
    return IndividualsBatch(center, sigma, flags)
