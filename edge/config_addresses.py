"""Each tag's address checked against its device's own syntax, once the devices are known.

A Modbus device takes numbers with a ``table`` (and a ``bit`` of a register); an OPC UA
server takes NodeId strings, an S7 PLC STEP 7 addresses (with a ``type`` that fits the
address's size, and a string's ``length``), a Logix controller tag names (the tag has its
own type); the keys that only mean something on Modbus (``table``, ``bit``,
``byte_order``, ``length``) are errors there rather than ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from contract.config.loading import Problem
from drivers import ADDRESS_SYNTAX, POLLED_TAG_KINDS, SUBSCRIBED_KINDS, Address
from drivers.s7_config import address_problem as s7_address_problem
from drivers.s7_config import parse_address, value_type
from drivers.s7_config import type_problem as s7_type_problem
from rules.registers import ValueType


# What is read of the edge's configuration (edge.config's models), named here so that
# the configuration may call this module without the two importing each other.
class _Device(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...


class _Tag(Protocol):
    @property
    def device(self) -> str: ...
    @property
    def address(self) -> Address | None: ...


class _Measurement(_Tag, Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> ValueType: ...
    @property
    def length(self) -> int | None: ...
    @property
    def model_fields_set(self) -> set[str]: ...


class OutputMap(Protocol):
    @property
    def outputs(self) -> Mapping[Any, Address]: ...  # keyed by the output's name
    @property
    def by_name(self) -> bool: ...


class _Light(OutputMap, Protocol):
    @property
    def device(self) -> str: ...
    @property
    def feedback(self) -> OutputMap | None: ...


class EdgeConfig(Protocol):
    @property
    def devices(self) -> Sequence[_Device]: ...
    @property
    def buttons(self) -> Sequence[_Tag]: ...
    @property
    def measurements(self) -> Sequence[_Measurement]: ...
    @property
    def lights(self) -> Sequence[_Light]: ...


MODBUS_ONLY_KEYS = ("table", "bit", "byte_order", "length")
S7_FOREIGN_KEYS = {
    "table": "Modbus devices",
    "bit": "Modbus registers",
    "byte_order": "Modbus devices",
    "sampling_interval_ms": "OPC UA servers",
}
LOGIX_FOREIGN_KEYS = {
    "table": "Modbus devices",
    "bit": "Modbus registers (a bit of a Logix integer is written Flags.5)",
    "byte_order": "Modbus devices",
    "length": "Modbus and S7 strings (a Logix STRING has its own)",
    "sampling_interval_ms": "OPC UA servers",
}
BYTE_NOT_A_BUTTON = "a button is a bit (X), a word or a double word (pressed: not 0), not a byte"
BYTE_NOT_AN_OUTPUT = "an output is a bit (X), a word or a double word, not a byte"


def address_problems(config: EdgeConfig) -> list[Problem]:
    """Every address of a button, measurement or light that its device cannot take."""
    kinds = {device.id: device.kind for device in config.devices}
    problems: list[Problem] = []
    for index, button in enumerate(config.buttons):
        if button.address is not None:
            where = ("buttons", index)
            problems += _tag(kinds.get(button.device), button.address, where, button)
    for index, measurement in enumerate(config.measurements):
        if measurement.address is not None:  # always, for a measurement
            where = ("measurements", index)
            problems += _tag(
                kinds.get(measurement.device), measurement.address, where, measurement, measurement
            )
    problems += _one_type_per_address(config, kinds)
    for index, light in enumerate(config.lights):
        kind = kinds.get(light.device)
        problems += _outputs(kind, light, ("lights", index))
        if light.feedback is not None:
            problems += _outputs(kind, light.feedback, ("lights", index, "feedback"))
    return problems


def _tag(
    kind: str | None,
    address: Address,
    where: tuple[str | int, ...],
    tag: object,
    measurement: _Measurement | None = None,
) -> list[Problem]:
    check = ADDRESS_SYNTAX.get(kind or "")
    if check is None:
        return []  # an unknown device, or one without addresses: reported on its own
    problem = check(address)
    if problem is not None:
        return [((*where, "address"), problem)]
    if kind == "logix":
        given = _given(tag)
        return [
            ((*where, key), f"'{key}' applies to {applies}, not to a Logix tag")
            for key, applies in LOGIX_FOREIGN_KEYS.items()
            if key in given
        ]
    if kind in POLLED_TAG_KINDS:
        assert isinstance(address, str)  # the kind's syntax said so
        return _s7_tag(address, where, tag, measurement)
    if kind not in SUBSCRIBED_KINDS:
        problems = []
        if "sampling_interval_ms" in _given(tag):
            message = "'sampling_interval_ms' applies to OPC UA devices; this one is polled"
            problems.append(((*where, "sampling_interval_ms"), message))
        return problems
    return [
        ((*where, key), f"'{key}' applies to Modbus devices; an OPC UA variable has its own")
        for key in MODBUS_ONLY_KEYS
        if key in _given(tag)
    ]


def _s7_tag(
    address: str, where: tuple[str | int, ...], tag: object, measurement: _Measurement | None
) -> list[Problem]:
    """The keys an S7 tag may not take, and whether its type fits its address."""
    given = _given(tag)
    problems: list[Problem] = [
        ((*where, key), f"'{key}' applies to {applies}; an S7 address says where the value is")
        for key, applies in S7_FOREIGN_KEYS.items()
        if key in given
    ]
    if measurement is None:  # a button: a bit, or a number not 0 if pressed
        if parse_address(address).size == "B":
            problems.append(((*where, "address"), BYTE_NOT_A_BUTTON))
        return problems
    value_type = measurement.type.value if "type" in given else None
    problem = s7_type_problem(address, value_type, measurement.length)
    if problem is not None:
        key = "length" if "length" in problem else "type" if value_type else "address"
        problems.append(((*where, key), problem))
    return problems


def _one_type_per_address(config: EdgeConfig, kinds: Mapping[str, str]) -> list[Problem]:
    """An S7 address read by two measurements is read as one type (the driver's)."""
    problems: list[Problem] = []
    first: dict[tuple[str, str], tuple[str, int | None, str]] = {}
    for index, m in enumerate(config.measurements):
        address = m.address
        if kinds.get(m.device) != "s7" or not isinstance(address, str):
            continue
        if s7_address_problem(address) is not None:
            continue  # reported with the address
        given = m.type.value if "type" in m.model_fields_set else None
        read_as = (value_type(parse_address(address), given), m.length)
        kind, length, name = first.setdefault((m.device, address), (*read_as, m.name))
        if (kind, length) != read_as:
            message = f"{address} is read as {kind} by measurement {name!r}: one address, one type"
            problems.append((("measurements", index, "type"), message))
    return problems


def _outputs(kind: str | None, outputs: OutputMap, where: tuple[str | int, ...]) -> list[Problem]:
    check = ADDRESS_SYNTAX.get(kind or "")
    if check is None:
        return []
    if kind not in SUBSCRIBED_KINDS and not outputs.by_name:
        return []  # numbers checked against their table by the schema already
    problems = [
        ((*where, "outputs", name), problem)
        for name, address in outputs.outputs.items()
        if (problem := check(address)) is not None
    ]
    if kind == "s7" and not problems:
        problems += [
            ((*where, "outputs", name), BYTE_NOT_AN_OUTPUT)
            for name, address in outputs.outputs.items()
            if parse_address(str(address)).size == "B"
        ]
    return problems


def _given(tag: object) -> set[str]:
    fields: set[str] = getattr(tag, "model_fields_set", set())
    return fields
