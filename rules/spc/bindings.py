"""How measurements feed a characteristic of an SPC rule file: the bindings of an
edge's ``spc:`` section, and of the hub's ``sparkplug.spc:`` (the same keys).

A variables chart (``imr``, ``xbar-r``, ``xbar-s``) takes a ``measurement``, in subgroups
of ``subgroup_size`` consecutive readings, or one reading per part when ``part_done``
names a bool or counter measurement that rises or counts up as each part is finished.
An attribute chart (``p``, ``np``, ``c``, ``u``) takes two counters: ``defectives`` (or
defects) out of ``inspected``, one subgroup every ``per_parts`` parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from pydantic import Field

from contract.config.models import Strict
from contract.wire import Name
from rules.registers import ValueType
from rules.spc.rulefile import RuleFile

VARIABLES_CHARTS = ("imr", "xbar-r", "xbar-s")
ATTRIBUTE_CHARTS = ("p", "np", "c", "u")


class Measured(Protocol):
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

    def problems(self, measurements: Mapping[str, Measured]) -> list[tuple[str, str]]:
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


def mismatches(
    rules: RuleFile, bindings: Sequence[SpcBinding], file_name: str
) -> list[tuple[int, str]]:
    """(index, why) of each of ``bindings`` that does not fit its characteristic in the
    rule file ``rules`` (named ``file_name``)."""
    charts = {item.id: item.chart for item in rules.characteristics}
    found = []
    for index, binding in enumerate(bindings):
        message = _mismatch(binding, charts.get(binding.characteristic), file_name, list(charts))
        if message:
            found.append((index, message))
    return found


def _mismatch(binding: SpcBinding, chart: str | None, file_name: str, ids: list[str]) -> str:
    """Why ``binding`` does not fit its characteristic's ``chart`` (None: the rule file
    ``file_name``, whose ids are ``ids``, has no such characteristic); "" when it fits."""
    if chart is None:
        return f"no characteristic {binding.characteristic!r} in {file_name}; expected one of: " + (
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
