"""Modbus RTU devices on an RS-485 or RS-232 serial port: one link per port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import Field
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.framer import FramerType

from contract.backoff import Backoff
from drivers.modbus_link import ModbusLink, link_backoff
from drivers.modbus_unit import ModbusUnitConfig, ModbusUnitDriver


class ModbusRtuConfig(ModbusUnitConfig):
    """One unit on a serial bus; units on the same ``port`` must agree on its settings."""

    kind: Literal["modbus_rtu"]
    port: str = Field(min_length=1, description="serial device, e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=19200, ge=300, le=921600)
    parity: Literal["N", "E", "O"] = "E"
    bytesize: Literal[7, 8] = 8
    stopbits: Literal[1, 2] = 1

    def link_key(self) -> str:
        return f"serial:{self.port}"

    def line_settings(self) -> tuple[int, str, int, int]:
        return (self.baudrate, self.parity, self.bytesize, self.stopbits)


class ModbusRtuDriver(ModbusUnitDriver):
    """A Modbus RTU unit; every unit on the same serial port shares it."""

    config: ModbusRtuConfig

    @staticmethod
    def open_link(
        configs: Sequence[ModbusRtuConfig], *, backoff: Backoff | None = None
    ) -> ModbusLink:
        """The link the units of ``configs`` (one serial port) share."""
        first = configs[0]

        def make_client(trace_connect: Callable[[bool], None]) -> AsyncModbusSerialClient:
            return AsyncModbusSerialClient(
                first.port,
                framer=FramerType.RTU,
                baudrate=first.baudrate,
                parity=first.parity,
                bytesize=first.bytesize,
                stopbits=first.stopbits,
                timeout=max(c.timeout_s for c in configs),
                retries=0,
                reconnect_delay=0,
                trace_connect=trace_connect,
            )

        return ModbusLink(
            name=first.port,
            make_client=make_client,
            pause_s=max(c.pause_s for c in configs),
            remind_cap_s=min(c.backoff_cap_s for c in configs),
            backoff=link_backoff(backoff),
        )
