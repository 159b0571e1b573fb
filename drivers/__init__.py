"""Device drivers, one per module, registered in one explicit table."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Annotated, Protocol, Self

from pydantic import Field

from drivers.errors import DeviceError, DeviceMisconfigured, DeviceUnavailable
from drivers.modbus_tcp import ModbusTcpConfig, ModbusTcpDriver, Table
from drivers.serial_scanner import ScanEvent, SerialScannerConfig, SerialScannerDriver
from drivers.serial_station import (
    ButtonEvent,
    SerialButtonStationConfig,
    SerialButtonStationDriver,
)

AnyDeviceConfig = ModbusTcpConfig | SerialButtonStationConfig | SerialScannerConfig
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
    "serial_button_station": SerialButtonStationDriver,
    "serial_scanner": SerialScannerDriver,
}


def open_driver(config: AnyDeviceConfig) -> Driver:
    """The driver for ``config``, not yet entered."""
    return DRIVERS[config.kind](config)


__all__ = [
    "DRIVERS",
    "AnyDeviceConfig",
    "ButtonEvent",
    "DeviceConfig",
    "DeviceError",
    "DeviceMisconfigured",
    "DeviceUnavailable",
    "Driver",
    "ModbusTcpConfig",
    "ModbusTcpDriver",
    "ScanEvent",
    "SerialButtonStationConfig",
    "SerialButtonStationDriver",
    "SerialScannerConfig",
    "SerialScannerDriver",
    "Table",
    "open_driver",
]
