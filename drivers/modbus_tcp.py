"""Modbus TCP devices (PLCs, gateways) on pymodbus 3.x: one link per host and port."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import Field
from pymodbus.client import AsyncModbusTcpClient

from contract.backoff import Backoff
from drivers.modbus_link import ModbusLink, link_backoff
from drivers.modbus_unit import ModbusUnitConfig, ModbusUnitDriver


class ModbusTcpConfig(ModbusUnitConfig):
    """One unit behind a Modbus TCP endpoint (a PLC, or a gateway to an RS-485 bus)."""

    kind: Literal["modbus_tcp"]
    host: str
    port: int = Field(default=502, ge=1, le=65535)

    def link_key(self) -> str:
        return f"tcp:{self.host}:{self.port}"


class ModbusTcpDriver(ModbusUnitDriver):
    """A Modbus TCP unit; every unit at the same host and port shares one connection."""

    config: ModbusTcpConfig

    @staticmethod
    def open_link(
        configs: Sequence[ModbusTcpConfig], *, backoff: Backoff | None = None
    ) -> ModbusLink:
        """The link the units of ``configs`` (one host and port) share."""
        first = configs[0]

        def make_client(trace_connect: Callable[[bool], None]) -> AsyncModbusTcpClient:
            return AsyncModbusTcpClient(
                first.host,
                port=first.port,
                timeout=max(c.timeout_s for c in configs),
                retries=0,  # retries are ours: busy answers only
                reconnect_delay=0,
                trace_connect=trace_connect,  # reconnection is ours, with our backoff
            )

        return ModbusLink(
            name=f"{first.host}:{first.port}",
            make_client=make_client,
            pause_s=max(c.pause_s for c in configs),
            remind_cap_s=min(c.backoff_cap_s for c in configs),
            backoff=link_backoff(backoff),
        )
