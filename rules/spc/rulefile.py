"""The rule file engineers write per line: characteristics, their chart and tests."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.spc.tests import TESTS


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
