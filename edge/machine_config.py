"""The ``machines:`` section of an edge file: how a station's tags name its state, which
measurements count its parts, and which fault codes raise calls."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Literal

from pydantic import Field, model_validator

from contract.config.loading import Problem
from contract.config.models import Strict
from contract.wire import Name
from rules.machine_states import Comparison, MachineState, StateRule, TagValue

FaultResolve = Literal["cleared", "responder"]


class StateRuleConfig(Strict):
    """``{tag: fault_code, not: 0, state: down}``: one comparison, the state it names."""

    tag: Name
    is_: TagValue | None = Field(default=None, alias="is")
    not_: TagValue | None = Field(default=None, alias="not")
    above: float | None = None
    below: float | None = None
    state: MachineState

    @model_validator(mode="after")
    def _one_comparison(self) -> StateRuleConfig:
        given = [key for key in ("is_", "not_", "above", "below") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("a rule has exactly one of 'is', 'not', 'above' and 'below'")
        return self

    def rule(self) -> StateRule:
        for key, comparison in (("is_", "is"), ("not_", "not"), ("above", "above")):
            value = getattr(self, key)
            if value is not None:
                return StateRule(self.tag, _comparison(comparison), value, self.state)
        assert self.below is not None
        return StateRule(self.tag, "below", self.below, self.state)


def _comparison(name: str) -> Comparison:
    match name:
        case "is":
            return "is"
        case "not":
            return "not"
        case _:
            return "above"


class FaultCodeConfig(Strict):
    """What a fault code means: a reason code of the hub (``id``) and its names."""

    id: Name
    name: str = Field(min_length=1, max_length=128)
    names: dict[Name, str] = Field(default_factory=dict, max_length=16)


class FaultsConfig(Strict):
    """A machine's fault code tag: a code other than 0 raises a call of ``call_type``
    with the code's reason; with ``resolve: cleared`` the hub resolves it when the code
    returns to 0."""

    tag: Name
    call_type: Name
    codes: dict[int, FaultCodeConfig] = Field(default_factory=dict)
    unknown: FaultCodeConfig = FaultCodeConfig(id="fault-unknown", name="Fault {code}")
    resolve: FaultResolve = "cleared"

    def code(self, value: int) -> FaultCodeConfig:
        """The meaning of fault code ``value`` (``unknown``'s for a code not listed)."""
        return self.codes.get(value, self.unknown)


class MachineConfig(Strict):
    """One station's machine: its state rules, part counters and fault codes."""

    station: Name
    rules: list[StateRuleConfig] = Field(min_length=1, max_length=32)
    otherwise: MachineState = "idle"
    parts: Name | None = None
    rejects: Name | None = None
    ideal_cycle_s: float | None = Field(default=None, gt=0, le=86_400)
    faults: FaultsConfig | None = None

    @model_validator(mode="after")
    def _rejects_with_parts(self) -> MachineConfig:
        if self.rejects is not None and self.parts is None:
            raise ValueError("'rejects' counts some of the 'parts': give 'parts' too")
        return self

    def tags(self) -> set[str]:
        """Every tag the machine reads."""
        named = {rule.tag for rule in self.rules} | {self.parts, self.rejects}
        if self.faults is not None:
            named.add(self.faults.tag)
        return {tag for tag in named if tag is not None}


def machine_problems(
    machines: list[MachineConfig], measurements: Mapping[str, str], buttons: Collection[str]
) -> list[Problem]:
    """Tags that name no measurement (or button), counters that are not integers, a
    station with two machines. ``measurements``: name -> its value type."""
    problems: list[Problem] = []
    seen: set[str] = set()
    known = set(measurements) | set(buttons)
    for index, machine in enumerate(machines):
        if machine.station in seen:
            message = f"station {machine.station!r} already has a machine"
            problems.append((("machines", index, "station"), message))
        seen.add(machine.station)
        named: list[tuple[tuple[str | int, ...], str | None]] = [
            (("rules", i, "tag"), rule.tag) for i, rule in enumerate(machine.rules)
        ]
        named += [(("parts",), machine.parts), (("rejects",), machine.rejects)]
        if machine.faults is not None:
            named.append((("faults", "tag"), machine.faults.tag))
        for path, tag in named:
            if tag is not None and tag not in known:
                message = f"{tag!r} is not a measurement or button of this file"
                problems.append((("machines", index, *path), message))
        for key in ("parts", "rejects"):
            tag = getattr(machine, key)
            kind = measurements.get(tag) if tag is not None else None
            if kind is not None and kind not in INTEGER_TYPES:
                message = f"{tag!r} is a {kind}: a part counter is an integer measurement"
                problems.append((("machines", index, key), message))
    return problems


INTEGER_TYPES = frozenset({"int16", "uint16", "int32", "uint32", "int64", "uint64"})
