"""Device drivers, one per module, registered in one explicit table."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Annotated, Any, Protocol, Self, TypeGuard

from pydantic import Field

from drivers.errors import DeviceError, DeviceMisconfigured, DeviceUnavailable
from drivers.logix_config import LogixConfig
from drivers.logix_config import address_problem as logix_address_problem
from drivers.modbus_link import ModbusLink
from drivers.modbus_rtu import ModbusRtuConfig, ModbusRtuDriver
from drivers.modbus_tcp import ModbusTcpConfig, ModbusTcpDriver
from drivers.modbus_unit import ModbusUnitDriver, Table
from drivers.opcua_config import OpcUaConfig, node_id_problem
from drivers.s7_config import S7Config
from drivers.s7_config import address_problem as s7_address_problem
from drivers.serial_scanner import ScanEvent, SerialScannerConfig, SerialScannerDriver
from drivers.serial_station import (
    ButtonEvent,
    SerialButtonStationConfig,
    SerialButtonStationDriver,
)
from drivers.tags import PolledTagDriver, TagDriver, Value

ModbusConfig = ModbusTcpConfig | ModbusRtuConfig
AnyDeviceConfig = (
    ModbusConfig
    | OpcUaConfig
    | S7Config
    | LogixConfig
    | SerialButtonStationConfig
    | SerialScannerConfig
)
DeviceConfig = Annotated[AnyDeviceConfig, Field(discriminator="kind")]


class Driver(Protocol):
    """What every driver offers: entered as an async context manager, then read.

    Drivers that push events (serial button stations, scanners) refuse ``read`` with
    DeviceMisconfigured and offer ``events()`` instead.
    """

    @property
    def config(self) -> AnyDeviceConfig: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def read(self, table: Table, address: int, count: int = 1) -> list[int]: ...


# Each driver class takes its own config class; the `kind` discriminator of DeviceConfig
# guarantees that the config looked up by kind is the one its driver expects.
DRIVERS: dict[str, Callable[..., Driver]] = {
    "modbus_tcp": ModbusTcpDriver,
    "modbus_rtu": ModbusRtuDriver,
    "serial_button_station": SerialButtonStationDriver,
    "serial_scanner": SerialScannerDriver,
}

# The drivers whose devices share a physical link: Modbus units on one bus or gateway.
LINKED_DRIVERS: dict[str, type[ModbusTcpDriver] | type[ModbusRtuDriver]] = {
    "modbus_tcp": ModbusTcpDriver,
    "modbus_rtu": ModbusRtuDriver,
}


# How each kind of device that is read by address spells its addresses: a check per kind
# returning why an address is not one of its own (None: it is). Kinds not listed take no
# address (serial devices name their buttons instead).
Address = int | str


def _modbus_address(address: Address) -> str | None:
    if isinstance(address, int) and 0 <= address <= 65535:
        return None
    return f"a Modbus address is a number, 0 to 65535; got {address!r}"


def _opcua_address(address: Address) -> str | None:
    if isinstance(address, str):
        return node_id_problem(address)
    return f'an OPC UA address is a NodeId string such as "ns=3;i={address}"; got {address!r}'


def _s7_address(address: Address) -> str | None:
    if isinstance(address, str):
        return s7_address_problem(address)
    return f'an S7 address is a string such as "DB10.DBX0.0" or "MW20"; got {address!r}'


def _logix_address(address: Address) -> str | None:
    if isinstance(address, str):
        return logix_address_problem(address)
    return f'a Logix address is a tag name such as "St10_Maint" or "Flags.5"; got {address!r}'


ADDRESS_SYNTAX: dict[str, Callable[[Address], str | None]] = {
    "modbus_tcp": _modbus_address,
    "modbus_rtu": _modbus_address,
    "opcua": _opcua_address,
    "s7": _s7_address,
    "logix": _logix_address,
}

# The kinds whose inputs arrive as changes (subscriptions), not by polling.
SUBSCRIBED_KINDS = frozenset({"opcua"})
# The kinds read by address strings and polled: a ``TagPoller`` each (``edge.tag_polling``).
POLLED_TAG_KINDS = frozenset({"s7", "logix"})


# The configurations of those kinds.
PolledTagConfig = S7Config | LogixConfig


def is_tag_polled(config: AnyDeviceConfig) -> TypeGuard[PolledTagConfig]:
    """Whether the edge polls this device by address strings (``edge.tag_polling``)."""
    return config.kind in POLLED_TAG_KINDS


def open_tag_driver(
    config: PolledTagConfig, types: Mapping[str, tuple[str, int | None]]
) -> PolledTagDriver:
    """The driver of a polled device read by address strings, not yet connected; ``types``
    gives the type (and a string's length) the configuration gives some addresses.

    Imported here, on use, so that checking a file does not load the device's library."""
    if isinstance(config, LogixConfig):
        from drivers.logix import LogixDriver

        return LogixDriver(config, types)
    from drivers.s7 import S7Driver

    return S7Driver(config, types)


def open_driver(config: AnyDeviceConfig) -> Driver:
    """The driver for ``config`` (a Modbus unit on a link of its own), not yet entered.

    An OPC UA server's driver is ``drivers.opcua.OpcUaDriver``: the edge opens it for its
    subscriptions (imported there, so that checking a file does not load the OPC UA stack)."""
    return DRIVERS[config.kind](config)


def is_polled(config: AnyDeviceConfig) -> bool:
    """Whether the agent polls this device (Modbus) rather than listens to it (serial)."""
    return config.kind in LINKED_DRIVERS


@contextlib.asynccontextmanager
async def open_devices(
    configs: Sequence[AnyDeviceConfig],
) -> AsyncIterator[dict[str, ModbusUnitDriver]]:
    """A driver per Modbus device of ``configs`` (others are skipped), units on one
    physical link sharing it; every link is closed on exit."""
    by_link: dict[str, list[ModbusConfig]] = defaultdict(list)
    for config in configs:
        if isinstance(config, ModbusTcpConfig | ModbusRtuConfig):
            by_link[config.link_key()].append(config)
    drivers: dict[str, ModbusUnitDriver] = {}
    links: list[ModbusLink] = []
    for link_configs in by_link.values():
        driver_class: Any = LINKED_DRIVERS[link_configs[0].kind]
        link = driver_class.open_link(link_configs)
        links.append(link)
        for config in link_configs:
            drivers[config.id] = driver_class(config, link)
    try:
        yield drivers
    finally:
        for link in links:
            link.close()


__all__ = [
    "ADDRESS_SYNTAX",
    "DRIVERS",
    "LINKED_DRIVERS",
    "POLLED_TAG_KINDS",
    "SUBSCRIBED_KINDS",
    "Address",
    "AnyDeviceConfig",
    "ButtonEvent",
    "DeviceConfig",
    "DeviceError",
    "DeviceMisconfigured",
    "DeviceUnavailable",
    "Driver",
    "LogixConfig",
    "ModbusConfig",
    "ModbusLink",
    "ModbusRtuConfig",
    "ModbusRtuDriver",
    "ModbusTcpConfig",
    "ModbusTcpDriver",
    "ModbusUnitDriver",
    "OpcUaConfig",
    "PolledTagConfig",
    "PolledTagDriver",
    "S7Config",
    "ScanEvent",
    "SerialButtonStationConfig",
    "SerialButtonStationDriver",
    "SerialScannerConfig",
    "SerialScannerDriver",
    "Table",
    "TagDriver",
    "Value",
    "is_polled",
    "is_tag_polled",
    "node_id_problem",
    "open_devices",
    "open_driver",
    "open_tag_driver",
]
