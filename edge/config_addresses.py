"""Each tag's address checked against its device's own syntax, once the devices are known.

A Modbus device takes numbers with a ``table`` (and a ``bit`` of a register); an OPC UA
server takes NodeId strings, and the keys that only mean something on Modbus (``table``,
``bit``, ``byte_order``, ``length``) are errors there rather than silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from contract.config.loading import Problem
from drivers import ADDRESS_SYNTAX, SUBSCRIBED_KINDS, Address


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
    def measurements(self) -> Sequence[_Tag]: ...
    @property
    def lights(self) -> Sequence[_Light]: ...


MODBUS_ONLY_KEYS = ("table", "bit", "byte_order", "length")


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
            problems += _tag(kinds.get(measurement.device), measurement.address, where, measurement)
    for index, light in enumerate(config.lights):
        kind = kinds.get(light.device)
        problems += _outputs(kind, light, ("lights", index))
        if light.feedback is not None:
            problems += _outputs(kind, light.feedback, ("lights", index, "feedback"))
    return problems


def _tag(
    kind: str | None, address: Address, where: tuple[str | int, ...], tag: object
) -> list[Problem]:
    check = ADDRESS_SYNTAX.get(kind or "")
    if check is None:
        return []  # an unknown device, or one without addresses: reported on its own
    problem = check(address)
    if problem is not None:
        return [((*where, "address"), problem)]
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


def _outputs(kind: str | None, outputs: OutputMap, where: tuple[str | int, ...]) -> list[Problem]:
    check = ADDRESS_SYNTAX.get(kind or "")
    if check is None:
        return []
    if kind not in SUBSCRIBED_KINDS and not outputs.by_name:
        return []  # numbers checked against their table by the schema already
    return [
        ((*where, "outputs", name), problem)
        for name, address in outputs.outputs.items()
        if (problem := check(address)) is not None
    ]


def _given(tag: object) -> set[str]:
    fields: set[str] = getattr(tag, "model_fields_set", set())
    return fields
