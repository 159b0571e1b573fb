"""Device drivers, one per module, registered in one explicit table."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from pydantic import Field

from drivers.errors import DeviceError, DeviceMisconfigured, DeviceUnavailable
from drivers.modbus_link import ModbusLink
from drivers.modbus_rtu import ModbusRtuConfig, ModbusRtuDriver
from drivers.modbus_tcp import ModbusTcpConfig, ModbusTcpDriver
from drivers.modbus_unit import ModbusUnitDriver, Table

DeviceConfig = Annotated[ModbusTcpConfig | ModbusRtuConfig, Field(discriminator="kind")]

DRIVERS: dict[str, type[ModbusTcpDriver] | type[ModbusRtuDriver]] = {
    "modbus_tcp": ModbusTcpDriver,
    "modbus_rtu": ModbusRtuDriver,
}


def open_driver(config: DeviceConfig) -> ModbusUnitDriver:
    """The driver for ``config`` on a link of its own, not yet entered."""
    driver_class: Any = DRIVERS[config.kind]
    return driver_class(config)  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def open_devices(
    configs: Sequence[DeviceConfig],
) -> AsyncIterator[dict[str, ModbusUnitDriver]]:
    """A driver per device, units on one physical link sharing it; all closed on exit."""
    by_link: dict[str, list[DeviceConfig]] = defaultdict(list)
    for config in configs:
        by_link[config.link_key()].append(config)
    drivers: dict[str, ModbusUnitDriver] = {}
    links: list[ModbusLink] = []
    for link_configs in by_link.values():
        driver_class: Any = DRIVERS[link_configs[0].kind]
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
    "DRIVERS",
    "DeviceConfig",
    "DeviceError",
    "DeviceMisconfigured",
    "DeviceUnavailable",
    "ModbusLink",
    "ModbusRtuConfig",
    "ModbusRtuDriver",
    "ModbusTcpConfig",
    "ModbusTcpDriver",
    "ModbusUnitDriver",
    "Table",
    "open_devices",
    "open_driver",
]
