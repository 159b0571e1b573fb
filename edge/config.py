"""The edge agent's configuration file, as pydantic models."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from contract.config.loading import (
    ConfigInvalid,
    ConfigIssue,
    Problem,
    duplicates,
    read_document,
    validate_document,
)
from contract.config.models import BrokerConfig, Strict
from contract.config.yaml_source import YamlDocument
from contract.wire import Name
from drivers import ADDRESS_SYNTAX, Address, DeviceConfig, ModbusRtuConfig, OpcUaConfig, Table
from edge.config_addresses import address_problems
from edge.machine_config import MachineConfig, machine_problems
from edge.sparkplug_config import SparkplugConfig
from edge.spc_config import SpcConfig, check_rule_file
from rules.registers import ByteOrder, ValueType, register_count

# The registers one Modbus read can return: the longest string a measurement can be.
MODBUS_MAX_STRING = 123


class LongPressConfig(Strict):
    """Holding the button ``hold_s`` seconds raises ``call_type`` instead (say, line-down)."""

    hold_s: float = Field(gt=0, le=30)
    call_type: Name


class ButtonConfig(Strict):
    """One station button: a bit at an ``address`` of a Modbus device, or a ``button`` of
    a serial button station (as its frames name it). It raises ``call_type``
    (``sends: call``) or confirms a responder's arrival (``sends: arrival``; with a
    ``call_type``, at that type's call only)."""

    device: Name
    # Optional: the name a machine's state rules read the button's level by (1 pressed).
    name: Name | None = None
    table: Table = Table.COIL
    # A number on a Modbus device, a NodeId on an OPC UA server: checked against the
    # device's own syntax once the devices are known (``edge.config_addresses``).
    address: Address | None = None
    bit: int | None = Field(default=None, ge=0, le=15, description="bit of a register")
    sampling_interval_ms: float | None = Field(
        default=None, ge=0, le=60_000, description="OPC UA: how often the server samples it"
    )
    button: Name | None = Field(default=None, description="button id of a serial station")
    station: Name
    sends: Literal["call", "arrival"] = "call"
    call_type: Name | None = None
    long_press: LongPressConfig | None = None

    @model_validator(mode="after")
    def _bit_only_on_registers(self) -> ButtonConfig:
        if self.sends == "call" and self.call_type is None:
            raise ValueError("a call button needs its 'call_type'")
        if self.long_press is not None and (self.sends != "call" or self.button is not None):
            raise ValueError("'long_press' applies to call buttons on a device read by address")
        if (self.address is None) == (self.button is None):
            raise ValueError("a button has an 'address' (Modbus) or a 'button' (serial station)")
        if self.button is not None:
            if self.bit is not None:
                raise ValueError("'bit' applies to Modbus registers, not to a serial station")
            return self
        if isinstance(self.address, str):
            return self  # a device's own syntax: ``edge.config_addresses``
        is_register = self.table in (Table.HOLDING_REGISTER, Table.INPUT_REGISTER)
        if is_register and self.bit is None:
            raise ValueError(f"a button on a {self.table} needs 'bit' (0-15)")
        if not is_register and self.bit is not None:
            raise ValueError(f"'bit' applies to registers only, not to a {self.table}")
        return self


class MeasurementConfig(Strict):
    """One value in a device's registers (or one bit), decoded and scaled.

    ``value = raw * scale + offset``; read every ``every_s`` seconds (default: the poll
    interval); with ``deadband`` set, published only when it moved more than that."""

    name: Name
    device: Name
    table: Table = Table.HOLDING_REGISTER
    address: Address
    type: ValueType = ValueType.UINT16
    byte_order: ByteOrder = ByteOrder.ABCD
    # Registers of a Modbus string (at most 123), a declared STRING[length] on S7 (254).
    length: int | None = Field(default=None, ge=1, le=254, description="string's length")
    scale: float = 1.0
    offset: float = 0.0
    unit: str | None = Field(default=None, max_length=32)
    station: Name
    every_s: float | None = Field(default=None, gt=0, le=3600)
    deadband: float | None = Field(default=None, ge=0)
    sampling_interval_ms: float | None = Field(
        default=None, ge=0, le=60_000, description="OPC UA: how often the server samples it"
    )

    @model_validator(mode="after")
    def _type_fits_table(self) -> MeasurementConfig:
        if isinstance(self.address, str):
            return self  # a variable's type is its DataType: ``edge.config_addresses``
        if self.table.is_bits and self.type is not ValueType.BOOL:
            raise ValueError(f"a {self.table} holds one bit: its type is bool, not {self.type}")
        if (self.type is ValueType.STRING) != (self.length is not None):
            raise ValueError("'length' (in registers) goes with type string, and only with it")
        if self.length is not None and self.length > MODBUS_MAX_STRING:
            raise ValueError(f"a string is at most {MODBUS_MAX_STRING} registers long")
        return self

    @property
    def width(self) -> int:
        """How many addresses of its table the value occupies (Modbus)."""
        if self.table.is_bits or isinstance(self.address, str):
            return 1
        return register_count(self.type, self.length)


class StationConfig(Strict):
    """Where a station's current part serial and lot come from: a string measurement, or
    a scanner bound to the station (a scanner not named here sets the serial); and the
    scanner whose scans are responders' badges (each marks the responder arrived)."""

    id: Name
    serial: Name | None = Field(default=None, description="measurement or scanner: serial")
    lot: Name | None = Field(default=None, description="measurement or scanner: lot")
    badge: Name | None = Field(default=None, description="scanner: responders' badges")


class OutboxConfig(Strict):
    path: Path = Path("var/edge-outbox.sqlite3")
    max_measurements: int = Field(
        default=10_000, ge=1, description="measurement messages kept while the broker is away"
    )
    max_measurements_mb: float = Field(
        default=100.0, gt=0, description="disk the waiting measurement messages may take"
    )
    window: int = Field(
        default=1000, ge=1, le=100_000, description="events sent and not yet confirmed"
    )
    confirm_timeout_s: float = Field(
        default=30.0, gt=0, description="an event not confirmed by then is sent again"
    )


class ChatterConfig(Strict):
    """More than ``max_presses`` presses in ``window_s`` on one station: reported once."""

    max_presses: int = Field(default=10, ge=1)
    window_s: float = Field(default=60.0, gt=0)


LightOutput = Literal["red", "amber", "blue", "green", "flashing", "buzzer", "line_stop"]


class OutputMap(Strict):
    """Where a station's light outputs are: a coil (or input) address per output, or one
    register (``address``) and a bit of it per output, or (OPC UA) a NodeId per output.
    Outputs left out are not driven."""

    table: Table = Table.COIL
    address: int | None = Field(default=None, ge=0, le=65535, description="the register")
    outputs: dict[LightOutput, Address] = Field(min_length=1)

    @property
    def by_name(self) -> bool:
        """Whether the outputs are named by address strings (NodeIds), not numbers."""
        return any(isinstance(where, str) for where in self.outputs.values())

    @model_validator(mode="after")
    def _addresses_fit_table(self) -> OutputMap:
        if self.by_name:
            if {"table", "address"} & self.model_fields_set:
                raise ValueError("outputs named by NodeId take no 'table' and no 'address'")
            return self  # each against its device's syntax: ``edge.config_addresses``
        if self.table.is_bits:
            if self.address is not None:
                raise ValueError(f"on {self.table}s each output has its own address: no 'address'")
            if any(not 0 <= int(a) <= 65535 for a in self.outputs.values()):
                raise ValueError("an output's address is 0 to 65535")
        else:
            if self.address is None:
                raise ValueError(f"outputs in a {self.table} need its 'address'")
            if any(not 0 <= int(bit) <= 15 for bit in self.outputs.values()):
                raise ValueError("an output in a register is a bit, 0 to 15")
        return self


class LightConfig(OutputMap):
    """A station's tower light (and line-stop output) on a Modbus device: written from
    the hub's light commands (or by the edge itself while the hub is unreachable), then
    read back, from ``feedback`` when the lamps report their state on inputs of their own."""

    station: Name
    device: Name
    feedback: OutputMap | None = None

    @model_validator(mode="after")
    def _writable(self) -> LightConfig:
        if self.table not in (Table.COIL, Table.HOLDING_REGISTER):
            raise ValueError(f"a light is written to coils or a holding register, not {self.table}")
        if self.feedback is not None and set(self.feedback.outputs) != set(self.outputs):
            raise ValueError("'feedback' names the same outputs as the light")
        return self


class EdgeConfig(Strict):
    """One edge agent per line."""

    edge_id: Name
    site: Name
    area: Name
    line: Name
    broker: BrokerConfig = BrokerConfig()
    outbox: OutboxConfig = OutboxConfig()
    poll_interval_s: float = Field(default=0.05, gt=0, le=10)
    debounce_s: float = Field(default=0.03, ge=0, le=5)
    devices: list[DeviceConfig] = Field(min_length=1)
    buttons: list[ButtonConfig] = Field(default_factory=list)
    measurements: list[MeasurementConfig] = Field(default_factory=list)
    stations: list[StationConfig] = Field(default_factory=list)
    lights: list[LightConfig] = Field(default_factory=list)
    chatter: ChatterConfig = ChatterConfig()
    spc: SpcConfig | None = None
    sparkplug: SparkplugConfig | None = None
    machines: list[MachineConfig] = Field(default_factory=list)

    def problems(self) -> list[Problem]:
        """Mistakes the schema cannot see: repeated ids, unknown devices, shared inputs."""
        device_ids = [device.id for device in self.devices]
        problems: list[Problem] = [
            (("devices", i, "id"), f"duplicate device id {device_ids[i]!r}")
            for i in duplicates(device_ids)
        ]
        problems += _unknown_devices("buttons", [b.device for b in self.buttons], device_ids)
        used = [m.device for m in self.measurements]
        problems += _unknown_devices("measurements", used, device_ids)
        problems += _unknown_devices("lights", [li.device for li in self.lights], device_ids)
        stations = [light.station for light in self.lights]
        problems += [
            (("lights", i, "station"), f"station {stations[i]!r} already has a light")
            for i in duplicates(stations)
        ]
        problems += self._device_kinds()
        problems += address_problems(self)
        inputs = [
            f"{b.device} {b.station} button {b.button}"
            if b.button is not None
            else f"{b.device} {b.address}"
            if isinstance(b.address, str)
            else f"{b.device} {b.table} {b.address} bit {b.bit}"
            for b in self.buttons
        ]
        problems += [
            (("buttons", i), f"input already used by another button: {inputs[i]}")
            for i in duplicates(inputs)
        ]
        names = [m.name for m in self.measurements]
        problems += [
            (("measurements", i, "name"), f"duplicate measurement name {names[i]!r}")
            for i in duplicates(names)
        ]
        problems += self._serial_lines()
        problems += self._station_sources(set(names))
        if self.spc is not None:
            problems += self.spc.problems({m.name: m for m in self.measurements})
        named = [(i, b.name) for i, b in enumerate(self.buttons) if b.name is not None]
        buttons = [name for _, name in named]
        problems += [
            (
                ("buttons", named[i - len(names)][0], "name"),
                f"{buttons[i - len(names)]!r} already names a measurement or button",
            )
            for i in duplicates([*names, *buttons])
            if i >= len(names)
        ]
        kinds = {m.name: str(m.type) for m in self.measurements}
        problems += machine_problems(self.machines, kinds, buttons)
        return problems

    def _serial_lines(self) -> list[Problem]:
        """Units on one serial port must agree on its settings."""
        settings: dict[str, tuple[int, str, int, int]] = {}
        problems: list[Problem] = []
        for index, device in enumerate(self.devices):
            if not isinstance(device, ModbusRtuConfig):
                continue
            first = settings.setdefault(device.port, device.line_settings())
            if first != device.line_settings():
                problems.append(
                    (
                        ("devices", index),
                        f"{device.port} is already used with other settings "
                        "(baudrate, parity, bytesize, stopbits): one port, one setting",
                    )
                )
        return problems

    def _device_kinds(self) -> list[Problem]:
        """Polled inputs on Modbus devices, serial buttons on serial button stations."""
        kinds = {device.id: device.kind for device in self.devices}
        problems: list[Problem] = []
        for index, button in enumerate(self.buttons):
            kind = kinds.get(button.device)
            if kind is None:
                continue
            if button.button is not None and kind != "serial_button_station":
                message = f"{button.device} is a {kind}: a 'button' needs a serial_button_station"
                problems.append((("buttons", index, "button"), message))
            elif button.address is not None and kind not in ADDRESS_SYNTAX:
                message = f"{button.device} is a {kind}, not polled: give its 'button' instead"
                problems.append((("buttons", index, "address"), message))
        polled = [("measurements", m.device) for m in self.measurements]
        polled += [("lights", light.device) for light in self.lights]
        counters: dict[str, int] = {}
        for section, device in polled:
            index = counters[section] = counters.get(section, -1) + 1
            kind = kinds.get(device)
            if kind is not None and kind not in ADDRESS_SYNTAX:
                needed = "a Modbus, OPC UA, S7 or Logix device"
                message = f"{device} is a {kind}: {section} need {needed}"
                problems.append(((section, index, "device"), message))
        return problems

    def _station_sources(self, names: set[str]) -> list[Problem]:
        """A station's serial and lot come from a string measurement or a scanner there."""
        problems: list[Problem] = []
        for index, station in enumerate(self.stations):
            scanners = {
                d.id for d in self.devices if d.kind == "serial_scanner" and d.station == station.id
            }
            if station.badge is not None and station.badge not in scanners:
                problems.append(
                    (
                        ("stations", index, "badge"),
                        f"{station.badge!r} is not a scanner of station {station.id}",
                    )
                )
            for key in ("serial", "lot"):
                source = getattr(station, key)
                if source is not None and source not in names | scanners:
                    problems.append(
                        (
                            ("stations", index, key),
                            f"{source!r} is neither a measurement nor a scanner of "
                            f"station {station.id}",
                        )
                    )
        return problems


def _unknown_devices(section: str, used: list[str], device_ids: list[str]) -> list[Problem]:
    return [
        (
            (section, index, "device"),
            f"unknown device {device!r}; expected one of: {', '.join(dict.fromkeys(device_ids))}",
        )
        for index, device in enumerate(used)
        if device not in device_ids
    ]


def load_edge_config(path: Path) -> EdgeConfig:
    """The edge configuration in ``path``, or ConfigInvalid with every error.

    An SPC rule file it names is read too (relative to ``path``), and checked against it."""
    config, issues = check_edge_document(read_document(path))
    if config is None or issues:
        raise ConfigInvalid(issues)
    return config


def check_edge_document(doc: YamlDocument) -> tuple[EdgeConfig | None, list[ConfigIssue]]:
    """The configuration in ``doc`` (None if invalid) and every error in it, its rule file's
    included: the rule file is checked whenever the schema passed."""
    try:
        config = resolved(validate_document(doc, EdgeConfig), doc.path)
        issues: list[ConfigIssue] = []
    except ConfigInvalid as exc:
        issues = exc.issues
        try:
            config = resolved(EdgeConfig.model_validate(doc.data), doc.path)
        except ValidationError:
            return None, sorted(issues, key=lambda issue: issue.line)
        if config.spc is not None:
            issues += check_rule_file(doc, config.spc)[1]
        return None, sorted(issues, key=lambda issue: issue.line)
    if config.spc is None:
        return config, issues
    rules, issues = check_rule_file(doc, config.spc)
    if rules is None or issues:
        return None, issues
    return config.model_copy(update={"spc": config.spc.with_rules(rules)}), issues


def resolved(config: EdgeConfig, path: Path) -> EdgeConfig:
    """``config`` with the paths it names made relative to its file ``path``: the SPC rule
    file, an OPC UA client's certificate and key."""
    devices = [d.resolved(path) if isinstance(d, OpcUaConfig) else d for d in config.devices]
    update: dict[str, object] = {"devices": devices}
    if config.spc is not None:
        update["spc"] = config.spc.resolved(path)
    return config.model_copy(update=update)
