"""What a Modbus TCP and a Modbus RTU device share: one unit id on a shared link.

A unit that stops answering is marked down and backed off (capped, jittered) while the
rest of its link keeps polling; reads of a down unit fail fast until its next retry.
"Busy" answers (exception 6) are retried; other refusals are wiring mistakes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from contract.backoff import Backoff
from drivers.config import DEVICE_ID_PATTERN
from drivers.errors import DeviceMisconfigured, DeviceUnavailable
from drivers.modbus_link import ModbusLink

log = logging.getLogger(__name__)

EXCEPTION_BUSY = 6
# Exceptions that mean the unit, not the request, is at fault: device failure and the
# gateway's "path unavailable" / "target failed to respond".
EXCEPTIONS_UNAVAILABLE = {4, 10, 11}


class Table(StrEnum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE_INPUT)


# The most one Modbus request may carry: 2000 bits or 125 registers.
PROTOCOL_MAX = {Table.COIL: 2000, Table.DISCRETE_INPUT: 2000}
PROTOCOL_MAX_REGISTERS = 125


class ModbusUnitConfig(BaseModel):
    """Settings every Modbus unit has, whatever link it is on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str  # each link's config narrows it to a Literal: the union's discriminator
    id: str = Field(pattern=DEVICE_ID_PATTERN)
    unit: int = Field(default=1, ge=0, le=255, description="Modbus unit (device) id")
    timeout_s: float = Field(default=1.0, gt=0)
    backoff_cap_s: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10, description="retries of a busy answer")
    max_registers: int = Field(default=125, ge=1, le=125, description="registers per request")
    max_bits: int = Field(default=2000, ge=1, le=2000, description="bits per request")
    max_gap: int = Field(default=8, ge=0, le=124, description="unused addresses one read may span")
    pause_s: float = Field(default=0.0, ge=0, le=10, description="pause between requests")

    def max_count(self, table: Table) -> int:
        return self.max_bits if table.is_bits else self.max_registers


class ModbusUnitDriver:
    """Reads and writes one unit id on a shared ``ModbusLink``."""

    config: ModbusUnitConfig

    def __init__(
        self,
        config: ModbusUnitConfig,
        link: ModbusLink | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.link = link or self.open_link([config], backoff=backoff)
        self.up = True
        self.reads = 0
        self._backoff = backoff or Backoff(
            initial=min(0.5, config.backoff_cap_s), cap=config.backoff_cap_s
        )
        self._retry_at = 0.0

    @staticmethod
    def open_link(configs: Sequence[Any], *, backoff: Backoff | None = None) -> ModbusLink:
        """The link the units of ``configs`` share; each kind of link has its own."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.link.close()

    async def read(self, table: Table, address: int, count: int = 1) -> list[int]:
        """Read ``count`` values; bits come back as 0/1."""
        function = _READS[table]
        resp = await self._request(
            lambda client: getattr(client, function)(
                address, count=count, device_id=self.config.unit
            ),
            f"read {count} {table} at {address}",
        )
        self.reads += 1
        if table.is_bits:
            return [int(bit) for bit in resp.bits[:count]]
        return list(resp.registers[:count])

    async def write(self, table: Table, address: int, value: int) -> None:
        """Write one coil (0/1) or one holding register."""
        unit = self.config.unit
        if table is Table.COIL:
            await self._request(
                lambda client: client.write_coil(address, bool(value), device_id=unit),
                f"write {table} at {address}",
            )
        elif table is Table.HOLDING_REGISTER:
            await self._request(
                lambda client: client.write_register(address, value, device_id=unit),
                f"write {table} at {address}",
            )
        else:
            raise DeviceMisconfigured(f"{self.config.id}: {table} is read-only")

    async def _request(self, request: Any, what: str) -> Any:
        if not self.up and time.monotonic() < self._retry_at:
            raise DeviceUnavailable(f"{self.config.id}: not answering; waiting to reconnect")
        deadline = self.config.timeout_s * 2 + 1.0
        for attempt in range(self.config.retries + 1):
            try:
                resp = await self.link.call(request, deadline_s=deadline)
            except DeviceUnavailable as exc:
                self._mark_down(str(exc))
                raise DeviceUnavailable(f"{self.config.id}: {exc}") from exc
            code = getattr(resp, "exception_code", 0) if resp.isError() else 0
            if code == EXCEPTION_BUSY and attempt < self.config.retries:
                await asyncio.sleep(self.config.timeout_s / 10)
                continue
            if code in EXCEPTIONS_UNAVAILABLE or code == EXCEPTION_BUSY:
                self._mark_down(f"exception {code}")
                raise DeviceUnavailable(f"{self.config.id}: {what}: exception {code}")
            self._mark_up()
            if resp.isError():
                raise DeviceMisconfigured(
                    f"{self.config.id}: device refused to {what}: exception {code}"
                )
            return resp
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _mark_down(self, reason: str) -> None:
        self._retry_at = time.monotonic() + self._backoff.next_delay()
        if self.up:
            log.warning("device %s is down: %s", self.config.id, reason)
        self.up = False

    def _mark_up(self) -> None:
        self._backoff.reset()
        if not self.up:
            log.info("device %s is up again", self.config.id)
        self.up = True


_READS = {
    Table.COIL: "read_coils",
    Table.DISCRETE_INPUT: "read_discrete_inputs",
    Table.HOLDING_REGISTER: "read_holding_registers",
    Table.INPUT_REGISTER: "read_input_registers",
}
