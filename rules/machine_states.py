"""A machine's state from its tags' values: the first rule that holds names it.

Pure: values in, a state out. A rule compares one tag's decoded value (after scale and
offset) with ``is`` (equal), ``not`` (not equal), ``above`` or ``below``; ``True`` is 1
and ``False`` 0, so a 0/1 register and a coil read alike. The part counters a machine
reports are turned into parts by ``part_increment``: a counter that went down was reset
(what it reads now was counted since), or wrapped at its type's range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from contract.wire import MACHINE_STATES, MachineState
from rules.counters import counter_step

__all__ = ["MACHINE_STATES", "MachineState", "StateRule", "machine_state", "part_increment"]

Comparison = Literal["is", "not", "above", "below"]
TagValue = bool | int | float | str


@dataclass(frozen=True)
class StateRule:
    """``tag`` compared by ``comparison`` with ``value`` names ``state`` when it holds."""

    tag: str
    comparison: Comparison
    value: TagValue
    state: MachineState

    def holds(self, reading: TagValue) -> bool:
        if isinstance(reading, str) or isinstance(self.value, str):
            if self.comparison in ("above", "below"):
                return False
            equal = str(reading) == str(self.value)
            return equal if self.comparison == "is" else not equal
        left, right = float(reading), float(self.value)
        match self.comparison:
            case "is":
                return left == right
            case "not":
                return left != right
            case "above":
                return left > right
            case _:
                return left < right


def machine_state(
    rules: Sequence[StateRule], otherwise: MachineState, values: Mapping[str, TagValue]
) -> MachineState | None:
    """The state ``values`` name, or None while a tag a rule needs has not been read."""
    for rule in rules:
        reading = values.get(rule.tag)
        if reading is None:
            return None
        if rule.holds(reading):
            return rule.state
    return otherwise


def part_increment(last: int | None, value: int, wraps_at: int | None) -> int:
    """The parts a counter adds going from ``last`` to ``value`` (0 for a first reading).

    A decrease is a wrap when the counter wraps (``wraps_at``: its type's range) and fell
    from its upper half into its lower half, otherwise a reset: what it reads now was
    counted since. A count is never negative (rules/counters.py, as for quality counters)."""
    return counter_step(last, value, wraps_at)[0]
