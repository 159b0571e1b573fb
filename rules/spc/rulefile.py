"""The rule file engineers write per line: characteristics, their chart and tests.

The schema takes each key alone; ``RuleFile.problems()`` then refuses the combinations
that the backtest or the edge would refuse when they run (an ``lsl`` above its ``usl``,
a sigma method the chart has no estimator for, a test's K it cannot count), each at its
key, so ``andon check-config`` reports them with their line before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.spc.rule_sets import MIN_K, TESTS

VARIABLES_CHARTS = ("imr", "xbar-r", "xbar-s")

# The sigma estimators each variables chart has (rules.spc.subgroups' INDIVIDUAL_ and
# SUBGROUP_ESTIMATORS, which a test keeps in step: importing them here would load scipy
# on every edge, which one whose limits are all known never needs).
SIGMA_METHODS: dict[str, tuple[str, ...]] = {
    "imr": ("mr", "sd"),
    "xbar-r": ("uwave-r", "mvlue-r", "uwave-sd", "mvlue-sd", "rmsdf", "sd"),
    "xbar-s": ("uwave-r", "mvlue-r", "uwave-sd", "mvlue-sd", "rmsdf", "sd"),
}

# "an imr chart", "a p chart": charts named as they are spoken (I-MR, X-bar, en-p).
_ARTICLE = {"imr": "an", "xbar-r": "an", "xbar-s": "an", "np": "an"}

KeyProblem = tuple[str, str]
"""A key of one characteristic and what is wrong with its value."""


class Characteristic(BaseModel):
    """One measured characteristic and how it is charted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    chart: Literal["imr", "xbar-r", "xbar-s", "p", "np", "c", "u"]
    rules: Literal["nelson", "western-electric", "none"] = "nelson"
    tests: dict[int, float] = Field(default_factory=dict, description="K per test number")
    nsigmas: float = Field(default=3.0, gt=0)
    phase1: int | None = Field(default=None, ge=1)
    sigma_method: (
        Literal["uwave-r", "mvlue-r", "uwave-sd", "mvlue-sd", "rmsdf", "mr", "sd"] | None
    ) = None
    center: float | None = None
    sigma: float | None = Field(default=None, gt=0)
    lsl: float | None = None
    usl: float | None = None
    target: float | None = None

    @model_validator(mode="after")
    def _known_tests(self) -> Characteristic:
        unknown = sorted(set(self.tests) - set(TESTS))
        if unknown:
            raise ValueError(f"no test {unknown[0]}; tests are numbered 1 to 8")
        return self

    @property
    def is_attribute(self) -> bool:
        return self.chart not in VARIABLES_CHARTS

    @property
    def a_chart(self) -> str:
        """The chart as a sentence names it: "an imr chart", "a p chart"."""
        return f"{_ARTICLE.get(self.chart, 'a')} {self.chart} chart"

    def problems(self) -> list[KeyProblem]:
        """(key, message) for every combination of keys the charts cannot run with."""
        return [problem for check in CHECKS for problem in check(self)]


def _specifications(item: Characteristic) -> list[KeyProblem]:
    if item.is_attribute:
        return [
            (key, f"capability keys (lsl, usl, target) apply to variables charts, not to "
                  f"{item.a_chart}; got {value:g}")
            for key, value in (("lsl", item.lsl), ("usl", item.usl), ("target", item.target))
            if value is not None
        ]  # fmt: skip
    if item.lsl is not None and item.usl is not None and not item.lsl < item.usl:
        return [("usl", f"expected above lsl ({item.lsl:g}); got {item.usl:g}")]
    return []


def _sigma(item: Characteristic) -> list[KeyProblem]:
    found: list[KeyProblem] = []
    if item.is_attribute and item.sigma is not None:
        message = f"{item.a_chart}'s sigma follows from its center: give 'center' only"
        found.append(("sigma", f"{message}; got {item.sigma:g}"))
    methods = SIGMA_METHODS.get(item.chart, ())
    if item.sigma_method is not None and item.sigma_method not in methods:
        expected = f"one of: {', '.join(methods)}" if methods else "no sigma_method"
        found.append(
            ("sigma_method", f"{item.a_chart} takes {expected}; got {item.sigma_method!r}")
        )
    if item.chart == "imr" and item.sigma is None and item.phase1 == 1:
        message = "an imr chart estimates sigma from 2 or more phase I points (or give 'sigma')"
        found.append(("phase1", f"{message}; got 1"))
    return found


def _center(item: Characteristic) -> list[KeyProblem]:
    """An attribute chart's known center is a rate whose limits must exist: a p or np
    chart's below 1 (a defective share), every one's above 0."""
    if item.center is None or not item.is_attribute:
        return []
    if item.chart in ("p", "np") and not 0 < item.center < 1:
        share = f"{item.a_chart}'s center is the share of defective parts"
        return [("center", f"{share}, above 0 and below 1; got {item.center:g}")]
    if item.center <= 0:
        rate = f"{item.a_chart}'s center is the defects per unit"
        return [("center", f"{rate}, above 0; got {item.center:g}")]
    return []


def _test_ks(item: Characteristic) -> list[KeyProblem]:
    return [
        ("tests", f"test {number} needs a whole K of at least {MIN_K[number]:g}; got {k:g}")
        for number, k in sorted(item.tests.items())
        if number in MIN_K and (k < MIN_K[number] or (number != 1 and k != int(k)))
    ]


CHECKS: tuple[Callable[[Characteristic], list[KeyProblem]], ...] = (
    _specifications,
    _sigma,
    _center,
    _test_ks,
)


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    characteristics: list[Characteristic] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        seen: set[str] = set()
        for item in self.characteristics:
            if item.id in seen:
                raise ValueError(f"duplicate characteristic id {item.id!r}")
            seen.add(item.id)
        return self

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Mistakes the schema cannot see, each at its key: what the charts would refuse."""
        return [
            (("characteristics", index, key), message)
            for index, item in enumerate(self.characteristics)
            for key, message in item.problems()
        ]

    @classmethod
    def problems_of_parts(cls, data: Any) -> list[tuple[tuple[str | int, ...], str]]:
        """``problems()`` of the characteristics that are valid on their own, in a file
        whose schema failed elsewhere: every error is reported at once."""
        items = data.get("characteristics") if isinstance(data, dict) else None
        found: list[tuple[tuple[str | int, ...], str]] = []
        for index, raw in enumerate(items if isinstance(items, list) else []):
            try:
                item = Characteristic.model_validate(raw)
            except ValidationError:
                continue  # the schema's errors say what is wrong with it
            found += [(("characteristics", index, key), text) for key, text in item.problems()]
        return found
