"""The tests for special causes by number, their presets and the smallest K each takes,
and a rule set (which tests, with which K): what a rule file names, without numpy, so
that reading and checking one loads no array code (the hub reads rule files for
Sparkplug's charts and must not load numpy without them). The tests themselves:
``rules/spc/tests.py``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TestSpec:
    number: int
    default_k: float
    description: str


TESTS: dict[int, TestSpec] = {
    spec.number: spec
    for spec in (
        TestSpec(1, 3, "1 point more than K sigma from the center line"),
        TestSpec(2, 9, "K points in a row on the same side of the center line"),
        TestSpec(3, 6, "K points in a row, all increasing or all decreasing"),
        TestSpec(4, 14, "K points in a row, alternating up and down"),
        TestSpec(5, 2, "K out of K+1 points more than 2 sigma from center (same side)"),
        TestSpec(6, 4, "K out of K+1 points more than 1 sigma from center (same side)"),
        TestSpec(7, 15, "K points in a row within 1 sigma of center (either side)"),
        TestSpec(8, 8, "K points in a row more than 1 sigma from center (either side)"),
    )
}

PRESETS: dict[str, dict[int, float]] = {
    "nelson": {number: spec.default_k for number, spec in TESTS.items()},
    "western-electric": {1: 3, 5: 2, 6: 4, 2: 8},
    "none": {},
}

# The smallest K each test can take: below it the pattern is meaningless.
MIN_K: dict[int, float] = {1: 0.0, 2: 1, 3: 2, 4: 3, 5: 1, 6: 1, 7: 1, 8: 1}


@dataclass(frozen=True)
class RuleSet:
    """The enabled tests and their K, e.g. ``{1: 3.0, 2: 9, ...}``."""

    params: Mapping[int, float] = field(default_factory=dict)

    @classmethod
    def preset(
        cls, name: str, *, nsigmas: float = 3.0, overrides: Mapping[int, float] | None = None
    ) -> RuleSet:
        """A named preset; test 1's K is ``nsigmas`` (the plotted limits) unless overridden."""
        if name not in PRESETS:
            raise ValueError(f"unknown rule set {name!r}; expected one of: {', '.join(PRESETS)}")
        params = dict(PRESETS[name])
        if 1 in params:
            params[1] = nsigmas
        for number, k in (overrides or {}).items():
            if number not in TESTS:
                raise ValueError(f"there is no test {number}; tests are numbered 1 to 8")
            if k < MIN_K[number] or (number != 1 and k != int(k)):
                raise ValueError(f"test {number} needs a whole K of at least {MIN_K[number]:g}")
            params[number] = k
        return cls(dict(sorted(params.items())))
