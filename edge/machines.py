"""The edge's machines: their tags' latest values turned into state reports.

After each poll cycle the recorder hands the values it read to ``MachineWatch``; a
machine whose state, fault code or part counters changed since its last report gets a
new one (the first after a start is always sent: the hub takes a report of the state it
already knows as no change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contract.wire import MachineFault, MachinePayload, MeasuredValue
from edge.config import EdgeConfig
from edge.machine_config import INTEGER_TYPES, MachineConfig
from rules.machine_states import StateRule, machine_state

_BITS = {"int16": 16, "uint16": 16, "int32": 32, "uint32": 32, "int64": 64, "uint64": 64}
_MAX_COUNTER = 2**63 - 1


@dataclass(frozen=True)
class _Counter:
    tag: str
    bits: int | None  # None: a tag read by address whose type the device decides

    def reading(self, value: MeasuredValue | None) -> int | None:
        """The counter's reading as the wire carries it: signed types taken modulo their
        range (an int16 past 32767 reads on as 32768), None when unreadable."""
        if value is None or isinstance(value, str):
            return None
        number = int(value)
        if self.bits is not None:
            number %= 2**self.bits
        return number if 0 <= number <= _MAX_COUNTER else None

    @property
    def wraps_at(self) -> int | None:
        return 2**self.bits if self.bits is not None and self.bits < 64 else None


class _Machine:
    def __init__(self, config: MachineConfig, types: Mapping[str, str]) -> None:
        self.config = config
        self.rules: list[StateRule] = [rule.rule() for rule in config.rules]
        self.parts = _counter(config.parts, types)
        self.rejects = _counter(config.rejects, types)
        self.last: MachinePayload | None = None

    def report(self, values: Mapping[str, MeasuredValue]) -> MachinePayload | None:
        state = machine_state(self.rules, self.config.otherwise, values)
        if state is None:
            return None
        fault: MachineFault | None = None
        faults = self.config.faults
        code = values.get(faults.tag) if faults is not None else None
        if faults is not None and isinstance(code, int | float | bool) and int(code) != 0:
            meaning = faults.code(int(code))
            fault = MachineFault(
                code=int(code),
                reason=meaning.id,
                name=meaning.name.replace("{code}", str(int(code)))[:128],
                resolve=faults.resolve,
            )
        payload = MachinePayload(
            state=state,
            fault=fault,
            call_type=faults.call_type if fault is not None and faults is not None else None,
            parts=self.parts.reading(values.get(self.parts.tag)) if self.parts else None,
            rejects=self.rejects.reading(values.get(self.rejects.tag)) if self.rejects else None,
            wraps_at=self.parts.wraps_at if self.parts else None,
            ideal_cycle_s=self.config.ideal_cycle_s,
        )
        if payload == self.last:
            return None
        self.last = payload
        return payload


def _counter(tag: str | None, types: Mapping[str, str]) -> _Counter | None:
    if tag is None:
        return None
    kind = types.get(tag)
    return _Counter(tag, _BITS[kind] if kind in INTEGER_TYPES else None)


class MachineWatch:
    """Every machine of the edge file, each with the last report it sent."""

    def __init__(self) -> None:
        self._machines: list[_Machine] = []

    def configure(self, config: EdgeConfig) -> None:
        """Use ``config``'s machines; a machine whose entry is unchanged keeps its last
        report (a reload sends nothing new)."""
        before = {m.config.model_dump_json(): m for m in self._machines}
        # A tag read by address (OPC UA, S7) has the type its device gives it.
        types = {m.name: str(m.type) for m in config.measurements if not isinstance(m.address, str)}
        self._machines = [
            before.get(m.model_dump_json()) or _Machine(m, types) for m in config.machines
        ]

    @property
    def tags(self) -> set[str]:
        return {tag for machine in self._machines for tag in machine.config.tags()}

    def reports(self, values: Mapping[str, MeasuredValue]) -> list[tuple[str, MachinePayload]]:
        """(station, report) of each machine whose report changed with ``values``."""
        found = []
        for machine in self._machines:
            payload = machine.report(values)
            if payload is not None:
                found.append((machine.config.station, payload))
        return found
