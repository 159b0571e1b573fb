"""Which Sparkplug B metrics each device of an edge has, with their datatypes.

A configured device is a Sparkplug device (its id is the device id). Its metrics:
measurements ``<station>/<measurement>``, call buttons ``<station>/call/<call_type>``
(Boolean: the button held), station lights ``<station>/light`` (String: the colour) and
machine states ``<station>/state`` (String) where a station has one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from contract.sparkplug.payloads import INTEGERS, DataType, Value
from edge.config import EdgeConfig, MeasurementConfig
from rules.registers import ValueType

DATATYPES: dict[ValueType, DataType] = {
    ValueType.FLOAT32: DataType.FLOAT,
    ValueType.FLOAT64: DataType.DOUBLE,
    ValueType.INT16: DataType.INT16,
    ValueType.UINT16: DataType.UINT16,
    ValueType.INT32: DataType.INT32,
    ValueType.UINT32: DataType.UINT32,
    ValueType.INT64: DataType.INT64,
    ValueType.UINT64: DataType.UINT64,
    ValueType.BOOL: DataType.BOOLEAN,
    ValueType.STRING: DataType.STRING,
}


@dataclass
class MetricPlan:
    """Per device, its metrics' names and datatypes (in birth order); and where the
    edge's own names lead (measurement -> device and metric, station -> light's device)."""

    devices: dict[str, dict[str, DataType]] = field(default_factory=dict)
    measurements: dict[str, tuple[str, str]] = field(default_factory=dict)
    lights: dict[str, str] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    # The call buttons' metrics (device, name): released (False) until seen held.
    calls: list[tuple[str, str]] = field(default_factory=list)

    def add(self, device: str, name: str, datatype: DataType) -> None:
        self.devices.setdefault(device, {}).setdefault(name, datatype)


def measurement_datatype(measurement: MeasurementConfig) -> DataType:
    """Its ``type``'s datatype; Double for a scaled integer (``scale``/``offset`` make a
    fraction) and for a variable read by address whose type the file does not give."""
    if isinstance(measurement.address, str) and "type" not in measurement.model_fields_set:
        return DataType.DOUBLE
    datatype = DATATYPES[measurement.type]
    scaled = measurement.scale != 1.0 or measurement.offset != 0.0
    if scaled and datatype in INTEGERS:
        return DataType.DOUBLE
    return datatype


def plan_metrics(config: EdgeConfig) -> MetricPlan:
    """The metrics of ``config``'s devices; a machine's ``<station>/state`` belongs to the
    device of the tag its first state rule reads."""
    plan = MetricPlan()
    for device in config.devices:
        plan.devices[device.id] = {}
    for measurement in config.measurements:
        name = f"{measurement.station}/{measurement.name}"
        plan.add(measurement.device, name, measurement_datatype(measurement))
        plan.measurements[measurement.name] = (measurement.device, name)
    for button in config.buttons:
        if button.sends == "call" and button.call_type is not None:
            name = call_metric(button.station, button.call_type)
            plan.add(button.device, name, DataType.BOOLEAN)
            plan.calls.append((button.device, name))
    for light in config.lights:
        plan.add(light.device, f"{light.station}/light", DataType.STRING)
        plan.lights[light.station] = light.device
    devices = {m.name: m.device for m in config.measurements}
    devices |= {b.name: b.device for b in config.buttons if b.name is not None}
    for machine in config.machines:
        where = devices.get(machine.rules[0].tag)
        if where is not None:
            plan.add(where, f"{machine.station}/state", DataType.STRING)
            plan.states[machine.station] = where
    return plan


def call_metric(station: str, call_type: str) -> str:
    return f"{station}/call/{call_type}"


def fitted(value: Value, datatype: DataType) -> Value:
    """``value`` as ``datatype`` carries it, or None (a null) when it cannot be."""
    if value is None:
        return None
    if datatype is DataType.STRING:
        return value if isinstance(value, str) else None
    if datatype is DataType.BOOLEAN:
        return bool(value) if isinstance(value, bool | int) else None
    if isinstance(value, str):
        return None
    if datatype in INTEGERS:
        bits, signed = INTEGERS[datatype]
        if isinstance(value, float) and not value.is_integer():
            return None
        number = int(value)
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2**bits)
        return number if low <= number < high else None
    number_f = float(value)
    return number_f if math.isfinite(number_f) else None
