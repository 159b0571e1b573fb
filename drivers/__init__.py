"""Device drivers, one per module, registered in one explicit table."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from drivers.errors import DeviceError, DeviceMisconfigured, DeviceUnavailable
from drivers.modbus_tcp import ModbusTcpConfig, ModbusTcpDriver, Table

DeviceConfig = Annotated[ModbusTcpConfig, Field(discriminator="kind")]

DRIVERS: dict[str, type[ModbusTcpDriver]] = {
    "modbus_tcp": ModbusTcpDriver,
}


def open_driver(config: DeviceConfig) -> ModbusTcpDriver:
    """The driver for ``config``, not yet entered."""
    return DRIVERS[config.kind](config)


__all__ = [
    "DRIVERS",
    "DeviceConfig",
    "DeviceError",
    "DeviceMisconfigured",
    "DeviceUnavailable",
    "ModbusTcpConfig",
    "ModbusTcpDriver",
    "Table",
    "open_driver",
]
