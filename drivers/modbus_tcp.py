"""Modbus TCP driver on pymodbus 3.x: coils, discrete inputs, holding and input registers."""

from __future__ import annotations

import logging
import time
from enum import StrEnum
from types import TracebackType
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from contract.backoff import Backoff
from drivers.config import DEVICE_ID_PATTERN
from drivers.errors import DeviceMisconfigured, DeviceUnavailable

log = logging.getLogger(__name__)


class Table(StrEnum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"


class ModbusTcpConfig(BaseModel):
    """Settings of one Modbus TCP device (a PLC or a gateway)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["modbus_tcp"]
    id: str = Field(pattern=DEVICE_ID_PATTERN)
    host: str
    port: int = Field(default=502, ge=1, le=65535)
    unit: int = Field(default=1, ge=0, le=255, description="Modbus unit (device) id")
    timeout_s: float = Field(default=1.0, gt=0)
    backoff_cap_s: float = Field(default=30.0, gt=0)


class ModbusTcpDriver:
    """An async context manager that reads and writes one Modbus TCP device.

    The connection is opened lazily and re-opened after a failure, no sooner than the
    backoff allows; while waiting, reads fail fast with DeviceUnavailable.
    """

    def __init__(self, config: ModbusTcpConfig, *, backoff: Backoff | None = None) -> None:
        self.config = config
        self._backoff = backoff or Backoff(cap=config.backoff_cap_s)
        self._client: AsyncModbusTcpClient | None = None
        self._retry_at = 0.0
        self._was_up = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._drop_client()

    async def read(self, table: Table, address: int, count: int = 1) -> list[int]:
        """Read ``count`` values; bits come back as 0/1."""
        client = await self._connected_client()
        unit = self.config.unit
        try:
            match table:
                case Table.COIL:
                    resp = await client.read_coils(address, count=count, device_id=unit)
                case Table.DISCRETE_INPUT:
                    resp = await client.read_discrete_inputs(address, count=count, device_id=unit)
                case Table.HOLDING_REGISTER:
                    resp = await client.read_holding_registers(address, count=count, device_id=unit)
                case Table.INPUT_REGISTER:
                    resp = await client.read_input_registers(address, count=count, device_id=unit)
        except (ModbusException, OSError) as exc:
            self._fail(str(exc))
            raise DeviceUnavailable(f"{self.config.id}: {exc}") from exc
        if resp.isError():
            raise DeviceMisconfigured(
                f"{self.config.id}: device refused to read {count} {table} at {address}: {resp}"
            )
        if table in (Table.COIL, Table.DISCRETE_INPUT):
            return [int(bit) for bit in resp.bits[:count]]
        return list(resp.registers[:count])

    async def write(self, table: Table, address: int, value: int) -> None:
        """Write one coil (0/1) or one holding register."""
        client = await self._connected_client()
        unit = self.config.unit
        try:
            if table is Table.COIL:
                resp = await client.write_coil(address, bool(value), device_id=unit)
            elif table is Table.HOLDING_REGISTER:
                resp = await client.write_register(address, value, device_id=unit)
            else:
                raise DeviceMisconfigured(f"{self.config.id}: {table} is read-only")
        except (ModbusException, OSError) as exc:
            self._fail(str(exc))
            raise DeviceUnavailable(f"{self.config.id}: {exc}") from exc
        if resp.isError():
            raise DeviceMisconfigured(
                f"{self.config.id}: device refused to write {table} at {address}: {resp}"
            )

    async def _connected_client(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        if time.monotonic() < self._retry_at:
            raise DeviceUnavailable(f"{self.config.id}: waiting to reconnect")
        self._drop_client()
        client = AsyncModbusTcpClient(
            self.config.host,
            port=self.config.port,
            timeout=self.config.timeout_s,
            retries=0,
            reconnect_delay=0,  # reconnection is ours, with our backoff
        )
        if not await client.connect():
            client.close()
            self._fail("connection refused or timed out")
            raise DeviceUnavailable(
                f"{self.config.id}: cannot connect to {self.config.host}:{self.config.port}"
            )
        self._client = client
        self._backoff.reset()
        if not self._was_up:
            log.info("device %s is up again", self.config.id)
        self._was_up = True
        return client

    def _fail(self, reason: str) -> None:
        self._drop_client()
        self._retry_at = time.monotonic() + self._backoff.next_delay()
        if self._was_up:
            log.warning("device %s is down: %s", self.config.id, reason)
        self._was_up = False

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
