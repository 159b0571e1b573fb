"""The ``spc:`` section of an edge file: characteristics of a rule file bound to measurements
(the bindings, ``rules/spc/bindings.py``, are the hub's ``sparkplug.spc`` ones too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, PrivateAttr

from contract.config.loading import ConfigInvalid, ConfigIssue, Problem, issue_at, load_model
from contract.config.models import Strict
from contract.config.yaml_source import YamlDocument
from rules.spc.bindings import Measured, SpcBinding, mismatches
from rules.spc.rulefile import RuleFile


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

    def problems(self, measurements: Mapping[str, Measured]) -> list[Problem]:
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
    issues = [
        issue_at(doc, ("spc", "characteristics", index, "characteristic"), message)
        for index, message in mismatches(rules, spc.characteristics, spc.rule_file.name)
    ]
    return rules, issues


def load_rule_file(spc: SpcConfig) -> RuleFile:
    """The rule file of a checked configuration: as it was read when it was checked, or
    read now if this section was made without a check."""
    return spc._rules if spc._rules is not None else load_model(spc.rule_file, RuleFile)
