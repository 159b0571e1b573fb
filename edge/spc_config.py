"""The ``spc:`` section of an edge file: characteristics of a rule file bound to measurements.

A variables chart (``imr``, ``xbar-r``, ``xbar-s``) takes a ``measurement``, in subgroups
of ``subgroup_size`` consecutive readings, or one reading per part when ``part_done``
names a bool or counter measurement that rises or counts up as each part is finished.
An attribute chart (``p``, ``np``, ``c``, ``u``) takes two counters: ``defectives`` (or
defects) out of ``inspected``, one subgroup every ``per_parts`` parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from pydantic import Field, PrivateAttr

from contract.config.loading import ConfigInvalid, ConfigIssue, Problem, issue_at, load_model
from contract.config.models import Strict
from contract.config.yaml_source import YamlDocument
from contract.wire import Name
from rules.registers import ValueType
from rules.spc.rulefile import RuleFile

VARIABLES_CHARTS = ("imr", "xbar-r", "xbar-s")
ATTRIBUTE_CHARTS = ("p", "np", "c", "u")


class _Measured(Protocol):
    @property
    def type(self) -> ValueType: ...


class SpcBinding(Strict):
    """One characteristic of the rule file and the measurements that feed it."""

    characteristic: str = Field(min_length=1, max_length=64)
    measurement: Name | None = None
    subgroup_size: int = Field(default=1, ge=1, le=25)
    part_done: Name | None = None
    defectives: Name | None = None
    inspected: Name | None = None
    per_parts: int | None = Field(default=None, ge=1, le=100_000)

    def problems(self, measurements: Mapping[str, _Measured]) -> list[tuple[str, str]]:
        """(key, message) for each measurement this binding names that is not there."""
        found = []
        for key in ("measurement", "part_done", "defectives", "inspected"):
            name = getattr(self, key)
            if name is None:
                continue
            if name not in measurements:
                found.append((key, f"unknown measurement {name!r}"))
            elif key != "part_done" and measurements[name].type is ValueType.STRING:
                found.append((key, f"measurement {name!r} is a string, not a number"))
        return found


class SpcConfig(Strict):
    """An SPC rule file (relative to the edge file) and which measurements feed it."""

    rule_file: Path
    characteristics: list[SpcBinding] = Field(min_length=1)
    # The rule file as it was read when this section was checked. The agent charts with
    # that very reading, never a second one (an editor half-way through a save would
    # hand it a file nobody checked); and two sections compare unequal when their rule
    # files' contents differ, so a reload of a changed rule file starts new charts.
    _rules: RuleFile | None = PrivateAttr(default=None)

    def with_rules(self, rules: RuleFile) -> SpcConfig:
        """This section with its rule file as read and checked."""
        copy = self.model_copy()
        copy._rules = rules
        return copy

    def problems(self, measurements: Mapping[str, _Measured]) -> list[Problem]:
        return [
            (("spc", "characteristics", index, key), message)
            for index, binding in enumerate(self.characteristics)
            for key, message in binding.problems(measurements)
        ]

    def resolved(self, config_path: Path) -> SpcConfig:
        """This section with ``rule_file`` made absolute, relative to the edge file."""
        return self.model_copy(update={"rule_file": config_path.parent / self.rule_file})


def check_rule_file(doc: YamlDocument, spc: SpcConfig) -> tuple[RuleFile | None, list[ConfigIssue]]:
    """The rule file (None if it has errors) and the errors of the rule file itself and
    of bindings that do not fit its charts."""
    try:
        rules = load_model(spc.rule_file, RuleFile)
    except ConfigInvalid as exc:
        return None, sorted(exc.issues, key=lambda issue: issue.line)
    charts = {item.id: item.chart for item in rules.characteristics}
    issues = []
    for index, binding in enumerate(spc.characteristics):
        where = ("spc", "characteristics", index)
        chart = charts.get(binding.characteristic)
        message = _mismatch(binding, chart, spc.rule_file, list(charts))
        if message:
            issues.append(issue_at(doc, (*where, "characteristic"), message))
    return rules, issues


def _mismatch(binding: SpcBinding, chart: str | None, path: Path, ids: list[str]) -> str:
    if chart is None:
        return f"no characteristic {binding.characteristic!r} in {path.name}; expected one of: " + (
            ", ".join(ids)
        )
    if chart in VARIABLES_CHARTS:
        if binding.measurement is None:
            return f"chart {chart} needs 'measurement'"
        if binding.defectives or binding.inspected or binding.per_parts:
            return f"chart {chart} takes 'measurement', not counters"
        if chart != "imr" and binding.subgroup_size < 2:
            return f"chart {chart} needs 'subgroup_size' of 2 or more"
        if chart == "imr" and binding.subgroup_size != 1:
            return "an imr chart charts single values: 'subgroup_size' must be 1"
        return ""
    if binding.defectives is None or binding.per_parts is None:
        return f"chart {chart} needs 'defectives' and 'per_parts'"
    if binding.inspected is None:
        return f"chart {chart} needs 'inspected' (a counter of parts)"
    if binding.measurement is not None or binding.part_done is not None:
        return f"chart {chart} takes counters, not 'measurement' or 'part_done'"
    return ""


def load_rule_file(spc: SpcConfig) -> RuleFile:
    """The rule file of a checked configuration: as it was read when it was checked, or
    read now if this section was made without a check."""
    return spc._rules if spc._rules is not None else load_model(spc.rule_file, RuleFile)
